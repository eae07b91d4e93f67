#pragma once
// SparseDevice: blocking positional reads of a SparseObject, for archive libraries (libzip,
// libarchive) whose callbacks are synchronous. Reads go through the engine (so they fetch what is
// missing, deduplicated, and count as reads), and are widened to whole chunks — the engine fetches
// whole chunks anyway, so the widening costs no upstream byte and saves round trips.
//
// Thread affinity: use it from ONE worker thread that is not the object's thread (it blocks until
// the object's thread has served the read). The object must outlive the device.

#include "byterange.h"
#include "result.h"

#include <QByteArray>

#include <atomic>

namespace sparsescope {

class SparseObject;

class SparseDevice {
public:
    explicit SparseDevice(SparseObject *object);

    qint64 size() const { return m_size; }
    QString name() const { return m_name; }
    // Exactly `range` (within the object). Errors: those of SparseObject::read, and Cancelled.
    Result<QByteArray> read(ByteRange range);
    // Up to `maxBytes` from `offset`, never crossing the end of the chunk that holds `offset`
    // (so that a streaming reader fetches no chunk it does not step into). Empty at the end.
    Result<QByteArray> readSome(qint64 offset, qint64 maxBytes);
    void cancel() { m_cancelled = true; } // any thread: later reads fail with Cancelled
    void resume() { m_cancelled = false; } // the worker thread, before its next task

private:
    Result<QByteArray> fetch(ByteRange range);

    SparseObject *m_object;
    qint64 m_size = 0;
    qint64 m_chunkSize = 1;
    QString m_name;
    ByteRange m_cached; // chunk-aligned window last fetched
    QByteArray m_cache;
    std::atomic<bool> m_cancelled{false};
};

} // namespace sparsescope
