#pragma once
// ObjectLibrary: the objects the desktop app knows — every entry of the cache directory (listed
// at start with its coverage, without contacting upstream), recent objects, and the objects it
// has open (SparseObject). It runs the user's operations (prefetch, evict, export, verify,
// remove) on the engine, tracks their progress and cancellation, samples download throughput
// and cache-hit rate once a second, and reports notable events. No engine logic lives here.
// GUI thread only; file work (listing, removal, allocation) runs on the I/O pool.

#include "cache.h"
#include "appsettings.h"
#include "chunkbitmap.h"
#include "sparseobject.h"

#include <QDateTime>
#include <QFuture>
#include <QObject>
#include <QElapsedTimer>
#include <QSet>
#include <QTimer>

#include <functional>
#include <memory>

namespace sparsescope {

enum class EntryState { NotOpen, Opening, Idle, Fetching, Working, Error, ChangedUpstream };

struct LibraryEntry {
    QString source;        // redacted; what opens it again
    QString name;          // last path segment, for people
    QString directory;     // cache entry directory ("" until known)
    qint64 size = -1;      // bytes, -1 unknown
    qint64 chunkSize = 0;
    qint64 presentBytes = 0;
    qint64 allocatedBytes = 0;
    qint64 inFlightChunks = 0;
    ChunkBitmap present;   // snapshot while not open
    ChunkBitmap packed;    // of present, the chunks in the cache's packs (snapshot while not open)
    qint64 packedDiskBytes = 0; // its share of the pack files (after compression and deduplication)
    std::shared_ptr<SparseObject> object;
    EntryState state = EntryState::NotOpen;
    QString lastError;
    QString operation;     // "Prefetching", "Exporting", ... ("" when none)
    int operationPercent = -1;
    QList<ByteRange> operationRanges;
    double bytesPerSecond = 0;   // fetched into the cache, smoothed over the last seconds
    qint64 remainingBytes = -1;  // of the running operation, -1 when none
    qint64 etaSeconds = -1;      // of the running operation at the current speed, -1 unknown
    qint64 lastStored = 0;       // statistics at the last sample (for the speed)
    std::function<void()> retry; // runs the last failed prefetch or export again (empty: none)
    qint64 retryAtMs = -1;       // when it runs by itself (ObjectLibrary's clock), -1: not scheduled
    int retries = 0;             // automatic retries of it so far
    qint64 lastSampleMs = -1;
};

class ObjectLibrary final : public QObject {
    Q_OBJECT
public:
    explicit ObjectLibrary(AppSettings settings, QObject *parent = nullptr);
    ~ObjectLibrary() override;

    const AppSettings &settings() const { return m_settings; }
    void setSettings(const AppSettings &settings); // applies to objects opened afterwards

    // Lists the cache directory and recent objects (asynchronously); emits reset() when done.
    void loadCache();
    // Lists the cache again (asynchronously) and merges what changed row by row (also done by
    // itself when another process changes the cache).
    void rescan();
    int count() const { return int(m_entries.size()); }
    const LibraryEntry &entry(int row) const { return m_entries[size_t(row)]; }
    int rowOf(const QString &source) const; // -1 if unknown

    // Opens `source` (URL or path); the entry appears at once and becomes live when the engine
    // has it. Emits opened(row) or an activity error.
    void open(const QString &source);
    void ensureOpen(int row);

    QFuture<Result<qint64>> prefetch(int row, const QList<ByteRange> &ranges);
    QFuture<Result<qint64>> evict(int row, const QList<ByteRange> &ranges);
    QFuture<Result<qint64>> exportTo(int row, const QString &path, ExportMode mode);
    QFuture<Result<VerifyReport>> verify(int row);
    QFuture<Result<QByteArray>> read(int row, ByteRange range);
    void cancel(int row);          // cancels the entry's operations
    void setPaused(int row, bool paused); // pauses or resumes its transfers (SparseObject::setPaused)
    // Runs the entry's failed prefetch or export again now (also done by itself, with a backoff of
    // kFirstRetryMs doubling up to kMaxRetryMs, kMaxRetries times, after an upstream failure).
    void retry(int row);
    bool canRetry(int row) const { return bool(m_entries[size_t(row)].retry); }
    qint64 retryInSeconds(int row) const; // -1 when none is scheduled
    static constexpr int kMaxRetries = 5;
    static constexpr qint64 kFirstRetryMs = 5000;
    static constexpr qint64 kMaxRetryMs = 60000;
    void remove(int row);          // closes it and deletes its cache entry

Q_SIGNALS:
    // Each change of the rows is announced before it happens and reported after, so that a model
    // can keep Qt's contract (beginInsertRows ... endInsertRows around the change).
    void aboutToReset();
    void reset();
    void entryAboutToBeInserted(int row);
    void entryInserted(int row);
    void entryChanged(int row);
    // The present bytes of an open object changed (at most every 100 ms): the cache's size did too.
    void presenceChanged();
    void entryAboutToBeRemoved(int row);
    void entryRemoved(int row);
    void opened(int row);
    void activity(const QString &object, const QString &message, bool error);
    // A tracked operation (prefetch, export, verify, evict) ended after `elapsedMs`; `message` is
    // what the activity panel shows for it.
    void operationEnded(const QString &object, const QString &message, bool ok, qint64 elapsedMs);
    // Once a second: bytes stored per second across all objects, and the share of bytes asked
    // for that were cache hits in that second (NaN when nothing was asked).
    void sampled(double bytesPerSecond, double hitRatio);

private:
    int addEntry(LibraryEntry entry);
    void eraseEntry(int row); // with entryAboutToBeRemoved() before and entryRemoved() after
    void attach(int row, std::shared_ptr<SparseObject> object);
    void refresh();
    // The present bytes and chunks in flight of objects whose coverage changed, shown at once
    // (debounced to 100 ms) rather than at the next refresh().
    void updatePresence();
    // Takes an open entry's present bytes and chunks in flight from its object, and its state
    // (Idle / Fetching) from those; true if either number changed.
    bool samplePresence(LibraryEntry &e);
    // Other processes on the cache: entries they create, fill, evict or remove (QFileSystemWatcher
    // on the objects directory and on each entry's journal, debounced), merged row by row.
    void watchCache();
    void applyListing(const QList<CachedObject> &listed);
    template <typename T>
    QFuture<Result<T>> track(int row, const QString &operation, const QList<ByteRange> &ranges, QFuture<Result<T>> future, std::function<void()> again,
                             std::function<QString(const T &)> describe);
    int rowOfObject(const SparseObject *object) const;
    static QString nameOf(const QString &source);

    AppSettings m_settings;
    std::vector<LibraryEntry> m_entries;
    QTimer m_refresh;
    QTimer m_presenceTimer;
    QSet<const SparseObject *> m_presenceDirty; // compared, never dereferenced
    QElapsedTimer m_clock; // for per-object speeds
    class CacheWatcher *m_watcher = nullptr;
    bool m_scanning = false;
    bool m_scanAgain = false;
    qint64 m_lastStored = 0, m_lastHit = 0, m_lastUpstream = 0;
    qint64 m_closedStored = 0, m_closedHit = 0, m_closedUpstream = 0; // totals of closed objects
};

} // namespace sparsescope
