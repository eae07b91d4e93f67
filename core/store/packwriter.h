#pragma once
// PackWriter: the one packer of a cache directory at a time (packstore.h for the layout). It
// stores chunk contents in pack files and records them in the index; it also repacks (rewrites
// packs without contents no entry uses any more) and verifies every stored content.
//
// Crash safety (the disk-objectstore order): contents are appended to the pack, the pack is
// fdatasync'd, then the index rows commit (SQLite WAL, synchronous=FULL). Only after commit()
// may a caller record the chunks Packed in their journals and punch the loose copies out; a
// repack deletes an old pack only after the index points every content elsewhere. A crash
// leaves at most unreferenced bytes at a pack's tail, which the next packer truncates away.
//
// Thread affinity: one thread at a time; every method does I/O (never the GUI thread).

#include "objectlock.h"
#include "packindex.h"
#include "result.h"

#include <QByteArrayView>
#include <QSet>
#include <QString>

#include <functional>
#include <memory>

namespace sparsescope {

class CacheBudget;

class PackWriter {
public:
    static constexpr qint64 kMaxPackBytes = qint64(1) << 30; // a pack past this size is closed

    // (I/O) Takes `<cache>/packs/lock` exclusively (flock(2)), waiting up to waitMs for another
    // packer (`waiting`, if set, is told at once), then opens or creates the index and the pack
    // to append to. Errors: LocalIo (the lock is still held after waitMs, naming its holder; the
    // directory or index cannot be written).
    // The pack files' growth is accounted to the cache's budget but never starts an eviction pass:
    // packing gives back more than it takes once each batch's loose copies are punched (the
    // cache may pass max-size by one batch, 16 MiB, meanwhile), and the budget's own pass repacks.
    static Result<std::unique_ptr<PackWriter>> begin(const QString &cacheDir, int waitMs,
                                                     const std::function<void(const QString &)> &waiting = {});
    ~PackWriter();

    // (I/O) Stages chunk `chunk` of entry `object` (its directory name) with content `bytes`:
    // appended to the pack unless the index or this batch holds the same content already (by
    // SHA-256; a content marked bad is stored again). Returns the bytes appended to the pack
    // (0 for a duplicate or an all-zero chunk). Errors: LocalIo.
    Result<qint64> add(const QString &object, qint64 chunk, QByteArrayView bytes);
    // (I/O) Makes everything staged durable: fdatasync(2) of the pack, then one index commit.
    // Errors: LocalIo (then nothing staged is recorded; the next packer truncates the tail).
    Status commit();
    qint64 stagedChunks() const { return m_rows.size(); }

    struct RepackReport {
        qint64 forgottenChunks = 0;  // index rows of chunks no entry holds packed any more
        qint64 droppedContents = 0;  // contents no chunk uses
        qint64 rewrittenPacks = 0;
        qint64 bytesBefore = 0;      // pack files' disk use before and after, bytes
        qint64 bytesAfter = 0;
    };
    // (I/O) Forgets index rows whose chunk its entry's journal no longer records packed (evicted,
    // reset or removed), then rewrites each pack holding contents nothing uses into the current
    // pack and deletes it. `progress` (done, total packs) may be called. Errors: LocalIo.
    Result<RepackReport> repack(const std::function<void(qint64, qint64)> &progress = {});
    // (I/O) Re-reads every stored content and checks its SHA-256; marks the damaged ones bad and
    // returns their hashes. Errors: LocalIo.
    Result<QList<QByteArray>> verifyContents(const std::function<void(qint64, qint64)> &progress = {});

private:
    PackWriter() = default;
    Status openCurrentPack();
    Status startNewPack();
    Status appendToPack(QByteArrayView data, qint64 *offset);
    qint64 packFileBytes() const;

    QString m_cacheDir;
    ObjectLock m_lock;
    std::unique_ptr<PackIndex> m_index;
    std::shared_ptr<CacheBudget> m_budget;
    qint64 m_pack = 0;       // the pack appended to
    int m_packFd = -1;
    qint64 m_packEnd = 0;    // its bytes, staged ones included
    QList<int> m_closedFds;  // packs closed in this batch: synced at commit
    QList<BlobLocation> m_blobs; // staged
    struct Row {
        QString object;
        qint64 chunk;
        QByteArray hash;
    };
    QList<Row> m_rows;
    QSet<QByteArray> m_stagedHashes;
};

} // namespace sparsescope
