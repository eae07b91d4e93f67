#pragma once
// PackIndex: the SQLite index of a cache's packs (`<cache>/packs/index.sqlite`, WAL mode so that
// readers in any number of processes go on while the one packer writes; https://sqlite.org/wal.html).
//
//   packs(id INTEGER PRIMARY KEY AUTOINCREMENT, bytes)   pack file `pack-<id>`; `bytes` committed
//                                                        (AUTOINCREMENT: an id is never reused, so a
//                                                        pack file's bytes never change under a name)
//   blobs(hash PRIMARY KEY, kind, pack, offset, length, size, frames, bad)
//                                                        stored chunk contents by SHA-256: kind 0 raw,
//                                                        1 zstd frames (frames: u32 LE lengths), 2 all
//                                                        zeros (no bytes); size = bytes of the chunk;
//                                                        bad = verify found it damaged
//   chunks(object, chunk, hash, PRIMARY KEY(object, chunk))
//                                                        which content each packed chunk of each entry
//                                                        (object = entry directory name) has
//
// A chunks row is used only while the entry's journal says the chunk is packed (journal.h: the
// Packed record is appended after the row is durable), so rows of evicted or removed chunks are
// harmless until repack deletes them.
//
// Thread affinity: one PackIndex per thread at a time (callers serialize); every method does I/O.

#include "chunkcodec.h"
#include "result.h"
#include "sqlitedb.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QString>

#include <functional>
#include <memory>
#include <optional>

namespace sparsescope {

struct BlobLocation {
    chunkcodec::Encoded::Kind kind = chunkcodec::Encoded::Kind::Raw;
    QByteArray hash;
    qint64 pack = 0;   // 0 for an all-zero chunk
    qint64 offset = 0; // bytes into the pack file
    qint64 length = 0; // bytes in the pack file
    qint64 size = 0;   // bytes of the chunk
    QList<quint32> frames;
    bool bad = false;
};

struct PackedChunkRow {
    QString object;
    qint64 chunk = 0;
    QByteArray hash;
};

class PackIndex {
public:
    // (I/O) Opens the index; with `create`, creates the file and its tables when missing. Errors:
    // LocalIo (naming the file and SQLite's message); with !create, a missing file is LocalIo too.
    static Result<std::unique_ptr<PackIndex>> open(const QString &path, bool create);

    // Where chunk `chunk` of entry `object` is stored; nullopt when it has no row. Errors: LocalIo.
    Result<std::optional<BlobLocation>> locate(const QString &object, qint64 chunk);
    Result<std::optional<BlobLocation>> blob(const QByteArray &hash);

    // Writes, each inside transaction(): `work` runs between BEGIN IMMEDIATE and COMMIT (durable
    // on return: synchronous=FULL); if it or the commit fails, everything it did is rolled back.
    Status transaction(const std::function<Status()> &work);
    Status putBlob(const BlobLocation &b);
    Status putChunk(const QString &object, qint64 chunk, const QByteArray &hash);
    Status setPackBytes(qint64 pack, qint64 bytes);
    Result<qint64> addPack(); // a new pack id (its row with 0 bytes)
    Status removePack(qint64 pack);
    Status markBad(const QByteArray &hash);
    Status deleteChunks(const QString &object, const QList<qint64> &chunks); // empty list: every chunk of object
    Status deleteBlob(const QByteArray &hash);

    struct Pack {
        qint64 id = 0;
        qint64 bytes = 0;
    };
    Result<QList<Pack>> packs();
    Result<QStringList> objects();                    // entries with chunk rows
    Result<QList<PackedChunkRow>> chunksOf(const QString &object);
    Result<QList<BlobLocation>> blobsIn(qint64 pack); // ordered by offset
    Result<QList<BlobLocation>> unreferencedBlobs();
    Result<QHash<qint64, qint64>> liveBytesByPack(); // pack -> bytes of its contents some chunk uses
    Result<QList<BlobLocation>> allBlobs();

    struct Totals {
        qint64 chunkRows = 0;     // packed chunks, counted per object
        qint64 logicalBytes = 0;  // their bytes
        qint64 blobs = 0;         // distinct contents
        qint64 blobBytes = 0;     // distinct contents' bytes (uncompressed)
        qint64 storedBytes = 0;   // bytes they take in pack files
    };
    Result<Totals> totals();
    // Pack bytes per object, each blob's stored length shared out among the chunks that use it.
    Result<QHash<QString, qint64>> storedBytesByObject();

private:
    Status begin();
    Status commit();
    void rollback();
    Status step(SqliteStatement &st, const char *what);
    Error failure(const char *what) const;
    QString m_path;
    SqliteDb m_db;
    SqliteStatement m_locate, m_blob, m_putBlob, m_putChunk;
};

} // namespace sparsescope
