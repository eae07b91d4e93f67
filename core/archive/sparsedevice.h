#pragma once
// SparseDevice: blocking positional reads of a SparseObject, for archive libraries (libzip,
// libarchive) whose callbacks are synchronous. Reads go through the engine (so they fetch what is
// missing, deduplicated, and count as reads), and are widened to whole chunks — the engine fetches
// whole chunks anyway, so the widening costs no upstream byte and saves round trips.
//
// Read-ahead, so that sequential work runs at line speed instead of one chunk GET at a time:
// with a plan (setReadAheadPlan: the byte ranges an extraction will read, in order), prefetches
// of the plan are kept up to 32 MiB ahead of the reader; without one, a reader that keeps reading
// where it stopped (a tar walk over small entries, a streaming member, an application reading a
// file through) gets a window that doubles from one chunk up to 64 MiB, topped up when half of it
// is read — one request at a time, in order, the next when the running one is nearly used — and
// a jump resets it. Read-ahead is a prefetch: the engine fetches each chunk once, and a read of a
// chunk in flight joins it.
//
// Thread affinity: use it from ONE worker thread that is not the object's thread (it blocks until
// the object's thread has served the read). The object must outlive the device.

#include "byterange.h"
#include "result.h"

#include <QByteArray>
#include <QList>

#include <atomic>
#include <memory>

namespace sparsescope {

class SparseObject;

class SparseDevice {
public:
    explicit SparseDevice(SparseObject *object);

    qint64 size() const { return m_size; }
    qint64 chunkSize() const { return m_chunkSize; } // bytes; read() of a whole chunk shares its buffer
    QString name() const { return m_name; }
    QString validator() const { return m_validator; }
    QString entryDirectory() const { return m_entryDirectory; } // the object's cache entry
    // The ranges the reader will read next, in increasing order (replaces any earlier plan).
    void setReadAheadPlan(QList<ByteRange> plan);
    // Exactly `range` (within the object). Errors: those of SparseObject::read, and Cancelled.
    Result<QByteArray> read(ByteRange range);
    // `range` if every chunk of it is in the cache (read without a trip upstream), else nullopt.
    std::optional<Result<QByteArray>> readIfPresent(ByteRange range) const;
    // Up to `maxBytes` from `offset`, never crossing the end of the chunk that holds `offset`
    // (so that a streaming reader fetches no chunk it does not step into). Empty at the end.
    Result<QByteArray> readSome(qint64 offset, qint64 maxBytes);
    // Any thread: later reads, and a read waiting now (within 20 ms), fail with Cancelled.
    void cancel() { m_cancelled = true; }
    void resume() { m_cancelled = false; } // the worker thread, before its next task

private:
    Result<QByteArray> fetch(ByteRange range);
    void readAhead(ByteRange window);
    // `running`, if given, counts the prefetch until it is done (stored or failed).
    void prefetch(QList<ByteRange> ranges, std::shared_ptr<std::atomic<int>> running = nullptr);

    SparseObject *m_object;
    qint64 m_size = 0;
    qint64 m_chunkSize = 1;
    QString m_name;
    QString m_validator;
    QString m_entryDirectory;
    QList<ByteRange> m_plan;      // read-ahead plan, sorted
    qint64 m_planIssuedTo = 0;    // plan bytes before this offset were already prefetched
    qint64 m_sequentialEnd = -1;  // where the last read ended (no plan)
    qint64 m_window = 0;          // current sequential read-ahead window (no plan)
    qint64 m_aheadIssuedTo = 0;   // sequential read-ahead issued up to here
    bool m_caughtUp = false;      // the last read waited for bytes (the window was too small)
    // Sequential read-ahead requests not yet done (counted down on the object's thread).
    std::shared_ptr<std::atomic<int>> m_aheadRunning = std::make_shared<std::atomic<int>>(0);
    ByteRange m_cached; // chunk-aligned window last fetched
    QByteArray m_cache;
    std::atomic<bool> m_cancelled{false};
};

} // namespace sparsescope
