#pragma once
// PackStore: the packed chunks of one cache directory — content-addressed (SHA-256), stored once
// however many entries hold them, compressed where it pays (chunkcodec.h) — as one process reads
// them.
//
//   <cache>/packs/index.sqlite   the index (packindex.h), WAL mode
//   <cache>/packs/pack-<id>      pack files: stored contents back to back, never rewritten in
//                                place (repack writes a new pack and deletes the old one)
//   <cache>/packs/lock           flock(2) target: one packer or repacker at a time (packwriter.h)
//
// A pack file's bytes never change under its name and ids are never reused, so a location read
// from the index stays right for as long as the file can be opened; a reader whose pack was
// repacked away looks the chunk up again. Open pack files whose name was deleted are closed
// within a few seconds so that their disk space comes back.
//
// Thread affinity: any thread; methods marked (I/O) read files and the index and must not run on
// the GUI thread. One PackStore per cache directory per process (forCache).

#include "framecache.h"
#include "packindex.h"
#include "writerpreferringmutex.h"
#include "result.h"

#include <QElapsedTimer>
#include <QHash>
#include <QMutex>
#include <QString>

#include <atomic>
#include <memory>

namespace sparsescope {

class PackStore {
public:
    // The process-wide PackStore of `cacheDir` (created on first use; cheap: the index is opened on
    // the first read).
    static std::shared_ptr<PackStore> forCache(const QString &cacheDir);
    static QString packsDirectory(const QString &cacheDir);
    static QString packPath(const QString &cacheDir, qint64 pack);
    // (I/O) Disk blocks of those of `packs` whose files exist, bytes (stat(2) st_blocks × 512);
    // `files`, if set, counts them.
    static qint64 packFilesDiskBytes(const QString &cacheDir, const QList<PackIndex::Pack> &packs, qint64 *files = nullptr);

    ~PackStore();
    QString cacheDir() const { return m_cacheDir; }

    // (I/O) Reads `length` bytes at `offset` into chunk `chunk` of entry `object` (its directory
    // name) into `out`. `checksum` is the chunk's XXH3-64 from the entry's journal: it keys this
    // process's cache of locations, so a chunk packed again with other content is never served
    // from an old location. A compressed chunk decompresses only the frames the range touches
    // (each verified by its zstd checksum), and keeps them decompressed (framecache.h: up to 1/32
    // of physical memory by default, most recently used kept). Error messages name the pack, not the object:
    // the caller adds which object and range. Errors: Integrity (no index row: the chunk was
    // evicted or repacked away meanwhile; damaged frame; unreadable pack), LocalIo (the index).
    Status read(const QString &object, qint64 chunk, quint64 checksum, qint64 offset, char *out, qint64 length);
    // (I/O) The location of a packed chunk, from the index (no cache). Errors: as read().
    Result<BlobLocation> locate(const QString &object, qint64 chunk);
    // (I/O) Reads and decodes a whole stored content from its pack file (nothing cached).
    // Errors: as read().
    Result<QByteArray> readBlob(const BlobLocation &b, const QString &what);
    // (I/O) Marks a content damaged (verify): the next pack stores a good copy in its place.
    Status markBad(const QByteArray &hash);
    // What the packs hold (status). (I/O) Errors: LocalIo.
    struct Stats {
        PackIndex::Totals totals;
        qint64 packFiles = 0;
        qint64 packFileBytes = 0; // disk blocks of the pack files and the index, bytes
        QHash<QString, qint64> storedBytesByObject;
    };
    static Result<Stats> stats(const QString &cacheDir);
    // Drops cached locations and decompressed frames (after a repack in this process).
    void forget();

private:
    explicit PackStore(QString cacheDir);
    Status openIndexLocked(); // m_indexMutex held
    struct PackFile {
        int fd = -1;
        ~PackFile();
    };
    Result<std::shared_ptr<PackFile>> packFileLocked(qint64 pack); // m_lock held for writing
    void closeDeletedPacks();
    // useFrameCache false: every frame is read and decompressed from the pack file (verify).
    Status readFrom(const BlobLocation &b, std::shared_ptr<PackFile> file, qint64 offset, char *out, qint64 length,
                    const QString &what, bool useFrameCache = true);

    QString m_cacheDir;
    QMutex m_indexMutex; // m_index (one SQLite connection, used by one thread at a time)
    std::unique_ptr<PackIndex> m_index;
    WriterPreferringMutex m_lock; // m_files, m_locations (pthreads: ThreadSanitizer follows it, not QReadWriteLock)
    QHash<qint64, std::shared_ptr<PackFile>> m_files; // open pack files (readers keep theirs across a close)
    std::atomic<qint64> m_nextCheckMs{0}; // steady clock ms of the next look for deleted packs
    struct LocationKey {
        QString object;
        qint64 chunk;
        quint64 checksum;
        bool operator==(const LocationKey &) const = default;
    };
    // The checksum is as good as a hash already; the object is compared, not hashed.
    friend size_t qHash(const LocationKey &k, size_t seed) { return qHashMulti(seed, k.chunk, k.checksum); }
    struct Cached {
        BlobLocation where;
        std::shared_ptr<PackFile> file; // null for an all-zero chunk
    };
    QHash<LocationKey, std::shared_ptr<const Cached>> m_locations;
    // The location of a packed chunk with its open pack file, looked up and cached if needed.
    Result<std::shared_ptr<const Cached>> cachedLocation(const LocationKey &key);
    FrameCache m_frames{FrameCache::configuredBytes()}; // decompressed frames
};

} // namespace sparsescope
