#pragma once
// Cache: the facade apps use for a cache directory: what objects it holds (without opening them),
// where an object's entry is, removing one, opening one, and the names of sources as they may be
// shown and stored. The engine and the store stay behind it: ui/ and app/ include this, not
// sparsefilestore.h or cachepaths.h. Layout and sharing rules: docs/ARCHITECTURE.md.
//
// Thread affinity: a Cache is a value (the directory); any thread. Methods marked (I/O) block:
// call them off the GUI thread, or use the async forms, which run on jobPool().

#include "cachebudget.h"
#include "cachesettings.h"
#include "chunkbitmap.h"
#include "result.h"
#include "s3lister.h"
#include "sparseobject.h"

#include <QFuture>
#include <QString>
#include <QStringList>
#include <QThreadPool>

#include <functional>

namespace sparsescope {

// One object in the cache, as its entry describes it (nothing upstream is asked).
struct CachedObject {
    QString directory;       // the entry
    QString source;          // redacted
    QString validator;
    qint64 size = 0;         // bytes
    qint64 chunkSize = 0;    // bytes
    ChunkBitmap present;
    ChunkBitmap packed;        // of the present chunks, those whose bytes are in the packs
    qint64 presentBytes = 0;
    qint64 packedBytes = 0;    // of presentBytes, in the packs
    qint64 allocatedBytes = 0; // disk blocks of its data file (loose chunks), bytes
    qint64 diskBytes = 0;      // allocatedBytes + its share of the packs (after compression;
                               // a content several chunks share is shared out among them)
};

// What the packs of a cache hold (packstore.h), for status.
struct PackSummary {
    qint64 looseChunks = 0, looseBytes = 0;   // present chunks in data files
    qint64 packedChunks = 0, packedBytes = 0; // present chunks in packs, and their bytes
    qint64 contents = 0;        // distinct contents stored (after deduplication)
    qint64 contentBytes = 0;    // their bytes, uncompressed
    qint64 storedBytes = 0;     // their bytes in the pack files (after compression)
    qint64 packFiles = 0;
    qint64 packFileBytes = 0;   // disk blocks of the pack files and the index
    qint64 dedupSavedBytes = 0; // packedBytes - contentBytes
};

struct PackReport {
    qint64 objects = 0;
    qint64 chunks = 0, bytes = 0; // moved into the packs
    qint64 storedBytes = 0;       // what they added to the pack files
    qint64 skipped = 0;           // being fetched or written somewhere: left loose
};
struct RepackReport {
    qint64 forgottenChunks = 0, droppedContents = 0, rewrittenPacks = 0;
    qint64 bytesBefore = 0, bytesAfter = 0; // pack files' disk use
};
struct CacheVerifyReport {
    qint64 objects = 0, checkedChunks = 0, badChunks = 0; // bad chunks were dropped
    qint64 contents = 0, badContents = 0;                 // stored contents checked by SHA-256
    QStringList lines; // one per object with bad chunks
};
// Progress of a long cache operation: (done, total), in bytes or items. Returning false cancels.
using CacheProgress = std::function<bool(qint64, qint64)>;

// How much disk the cache takes, and its budget (cachebudget.h).
struct CacheUsage {
    qint64 usedBytes = 0;          // disk blocks under the cache directory, as du counts them
    CacheSettings settings;        // max-size, min-free-space
    qint64 freeBytes = -1;         // free on its filesystem (statvfs), -1 if unknown
};

using GcReport = CacheBudget::Report;
using EvictionNews = CacheBudget::News;

struct CacheListing {
    QList<CachedObject> objects; // sorted by source
    QStringList warnings;        // entries that could not be read, one line each
    PackSummary packs;           // loose and packed chunks of those objects, and the packs
    QString packsProblem;        // the pack index could not be read (then packs counts only the entries)
};

// One key of a bucket listing and what this cache holds of it.
struct BucketEntry {
    s3::ListEntry entry;
    QString source;          // s3://BUCKET/KEY (a prefix: s3://BUCKET/PREFIX/)
    qint64 cachedBytes = -1; // present bytes in this cache; -1: not cached (or a prefix)
};
struct BucketListing {
    QList<BucketEntry> entries;
    int requests = 0;
};

class Cache {
public:
    explicit Cache(QString directory) : m_directory(std::move(directory)) {}

