#include "sparseobject.h"
#include "cachepaths.h"
#include "chunkassembler.h"
#include "enginelink.h"
#include "handoff.h"
#include "iopool.h"
#include "objectopener.h"
#include "sparsefilestore.h"

#include <QThread>

#include <limits>

namespace sparsescope {

// The waiters of one prefetch() call share one promise: the first error fails it, otherwise it
// yields the requested bytes once every waiter is done.
struct PrefetchGroup {
    QPromise<Result<qint64>> promise;
    int remaining = 0;
    qint64 bytes = 0;
    bool done = false;
};

namespace {
template <typename T>
QFuture<T> readyFuture(T value) { return QtFuture::makeReadyFuture(std::move(value)); }
} // namespace

QFuture<SparseObject::OpenResult> SparseObject::open(const QString &sourceText, const EngineConfig &config,
                                                     const OpenOptions &options)
{
    QThread *home = QThread::currentThread();
    return runOnPool(jobPool(), [sourceText, config, options, home]() -> OpenResult { // may wait 30 s: not on the I/O pool
        const QUrl url = cachepaths::sourceUrl(sourceText);
        if (!url.isValid())
            return makeError(ErrorKind::Usage, QStringLiteral("invalid source \"%1\": %2").arg(sourceText, url.errorString()));
        auto entry = openEntry(url, config, options);
        if (!entry)
            return entry.error();
        OpenedEntry &opened = entry.value();
        std::shared_ptr<SparseFileStore> shared(opened.store.release());
        auto *object = new SparseObject(std::move(opened.source), shared, opened.info, opened.statistics, config,
                                        opened.warnings);
        object->m_fetchedAtOpen = opened.fetched;
        object->moveToThread(home);
        if (!opened.fetched.isEmpty()) // the probe's chunks (storeProbe): committed from the object's thread
            QMetaObject::invokeMethod(object, [object] { object->scheduleCommit(); }, Qt::QueuedConnection);
        // The last reference may go on any thread, e.g. this pool thread when the caller drops the
        // object before the pool lets go of this future's result: the object, its timers and its
        // source are then deleted on their own thread (deleteLater(), thread-safe), never here.
        return std::shared_ptr<SparseObject>(object, [](SparseObject *o) {
            if (QThread::currentThread() == o->thread())
                delete o;
            else
                o->deleteLater();
        });
    });
}

SparseObject::SparseObject(std::unique_ptr<Source> source, std::shared_ptr<SparseFileStore> store, SourceInfo info,
                           std::shared_ptr<Statistics> stats, EngineConfig config, QStringList warnings)
    : m_source(std::move(source)), m_store(std::move(store)), m_stats(std::move(stats)),
      m_link(std::make_shared<EngineLink>(this)), m_writeSlots(std::make_shared<WriteSlots>(config.maxQueuedWrites)),
      m_info(std::move(info)), m_config(std::move(config)), m_geometry(m_store->geometry()),
      m_warnings(std::move(warnings)), m_signalTimer(this), m_pruneTimer(this), m_foreignTimer(this)
{
    m_inFlight.resize(m_geometry.chunkCount());
    m_errors.resize(m_geometry.chunkCount());
    m_foreign.resize(m_geometry.chunkCount());
    // Chunks fetched for us by another process: looked for often while we wait for them.
    m_foreignTimer.setSingleShot(true);
    m_foreignTimer.setInterval(25);
    connect(&m_foreignTimer, &QTimer::timeout, this, &SparseObject::pollForeign);

    m_config.planner.connections = m_config.source.connections;
    m_signalTimer.setSingleShot(true);
    m_signalTimer.setInterval(40); // with the map's 40 ms: a change is on screen within 100 ms
    connect(&m_signalTimer, &QTimer::timeout, this, &SparseObject::emitDirty);
    m_pruneTimer.setInterval(200);
    connect(&m_pruneTimer, &QTimer::timeout, this, &SparseObject::pruneCancelled);
}

SparseObject::~SparseObject()
{
    m_link->detach();
    for (auto &[id, w] : m_waiters) {
        if (w.dataPromise) {
            w.dataPromise->addResult(makeError(ErrorKind::Cancelled, QStringLiteral("%1 was closed").arg(m_info.displayName)));
            w.dataPromise->finish();
        }
    }
    for (UpstreamRequest *r : m_requests.running()) {
        r->assembler->stop();
        m_source->cancel(r->sourceId);
    }
    m_source.reset(); // joins the network thread / reader pool
    // Chunks still being written keep the store alive; its destructor commits them.
}

qint64 SparseObject::fetchedAtOpenIn(ByteRange range) const
{
    if (m_fetchedAtOpen.intersected(range).isEmpty() || m_fetchedAtOpenCounted.exchange(true))
        return 0;
    return m_fetchedAtOpen.intersected(range).length();
}

QString SparseObject::cachePath() const { return m_store->location(); }
std::shared_ptr<const ChunkStore> SparseObject::store() const { return m_store; }
qint64 SparseObject::presentBytes() const { return m_store->presentBytes(); }
ChunkBitmap SparseObject::presentChunks() const { return m_store->presentChunks(); }
ChunkBitmap SparseObject::packedChunks() const { return m_store->packedChunks(); }

qint64 SparseObject::packedBytes() const { return m_store->packedBytes(); }
qint64 SparseObject::allocatedBytes() const { return m_store->allocatedBytes(); }
bool SparseObject::isPresent(qint64 chunk) const { return m_store->isPresent(chunk); }

RangeSet SparseObject::presentRanges() const
{
    RangeSet set;
    for (const auto &[a, b] : m_store->presentRuns(0, m_geometry.chunkCount() - 1))
        set.add(m_geometry.chunkSpan(a, b));
    return set;
}

qint64 SparseObject::presentBytesIn(ByteRange range) const
{
    const auto [first, last] = m_geometry.chunksTouching(range);
    qint64 n = 0;
    for (const auto &[a, b] : m_store->presentRuns(first, last))
        n += m_geometry.chunkSpan(a, b).intersected(range).length();
    return n;
}

Result<ByteRange> SparseObject::checkRange(ByteRange range) const
{
    if (range.isEmpty() || range.begin < 0 || range.end > m_geometry.objectSize)
        return makeError(ErrorKind::Usage, QStringLiteral("bytes %1 are outside %2 (size %3 bytes)")
                                               .arg(range.toInclusiveString(), m_info.displayName).arg(m_geometry.objectSize));
    return range;
}

QFuture<Result<QByteArray>> SparseObject::read(ByteRange range, Priority priority)
{
    if (auto checked = checkRange(range); !checked)
        return readyFuture(Result<QByteArray>(checked.error()));
    if (Status fits = checkFits(range.length(), QStringLiteral("bytes %1").arg(range.toInclusiveString())); !fits)
        return readyFuture(Result<QByteArray>(fits.error()));
    if (m_fatal)
        return readyFuture(Result<QByteArray>(*m_fatal));
    Waiter w;
    w.range = range;
    std::tie(w.firstChunk, w.lastChunk) = m_geometry.chunksTouching(range);
    w.priority = priority;
    w.wantData = true;
    w.dataPromise = std::make_shared<QPromise<Result<QByteArray>>>();
    w.dataPromise->start();
    QFuture<Result<QByteArray>> future = w.dataPromise->future();
    addWaiter(std::move(w));
    return future;
}

std::optional<Result<QByteArray>> SparseObject::readPresent(ByteRange range) const
{
    // m_store and m_geometry never change after construction; the store locks itself.
    if (range.isEmpty() || range.begin < 0 || range.end > m_geometry.objectSize)
        return std::nullopt;
    if (m_changed) // changed upstream: read() says so (the old bytes may not be evicted yet)
        return std::nullopt;
    const auto [first, last] = m_geometry.chunksTouching(range);
    if (m_store->countPresent(first, last) != last - first + 1)
        return std::nullopt;
    Result<QByteArray> bytes = m_store->read(range); // checks presence again under its lock
    if (!bytes && bytes.error().kind == ErrorKind::Integrity)
        return std::nullopt; // evicted meanwhile: let the engine fetch it
    if (bytes)
        m_stats->cacheHitBytes += range.length() - fetchedAtOpenIn(range);
    return bytes;
}

QFuture<Result<qint64>> SparseObject::prefetch(const QList<ByteRange> &ranges, Priority priority, bool readAhead)
{
    qint64 total = 0;
    for (const ByteRange &r : ranges) {
        if (auto checked = checkRange(r); !checked)
            return readyFuture(Result<qint64>(checked.error()));
        total += r.length();
    }
    if (Status fits = checkFits(total, ranges.size() == 1 ? QStringLiteral("bytes %1").arg(ranges.first().toInclusiveString())
                                                          : QStringLiteral("%1 ranges").arg(ranges.size()));
        !fits)
        return readyFuture(Result<qint64>(fits.error()));
    if (m_fatal)
        return readyFuture(Result<qint64>(*m_fatal));
    auto group = std::make_shared<PrefetchGroup>();
    group->promise.start();
    QFuture<Result<qint64>> future = group->promise.future();
    group->remaining = int(ranges.size());
    for (const ByteRange &r : ranges)
        group->bytes += r.length();
    if (ranges.isEmpty()) {
        group->promise.addResult(qint64(0));
        group->promise.finish();
        return future;
    }
    for (const ByteRange &r : ranges) {
        Waiter w;
        w.range = r;
        std::tie(w.firstChunk, w.lastChunk) = m_geometry.chunksTouching(r);
        w.priority = priority;
        w.wantData = false;
        w.readAhead = readAhead;
        w.group = group;
        addWaiter(std::move(w));
    }
    return future;
}

quint64 SparseObject::addWaiter(Waiter waiter)
{
    // Bytes of the range that are already present are cache hits (a read-ahead's are counted by
    // the reads it runs ahead of).
    if (!waiter.readAhead)
        m_stats->cacheHitBytes += presentBytesIn(waiter.range) - fetchedAtOpenIn(waiter.range);
    const quint64 id = m_nextId++;
    // The budget keeps the chunks of a read until its bytes are read (a prefetch pins nothing: two
    // prefetches larger together than the budget evict each other's oldest chunks, as LRU says).
    if (waiter.wantData)
        m_store->pin(waiter.firstChunk, waiter.lastChunk);
    m_waiterSpans.insert(id, waiter.firstChunk, waiter.lastChunk);
    m_waiters.emplace(id, std::move(waiter));
    if (!m_pruneTimer.isActive())
        m_pruneTimer.start();
    plan(id);
    return id;
}

void SparseObject::plan(quint64 waiterId)
{
    auto it = m_waiters.find(waiterId);
    if (it == m_waiters.end())
        return;
    Waiter &w = it->second;
    if (m_fatal) {
        finishWaiter(waiterId, *m_fatal);
        return;
    }
    // Missing = the complement of the present runs within the waiter's chunks.
    const QList<std::pair<qint64, qint64>> missing = gapsBetween(w.firstChunk, w.lastChunk, m_store->presentRuns(w.firstChunk, w.lastChunk));

    qint64 outstanding = 0;
    QList<std::pair<qint64, qint64>> toFetch;
    for (const auto &[a, b] : missing) {
        outstanding += b - a + 1;
        toFetch += m_inFlight.clearRuns(a, b);
        if (w.priority == Priority::Interactive) // joined chunks waiting in queued prefetch work go first
            for (const auto &[x, y] : m_inFlight.setRuns(a, b))
                m_requests.promote(x, y);
    }
    w.outstanding = outstanding;
    if (w.wantData && w.firstChunk == w.lastChunk && outstanding == 1) // served as it is written
        m_taps->want(w.firstChunk, m_geometry.chunkRange(w.firstChunk).begin, waiterId, w.range);
    const Priority priority = w.priority;
    // Claimed when they start (startRequests): queued work holds no claim other processes wait for.
    // A request that is a whole missing run may share a multi-range request with others; the
    // pieces of a long run (split across connections, streamed as they arrive) may not.
    const qint64 memberChunks = std::max<qint64>(1, kMaxBatchMemberBytes / m_geometry.chunkSize);
    PlannerConfig planner = m_config.planner;
    if (m_source->rangesIgnored()) // each request costs the object up to its end: one per missing run
        planner.maxRequestBytes = planner.minSplitBytes = std::numeric_limits<qint64>::max();
    else if (w.readAhead) // one reader consumes it in order: one request a run, not pieces that fill its end meanwhile
        planner.maxRequestBytes = planner.minSplitBytes = std::numeric_limits<qint64>::max();
    for (const auto &[a, b] : planRequests(toFetch, m_geometry, planner))
        enqueue(a, b, priority, 0, b - a + 1 <= memberChunks && toFetch.contains(std::pair{a, b}), w.readAhead);
    if (outstanding == 0)
        tryComplete(waiterId);
    // At the end of this turn of the event loop: reads issued together (a `read` of many ranges)
    // are then queued together, and their small requests go out as one batch.
    if (!m_dispatchPosted) {
        m_dispatchPosted = true;
        QMetaObject::invokeMethod(this, [this] {
            m_dispatchPosted = false;
            dispatch();
        }, Qt::QueuedConnection);
    }
}

void SparseObject::tryComplete(quint64 waiterId)
{
    auto it = m_waiters.find(waiterId);
    if (it == m_waiters.end() || it->second.reading)
        return;
    Waiter &w = it->second;
    const qint64 chunks = w.lastChunk - w.firstChunk + 1;
    if (m_store->countPresent(w.firstChunk, w.lastChunk) != chunks) {
        plan(waiterId); // something was evicted meanwhile, or a count was off: look again
        return;
    }
    if (!w.wantData) {
        finishWaiter(waiterId, QByteArray());
        return;
    }
    w.reading = true;
    // A user's read goes before queued chunk writes: when the disk throttles writers, the pool's
    // queue of prefetch writes otherwise held the read back for tens of milliseconds.
    const int poolPriority = w.priority == Priority::Interactive ? kInteractivePoolPriority : 0;
    const bool urgent = w.priority == Priority::Interactive;
    startOnPool(ioPool(), [store = m_store, link = m_link, range = w.range, this, waiterId, urgent] {
        Result<QByteArray> bytes = store->read(range);
        auto deliver = [this, waiterId, bytes] {
            auto it = m_waiters.find(waiterId);
            if (it == m_waiters.end())
                return;
            it->second.reading = false;
            // Integrity: a chunk was evicted between the check above and the read, or the data file
            // is short. Look again, even if the chunk is back by now (fetched again meanwhile): the
            // reader must not see the race as an error. A few times only, so that a truncated data
            // file still ends in its error.
            constexpr int kMaxReadRaces = 4;
            if (!bytes && bytes.error().kind == ErrorKind::Integrity && !m_fatal && it->second.readRaces++ < kMaxReadRaces) {
                plan(waiterId);
                return;
            }
            finishWaiter(waiterId, bytes);
        };
        if (urgent)
            link->postUrgent(std::move(deliver)); // a user waits for it
        else
            link->post(std::move(deliver));
    }, poolPriority);
}

void SparseObject::finishWaiter(quint64 waiterId, Result<QByteArray> result)
{
    auto it = m_waiters.find(waiterId);
    if (it == m_waiters.end())
        return;
    Waiter w = std::move(it->second);
    m_waiters.erase(it);
    m_waiterSpans.erase(waiterId, w.firstChunk, w.lastChunk);
    if (w.wantData)
        m_store->unpin(w.firstChunk, w.lastChunk);
    if (w.wantData && w.firstChunk == w.lastChunk)
        m_taps->drop(w.firstChunk, waiterId);
    if (w.dataPromise) {
        w.dataPromise->addResult(std::move(result));
        w.dataPromise->finish();
    }
    if (w.group && !w.group->done) {
        if (!result) {
            w.group->done = true;
            w.group->promise.addResult(result.error());
            w.group->promise.finish();
        } else if (--w.group->remaining == 0) {
            w.group->done = true;
            w.group->promise.addResult(w.group->bytes);
            w.group->promise.finish();
        }
    }
    if (m_waiters.empty())
        m_pruneTimer.stop();
}

void SparseObject::failWaiters(qint64 first, qint64 last, const Error &error)
{
    for (quint64 id : m_waiterSpans.overlapping(first, last))
        finishWaiter(id, error);
}

bool SparseObject::isWanted(qint64 first, qint64 last) const
{
    return m_waiterSpans.anyOverlapping(first, last);
}

void SparseObject::pruneCancelled()
{
    QList<quint64> cancelled;
    for (const auto &[id, w] : m_waiters)
        if ((w.dataPromise && w.dataPromise->isCanceled()) || (w.group && w.group->promise.isCanceled()))
            cancelled.append(id);
    for (quint64 id : cancelled)
        finishWaiter(id, makeError(ErrorKind::Cancelled, QStringLiteral("cancelled")));
    // Drop queued requests nobody waits for; stop running ones.
    for (const auto &[a, b] : m_requests.dropQueued([this](qint64 first, qint64 last) { return !isWanted(first, last); })) {
        m_inFlight.resetSpan(a, b); // queued requests hold no claims (taken when they start)
        markDirty(a, b);
    }
    // Chunks another process fetches that nobody here waits for any more.
    if (m_foreign.count() > 0)
        for (const auto &[a, b] : m_foreign.setRuns(0, m_foreign.size() - 1))
            if (!isWanted(a, b)) {
                m_foreign.resetSpan(a, b);
                m_inFlight.resetSpan(a, b);
                markDirty(a, b);
            }
    for (UpstreamRequest *r : m_requests.running())
        if (!isWanted(r->firstChunk, r->lastChunk)) {
            r->assembler->stop();
            m_source->cancel(r->sourceId);
        }
}

void SparseObject::cancelAll()
{
    failAll(makeError(ErrorKind::Cancelled, QStringLiteral("%1: cancelled").arg(m_info.displayName)));
}

void SparseObject::failAll(const Error &error)
{
    QList<quint64> all;
    for (const auto &[id, w] : m_waiters)
        all.append(id);
    for (quint64 id : all)
        finishWaiter(id, error);
    pruneCancelled();
}

void SparseObject::handleChanged(const Error &error)
{
    m_changed = true; // readPresent() on other threads serves no byte of the old version from now on
    m_fatal = makeError(ErrorKind::Changed, QStringLiteral("%1; its cached data was dropped; open it again to fetch the "
                                                           "current version").arg(error.message));
    Q_EMIT changedUpstream(m_fatal->message);
    Q_EMIT errorOccurred(m_fatal->message);
    failAll(*m_fatal);
    // Drop every cached byte of the old version; chunks still arriving are dropped in onChunkStored().
    const qint64 last = m_geometry.chunkCount() - 1;
    // The map hears of it once the bytes are gone, not before (it would draw them present again).
    startOnPool(ioPool(), [store = m_store, last, link = m_link, this] {
        (void)store->evict(0, last);
        link->post([this, last] { markDirty(0, last); });
    });
}

void SparseObject::markDirty(qint64 first, qint64 last)
{
    if (first > last)
        return;
    mergeSpan(m_dirty, first, last);
    if (!m_signalTimer.isActive())
        m_signalTimer.start();
}

void SparseObject::emitDirty()
{
    const auto spans = std::exchange(m_dirty, {});
    for (const auto &[first, last] : spans)
        Q_EMIT coverageChanged(first, last);
}

} // namespace sparsescope
