#pragma once
// Cache: the facade apps use for a cache directory: what objects it holds (without opening them),
// where an object's entry is, removing one, opening one, and the names of sources as they may be
// shown and stored. The engine and the store stay behind it: ui/ and app/ include this, not
// sparsefilestore.h or cachepaths.h. Layout and sharing rules: docs/ARCHITECTURE.md.
//
// Thread affinity: a Cache is a value (the directory); any thread. Methods marked (I/O) block:
// call them off the GUI thread, or use the async forms, which run on jobPool().

#include "chunkbitmap.h"
#include "result.h"
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
    qint64 presentBytes = 0;
    qint64 allocatedBytes = 0; // disk blocks of its data file, bytes
};

struct CacheListing {
    QList<CachedObject> objects; // sorted by source
    QStringList warnings;        // entries that could not be read, one line each
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

    // (I/O) Every object in the cache.
    CacheListing list() const;
    QFuture<CacheListing> listAsync() const;
    // (I/O) Deletes the entry of `source` (by source or entry directory). Processes that have it
    // open see that it is gone; one creating or repairing it is waited for, up to `waitMs`, and
    // `waiting` is told at once. Errors: LocalIo (not in this cache; the disk).
    Status remove(const QString &sourceOrDirectory, int waitMs = 30000, const std::function<void(const QString &)> &waiting = {}) const;
    QFuture<Status> removeAsync(const QString &sourceOrDirectory) const;
    // Opens `source` in this cache (SparseObject::open with config.cacheDir set to it).
    QFuture<SparseObject::OpenResult> open(const QString &source, EngineConfig config) const;

private:
    QString m_directory;
};

} // namespace sparsescope
