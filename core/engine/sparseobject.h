#pragma once
// SparseObject: one open object — the coordinator between its Source and its ChunkStore.
//
// Data flow of read(range): the range is cut into chunks; present chunks come from the store;
// chunks already in flight are joined (so concurrent readers of one missing chunk cause exactly
// one upstream request); the rest are planned into upstream requests (requestplanner.h), queued
// by priority and run up to `connections` at a time. Interactive reads overtake prefetch work:
// their chunks are carved out of queued prefetch requests, and they may use two connections
// beyond the limit, so they never wait for running prefetch requests. Small requests that start
// together go out as one multi-range request where the source supports it (Source::readBatch). Bodies stream into ChunkAssemblers, which write and hash chunks on
// the I/O pool; coverage then advances, and group commits make it durable.
//
// Thread affinity: a SparseObject lives in the thread that called open() (it needs that thread's
// event loop) and all its methods must be called there. It never blocks that thread on I/O:
// results arrive as QFutures fulfilled on the object's thread. Signals are batched (at most ~10/s).
// Cancelling a returned QFuture (QFuture::cancel) abandons that operation; upstream requests
// nobody waits for any more are dropped.
//
// Errors every operation can report: Usage (range outside the object), Upstream (the source
// failed; message names object, range and cause), Changed (the object changed upstream: all its
// cached data was dropped), LocalIo (the cache's disk), Integrity, Cancelled.

#include "chunkbitmap.h"
#include "coveragelayers.h"
#include "chunkgeometry.h"
#include "chunkstore.h"
#include "engineconfig.h"
#include "objectopener.h"
#include "rangeset.h"
#include "requestqueue.h"
#include "spanindex.h"
#include "readtaps.h"
#include "writeslots.h"
#include "result.h"
#include "source.h"

#include <QFuture>
#include <QObject>
#include <QPromise>
#include <QTimer>
#include <QUrl>

#include <atomic>
#include <deque>
#include <map>
#include <memory>

namespace sparsescope {

class ObjectLink;
using EngineLink = ObjectLink;
class SparseFileStore;

enum class ExportMode { Full, Sparse };

class SparseObject final : public QObject {
    Q_OBJECT
public:
    using OpenResult = Result<std::shared_ptr<SparseObject>>;

    // Opens `source` (http(s)://, file:// or a local path): discovers size and validator upstream,
    // with the request that fetches `options.firstRead` / `tailBytes` when given (objectopener.h:
    // no HEAD before a cold read), then opens or creates its cache entry under config.cacheDir. If
    // the validator or size changed since the entry was written, the cached data is dropped (see
    // warnings()). The object is created in the calling thread. Errors: Usage (bad source),
    // Upstream, LocalIo.
    static QFuture<OpenResult> open(const QString &source, const EngineConfig &config, const OpenOptions &options = {});

    ~SparseObject() override; // cancels outstanding work; makes written chunks durable

    // The bytes of `range`. Errors: see above; Usage if the range is empty or past the end.
    QFuture<Result<QByteArray>> read(ByteRange range, Priority priority = Priority::Interactive);
    // The warm path, callable from ANY thread (never the GUI thread: it reads the disk): the bytes
    // of `range` if every chunk of it is present, read straight from the store, or nullopt (then use
    // read()). Counts as a cache hit. Errors: Integrity/LocalIo from the store.
    std::optional<Result<QByteArray>> readPresent(ByteRange range) const;
    // Materializes `ranges` (whole chunks) without returning bytes. Yields the bytes now present.
    // Its bytes already present count as cache hits (they were asked for and not fetched) unless
    // `readAhead`: a prefetch on a reader's behalf (SparseDevice), whose own reads count them; each
    // of its runs is one upstream request (the reader consumes it in order), not split up to share
    // the connections.
    QFuture<Result<qint64>> prefetch(const QList<ByteRange> &ranges, Priority priority = Priority::Prefetch, bool readAhead = false);
    // Drops every present chunk that intersects `ranges` and frees its blocks; chunks in flight
    // are left alone. Yields the number of bytes dropped.
    QFuture<Result<qint64>> evict(const QList<ByteRange> &ranges);
    // Writes the object to `path` via a temporary file in the same directory renamed into place
    // only when complete. Full: fetches what is missing first. Sparse: writes present chunks,
    // missing ranges stay holes (read as zeros). Yields the bytes written from the cache.
    QFuture<Result<qint64>> exportTo(const QString &path, ExportMode mode);
    // Re-hashes every present chunk; bad chunks are dropped (and fetched again on the next read).
    QFuture<Result<VerifyReport>> verify();
    // Makes every written chunk durable (group commit now). Errors: LocalIo.
    QFuture<Status> flush();
    // Cancels every outstanding operation of this object.
    void cancelAll();
    // Pause: no prefetch request starts, and the running ones stop (what they did not deliver is
    // queued again, their claims given back); operations stay pending, and a user's read still
    // runs (interactive requests are not paused). Resume starts the queue again.
    void setPaused(bool paused);
    bool isPaused() const { return m_paused; }

