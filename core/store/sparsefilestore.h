#pragma once
// SparseFileStore: the ChunkStore of one cache entry (layout in cachepaths.h): a sparse `data`
// file of the object's logical size, `meta.json`, and the coverage `journal` (journal.h).
// The entry is locked for the store's lifetime (objectlock.h).

#include "chunkstore.h"
#include "checksumtable.h"
#include "objectlock.h"
#include "objectmeta.h"
#include "writerpreferringmutex.h"

#include <QMutex>
#include <QStringList>

#include <memory>
#include <vector>

namespace sparsescope {

class SparseFileStore final : public ChunkStore {
public:
    // (I/O) Opens or creates the entry in `directory` for an object described by `want`
    // (source, size, validator; want.chunkSize is used only when the entry is new).
    // If the entry describes another size or validator, the object changed upstream: its data is
    // dropped and a warning says so. A torn journal tail, a missing or resized data file and
    // chunks that lie in holes of the data file (SEEK_HOLE, lseek(2)) are dropped with a warning.
    // Waits up to lockWaitMs for another process holding the entry.
    // Errors: LocalIo (permissions, disk, lock held by another process).
    static Result<std::unique_ptr<SparseFileStore>> open(const QString &directory, const ObjectMeta &want, int lockWaitMs);

    // (I/O) Reads an entry without locking or changing it (for `status`): meta, coverage and
    // allocation. A torn tail is ignored, not repaired.
    struct Inspection {
        ObjectMeta meta;
        ChunkBitmap present;
        qint64 presentBytes = 0;
        qint64 allocatedBytes = 0;
    };
    static Result<Inspection> inspect(const QString &directory);

    // (I/O) Every entry under `cacheDir` that can be inspected, sorted by source; entries that
    // cannot be read are reported in `warnings` and skipped.
    struct Listed {
        QString directory;
        Inspection inspection;
    };
    static QList<Listed> listEntries(const QString &cacheDir, QStringList *warnings);

    // (I/O) Deletes the entry in `directory`: waits for its lock (up to lockWaitMs), renames it
    // out of the way so no one opens it half-deleted, then removes it. Errors: LocalIo.
    static Status removeEntry(const QString &directory, int lockWaitMs);

    ~SparseFileStore() override;

    QStringList openWarnings() const { return m_warnings; }
    const ObjectMeta &meta() const { return m_meta; }

    ChunkGeometry geometry() const override;
    QString validator() const override;
    QString location() const override { return m_dir; }
    bool isPresent(qint64 chunk) const override;
    qint64 countPresent(qint64 first, qint64 last) const override;
    ChunkBitmap presentChunks() const override;
    QList<std::pair<qint64, qint64>> presentRuns(qint64 first, qint64 last) const override;
    qint64 presentBytes() const override;
    qint64 allocatedBytes() const override;
    Status writeChunk(qint64 index, QByteArrayView bytes) override;
    Result<QByteArray> read(ByteRange range) const override;
    Status copyPresentTo(int fd, ByteRange range, bool requireAll) const override;
    Status copyRun(int fd, ByteRange span) const;
    Status commit() override;
    Result<qint64> evict(qint64 first, qint64 last) override;
    Result<VerifyReport> verify() override;
    Status reset(qint64 newSize, const QString &newValidator) override;

private:
    SparseFileStore() = default;
    Status initialize(const ObjectMeta &want);
    Status dropChunksInHoles();
    Status appendRecords(const QByteArray &records);
    Status punchHoles(qint64 first, qint64 last);
    qint64 presentBytesLocked() const;
    QString dataPath() const { return m_dir + QStringLiteral("/data"); }
    QString journalPath() const { return m_dir + QStringLiteral("/journal"); }
    QString metaPath() const { return m_dir + QStringLiteral("/meta.json"); }

    QString m_dir;
    ObjectLock m_lock;
    ObjectMeta m_meta;
    QStringList m_warnings;
    int m_dataFd = -1;
    int m_journalFd = -1;

    // Lock order: m_journalMutex, then m_dataLock, then m_stateLock.
    QMutex m_journalMutex;              // journal appends, commits, evictions, resets
    // Chunk writes hold it shared from their pwrite until the chunk is marked present; evictions
    // and resets hold it exclusively from dropping chunks until their bytes are discarded. Without
    // it, a chunk fetched again right after an eviction dropped it could be marked present and
    // then have its new bytes punched out (found by the model-based test, tst_model).
    WriterPreferringMutex m_dataLock;
    mutable WriterPreferringMutex m_stateLock; // m_present, m_checksums, m_pending; readers hold it across pread
    ChunkGeometry m_geometry;
    ChunkBitmap m_present;
    ChecksumTable m_checksums;
    struct Pending { qint64 chunk; quint64 checksum; };
    std::vector<Pending> m_pending; // written, not yet durable
    bool m_failed = false;          // an fsync failed: no more writes
    QString m_failure;
};

} // namespace sparsescope
