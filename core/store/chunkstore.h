#pragma once
// ChunkStore: where an object's present chunks live, and the authority on which chunks are present.
//
// Thread affinity: every method is thread-safe. Methods marked (I/O) touch the disk and must run
// on a worker thread (the engine's QThreadPool), never on the GUI thread; the others only take a
// short in-memory lock.
//
// Presence has two levels. writeChunk() makes a chunk *present in memory* (readable at once);
// commit() makes written chunks *durable*: it fdatasyncs the data, then appends their journal
// records. Only durable chunks are seen by other processes and survive a crash.

#include "byterange.h"
#include "chunkbitmap.h"
#include "chunkgeometry.h"
#include "result.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

namespace sparsescope {

// What other processes did to the entry since the last look (ChunkStore::refresh).
struct ForeignChanges {
    QList<std::pair<qint64, qint64>> present; // chunk runs another process stored
    QList<std::pair<qint64, qint64>> evicted; // chunk runs another process dropped
    QList<std::pair<qint64, qint64>> packed;  // chunks another process moved into the packs (still present)
    bool reset = false;                       // another process reset the entry (changed upstream)
    bool removed = false;                     // another process removed the entry from the cache
    bool isEmpty() const { return present.isEmpty() && evicted.isEmpty() && packed.isEmpty() && !reset && !removed; }
};

// The answer to a claim (ChunkStore::claim) on a span of missing chunks.
struct ClaimResult {
    QList<std::pair<qint64, qint64>> claimed; // this store's to fetch
    QList<std::pair<qint64, qint64>> present; // stored meanwhile by another process: nothing to fetch
    // Everything else of the span is being fetched by another process.
};

struct VerifyReport {
    qint64 checkedChunks = 0;
    QList<qint64> badChunks; // dropped from coverage (and their blocks freed)
};

class ChunkStore {
public:
    virtual ~ChunkStore() = default;

    virtual ChunkGeometry geometry() const = 0;
    virtual QString validator() const = 0;
    virtual QString location() const = 0; // cache path of the entry, for people

    virtual bool isPresent(qint64 chunk) const = 0;
    virtual qint64 countPresent(qint64 first, qint64 last) const = 0; // inclusive span of chunks
    virtual ChunkBitmap presentChunks() const = 0;                     // snapshot
    // Maximal runs [first, last] of present chunks within the inclusive span [first, last].
    virtual QList<std::pair<qint64, qint64>> presentRuns(qint64 first, qint64 last) const = 0;
    virtual qint64 presentBytes() const = 0;
    virtual qint64 allocatedBytes() const = 0; // disk blocks of the data file, in bytes (I/O: fstat)

    // (I/O) Writes one whole chunk (bytes.size() == geometry().chunkRange(index).length()),
    // hashes it (XXH3-64) and marks it present in memory. Errors: LocalIo (ENOSPC, EIO, ...) —
    // then the chunk stays missing and any blocks it allocated are freed again.
    virtual Status writeChunk(qint64 index, QByteArrayView bytes) = 0;
    // (I/O) Reads `range`, all of whose chunks must be present. Errors: Integrity if a chunk is not
    // present (e.g. evicted meanwhile) or the data file is short; LocalIo on read errors.
    virtual Result<QByteArray> read(ByteRange range) const = 0;
    // (I/O) Copies the present bytes of `range` into `fd` at the same offsets (missing bytes are
    // not written, so they stay holes in a sparse target). With requireAll, every chunk must be
    // present when it is copied. Works in blocks of 64 MiB, each under the read lock, so an
    // eviction can never interleave with the copy of a block. Errors: LocalIo, Integrity.
    virtual Status copyPresentTo(int fd, ByteRange range, bool requireAll) const = 0;
    // (I/O) Group commit: fdatasync the data file, then append and fsync the journal records of
    // every chunk written since the last commit. An fsync failure is fatal for this store: later
    // writes and commits fail. Errors: LocalIo.
    virtual Status commit() = 0;
    // (I/O) Drops chunks [first, last]: the Evict record is made durable first, then the blocks
    // are freed with fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) (fallocate(2)).
    // Returns the number of present bytes dropped. Errors: LocalIo.
    virtual Result<qint64> evict(qint64 first, qint64 last) = 0;
    // (I/O) Re-hashes every present chunk and drops those whose bytes no longer match.
    virtual Result<VerifyReport> verify() = 0;
    // (I/O) Drops everything and adopts a new size and validator (the object changed upstream).
    virtual Status reset(qint64 newSize, const QString &newValidator) = 0;

    // Sharing an entry with other processes (claimtable.h). A store that is not shared claims
    // everything and never sees foreign changes: these defaults.
    // Claims missing chunks [first, last] for fetching, without waiting. Cheap (fcntl(2) locks and,
    // when the journal grew, a read of its new records from the page cache). Errors: LocalIo.
    virtual Result<ClaimResult> claim(qint64 first, qint64 last) { return ClaimResult{{{first, last}}, {}}; }
    // Gives up claims that will not be committed (the fetch failed or nobody wants it any more).
    // Commits release the claims of the chunks they make durable.
    virtual void releaseClaims(qint64 first, qint64 last) { (void)first; (void)last; }
    // (I/O) Reads the journal records other processes appended since the last look and applies
    // them: their stored chunks become present, their evictions drop chunks. Errors: LocalIo.
    virtual Result<ForeignChanges> refresh() { return ForeignChanges{}; }
};

} // namespace sparsescope