    ChunkGeometry geometry() const { return m_geometry; }
    SourceInfo sourceInfo() const { return m_info; }
    QString cachePath() const;
    QStringList warnings() const { return m_warnings; }
    QString backendName() const { return m_source->backendName(); }
    const Statistics &statistics() const { return *m_stats; }
    qint64 presentBytes() const;
    ChunkBitmap presentChunks() const;
    ChunkBitmap packedChunks() const; // of the present chunks, those whose bytes are in the cache's packs
    qint64 packedBytes() const;       // their bytes
    RangeSet presentRanges() const;
    qint64 presentBytesIn(ByteRange range) const; // present bytes of `range` (reads only its chunks' runs)
    qint64 allocatedBytes() const; // stat of the data file: call off the GUI thread
    // The store, for read-only queries on worker threads (e.g. allocatedBytes()) that must not
    // keep the object itself alive there.
    std::shared_ptr<const ChunkStore> store() const;
    qint64 inFlightChunks() const { return m_inFlight.count(); }
    ChunkBitmap inFlightChunkMap() const { return m_inFlight; }  // snapshot copy: queued or being transferred
    ChunkBitmap transferringChunkMap() const;                    // the in-flight chunks whose request is running
    ChunkBitmap errorChunkMap() const { return m_errors; }       // chunks whose last fetch failed
    // Chunks [first, last] of every layer of `layers` become the object's state now, the rest is
    // left alone: a view that follows coverageChanged copies only what changed. Layers of another
    // size than chunkCount() are resized (and then copied whole). GUI thread.
    void copyCoverage(qint64 first, qint64 last, CoverageLayers *layers) const;
    bool isPresent(qint64 chunk) const;
    bool isInFlight(qint64 chunk) const { return m_inFlight.test(chunk); }
    // Looks (on the I/O pool) at what other processes on the cache stored, evicted or reset since
    // the last look, and reports it as coverageChanged (or changedUpstream / errorOccurred). The
    // object looks by itself while it waits for chunks another process fetches; a live view calls
    // this when the entry's journal changes (CacheWatcher). No timer runs otherwise, so an object
    // whose last reference goes on another thread is not torn from a running timer.
    void followOtherProcesses() { pollForeign(); }

Q_SIGNALS:
    // Chunks [first, last] changed state (present, evicted, in flight), after the change; batched
    // (at most every 100 ms), one signal per disjoint changed span.
    void coverageChanged(qint64 firstChunk, qint64 lastChunk);
    void errorOccurred(const QString &message);
    void changedUpstream(const QString &message);

private:
    struct Waiter {
        ByteRange range;
        qint64 firstChunk = 0;
        qint64 lastChunk = -1;
        Priority priority = Priority::Interactive;
        bool wantData = true;
        qint64 outstanding = 0; // chunks this waiter still waits for
        std::shared_ptr<QPromise<Result<QByteArray>>> dataPromise; // read()
        std::shared_ptr<struct PrefetchGroup> group;                // prefetch(): one group, many waiters
        bool reading = false;                                       // its bytes are being read from the store
        int readRaces = 0;                                          // store reads that found a chunk gone
        bool readAhead = false;                                     // on a reader's behalf: no cache hits counted
    };

    static constexpr int kInteractiveLane = 2; // extra upstream requests for interactive reads (RequestQueue)
    // Multi-range requests (Source::readBatch): how many requests, of how many bytes each and in all.
    static constexpr int kMaxBatchMembers = 64;
    static constexpr qint64 kMaxBatchMemberBytes = 1 << 20;
    static constexpr qint64 kMaxBatchBytes = 32 << 20; // buffered whole (httpworker_batch.cpp)

    SparseObject(std::unique_ptr<Source> source, std::shared_ptr<SparseFileStore> store, SourceInfo info,
                 std::shared_ptr<Statistics> stats, EngineConfig config, QStringList warnings);