    // $SPARSESCOPE_CACHE_DIR, else $XDG_CACHE_HOME/sparsescope, else ~/.cache/sparsescope.
    static QString defaultDirectory();
    // The source as it may be shown and stored: canonical, credentials removed ("REDACTED").
    static QString displaySource(const QString &source);
    // Its last path segment (or the source when it has none), for people.
    static QString displayName(const QString &source);
    // Slow jobs (listing, removing, building a file, stat of many entries) run here, apart from the
    // engine's chunk writes, so that they never hold a thread a chunk write needs.
    static QThreadPool *jobPool();
    // How chunks are written into caches in this process: "pwrite", or "io_uring"
    // (SPARSESCOPE_STORE_IO=uring).
    static QString storeBackend();
    // Waits until every chunk write, commit and job of this process is done (before exit).
    static void waitForWrites();

    QString directory() const { return m_directory; }
    QString objectsDirectory() const;
    // The entry directory `source` has (or would have) in this cache.
    QString entryDirectory(const QString &source) const;

    // (I/O) Every object in the cache, and what the packs hold (packs.h).
    CacheListing list() const;
    QFuture<CacheListing> listAsync() const;
    // (I/O) Deletes the entry of `source` (by source or entry directory). Processes that have it
    // open see that it is gone; one creating or repairing it is waited for, up to `waitMs`, and
    // `waiting` is told at once. Errors: LocalIo (not in this cache; the disk).
    Status remove(const QString &sourceOrDirectory, int waitMs = 30000, const std::function<void(const QString &)> &waiting = {}) const;
    QFuture<Status> removeAsync(const QString &sourceOrDirectory) const;
    // The budget (cachesettings.h, cachebudget.h).
    // (I/O) The settings stored in the cache directory. Errors: LocalIo, Integrity (bad file).
    Result<CacheSettings> settings() const;
    // (I/O) Stores them: every process on the cache honours them within a second. Errors: LocalIo.
    Status saveSettings(const CacheSettings &settings) const;
    // (I/O) du of the cache, its settings and the free space. Errors: as settings().
    Result<CacheUsage> usage() const;
    QFuture<Result<CacheUsage>> usageAsync() const;
    // (I/O) Applies the budget now (gc): frees blocks no chunk uses, evicts least recently used
    // chunks down to 90 % of max-size and above min-free-space. Errors: LocalIo.
    Result<GcReport> collectGarbage() const;
    // The last eviction by the budget in any process on this cache (seq 0: none). Cheap: a read
    // of the shared budget page (the first call maps it).
    EvictionNews lastEviction() const;

    // Packs (packstore.h). Each holds the cache's packer lock (one pack, repack or verify at a time
    // per cache; waits up to waitMs, `waiting` told at once); readers and fetchers in every process
    // go on meanwhile.
    // (I/O) Moves the loose present chunks of `sources` (empty: every object) into the packs.
    // Errors: LocalIo (also: a source not in the cache); Cancelled (progress returned false).
    Result<PackReport> pack(const QStringList &sources, const CacheProgress &progress = {}, int waitMs = 30000,
                            const std::function<void(const QString &)> &waiting = {}) const;
    // (I/O) Rewrites packs without the contents no object uses any more; gives the space back.
    Result<RepackReport> repack(const CacheProgress &progress = {}, int waitMs = 30000,
                                const std::function<void(const QString &)> &waiting = {}) const;
    // (I/O) Checks every stored content (SHA-256) and every present chunk of every object (XXH3);
    // drops the bad chunks (fetched again when read). Errors: LocalIo.
    Result<CacheVerifyReport> verifyAll(const CacheProgress &progress = {}, int waitMs = 30000,
                                        const std::function<void(const QString &)> &waiting = {}) const;

    // (I/O, network) The keys under s3://BUCKET[/PREFIX] (ListObjectsV2, s3lister.h); with
    // `holdings`, each with the bytes this cache holds of it (the cache's entries are read once;
    // without it cachedBytes stays -1 and the cache is not read). Blocks: call it off the GUI
    // thread, or use the async form. Errors: Usage (not an s3:// URL; AWS settings), Upstream
    // (the service's error, explained).
    Result<BucketListing> listBucket(const QString &bucketUrl, bool recursive, bool holdings, const SourceOptions &options = {}) const;
    QFuture<Result<BucketListing>> listBucketAsync(const QString &bucketUrl, bool recursive, bool holdings,
                                                   const SourceOptions &options = {}) const;
    // Opens `source` in this cache (SparseObject::open with config.cacheDir set to it).
    QFuture<SparseObject::OpenResult> open(const QString &source, EngineConfig config, const OpenOptions &options = {}) const;

private:
    QString m_directory;
};

} // namespace sparsescope