    // Fails (LocalIo, saying what to do) if an operation that needs `bytes` present at once cannot
    // fit in the cache's budget (CacheBudget::roomForOneOperation): better at once than after
    // evicting its own chunks. `what` names the range for the message.
    Status checkFits(qint64 bytes, const QString &what) const;
    // The bytes of `range` that the open fetched (OpenOptions::firstRead): not cache hits for the
    // first read that meets them. Any thread.
    qint64 fetchedAtOpenIn(ByteRange range) const;
    quint64 addWaiter(Waiter waiter);
    void plan(quint64 waiterId);
    void enqueue(qint64 first, qint64 last, Priority priority, int attempt, bool batchable = false, bool readAhead = false);
    // A user's request starts: running prefetches stop and none starts until the user's requests
    // are done (m_yielding), unless a reader's read-ahead is about (sparseobject_fetch.cpp).
    void yieldToUser();
    // Stops the running prefetch requests as a pause does (what did not arrive is queued again);
    // false if none ran.
    bool stopRunningPrefetches();
    void dispatch();
    void startRequests(const QList<quint64> &requestIds); // one upstream request, or one batch
    // `tapped`: bytes for reads that wait for this chunk alone (readtaps.h), served without
    // reading them back from the store.
    void onChunkStored(quint64 requestId, qint64 chunk, const Status &result, const QList<ReadTaps::Tapped> &tapped);
    void onRequestFinished(quint64 requestId, const Status &result);
    void tryComplete(quint64 waiterId);
    void failWaiters(qint64 first, qint64 last, const Error &error);
    void finishWaiter(quint64 waiterId, Result<QByteArray> result);
    void pruneCancelled();
    bool isWanted(qint64 first, qint64 last) const;
    void handleChanged(const Error &error);
    // Finishes every waiter with error (a fatal one: the object changed, or its store failed).
    void failAll(const Error &error);
    void scheduleCommit(bool force = false);
    void markDirty(qint64 first, qint64 last);
    void emitDirty();
    Result<ByteRange> checkRange(ByteRange range) const;
    // Sharing the cache entry with other processes (sparseobject_sharing.cpp).
    // Claims the chunks of a request that is starting; true if all are ours (start it as it is),
    // else the request is replaced by requests for the chunks that are ours, re-queued at once.
    bool claimForFetch(quint64 requestId);
    void releaseClaims(const QList<std::pair<qint64, qint64>> &runs);
    void pollForeign();
    void applyForeign(const ForeignChanges &changes);
    void retryForeignClaims();
    void completeArrived(qint64 first, qint64 last);
    void arrivedElsewhere(qint64 first, qint64 last); // stored by another process: no longer in flight here

    std::unique_ptr<Source> m_source;
    std::shared_ptr<SparseFileStore> m_store;
    std::shared_ptr<Statistics> m_stats;
    std::shared_ptr<EngineLink> m_link;
    std::shared_ptr<WriteSlots> m_writeSlots;
    std::shared_ptr<ReadTaps> m_taps = std::make_shared<ReadTaps>();
    SourceInfo m_info;
    EngineConfig m_config;
    ChunkGeometry m_geometry;
    QStringList m_warnings;

    std::atomic<bool> m_changed{false}; // set on the object's thread when it changed upstream; read anywhere
    ByteRange m_fetchedAtOpen;                      // the chunks the opening request stored
    mutable std::atomic<bool> m_fetchedAtOpenCounted{false};
    ChunkBitmap m_inFlight;                         // chunks planned into an upstream request
    ChunkBitmap m_errors;                           // chunks whose last fetch failed (for the map)
    ChunkBitmap m_foreign;                          // wanted chunks another process is fetching (also in m_inFlight)
    std::map<quint64, Waiter> m_waiters;
    SpanIndex m_waiterSpans; // the chunk spans of m_waiters, for lookups by chunk
    RequestQueue m_requests;                        // upstream requests, queued and running
    quint64 m_nextId = 1;                           // waiter ids

    bool m_paused = false;
    bool m_yielding = false;       // prefetches wait for the running user's requests (yieldToUser)
    quint64 m_yieldRound = 0;      // which yield a deadline belongs to
    qint64 m_lastPrefetchStopMs = -1000000; // when yieldToUser() last stopped prefetches (QDeadlineTimer's clock)
    bool m_dispatchPosted = false;                  // plan() asked for a dispatch() at the end of this turn
    bool m_commitRunning = false;
    bool m_commitAgain = false;
    bool m_commitDeferred = false;  // a commit waits for the interactive requests to finish
    std::optional<Error> m_fatal;                   // the store failed or the object changed

    QTimer m_signalTimer;                           // batches coverageChanged
    QTimer m_pruneTimer;                            // notices cancelled futures
    QTimer m_foreignTimer;                          // looks for chunks other processes fetch for us
    bool m_refreshing = false;                      // a ChunkStore::refresh() is under way
    QList<std::pair<qint64, qint64>> m_dirty;      // changed spans not yet reported (sorted, disjoint)
};

} // namespace sparsescope
