// SparseObject's fetch scheduling: upstream requests queued, started (alone or as one
// multi-range batch), their chunks stored, and what happens when they end — retries with
// backoff, a change upstream, a pause.
#include "sparseobject.h"
#include "chunkassembler.h"
#include "iopool.h"
#include "sparsefilestore.h"

#include <QDeadlineTimer>
#include <QRandomGenerator>
#include <QTimer>

namespace sparsescope {

void SparseObject::enqueue(qint64 first, qint64 last, Priority priority, int attempt, bool batchable, bool readAhead)
{
    const quint64 id = m_requests.add(first, last, priority, attempt);
    m_requests.find(id)->batchable = batchable;
    m_requests.find(id)->readAhead = readAhead;
    m_requests.enqueue(id);
    m_inFlight.setSpan(first, last);
    m_errors.resetSpan(first, last); // asked for again: queued, no longer failed
    markDirty(first, last);
}

void SparseObject::dispatch()
{
    // Paused: only interactive requests start (in their lane), prefetch work waits. Small requests
    // start together as one multi-range request where the source can send one.
    const int members = m_source->batchesReads() ? kMaxBatchMembers : 1;
    const qint64 totalChunks = std::max<qint64>(1, kMaxBatchBytes / m_geometry.chunkSize);
    for (;;) {
        const QList<quint64> ids = m_requests.startBatch(m_paused || m_yielding ? 0 : m_config.source.connections, kInteractiveLane,
                                                         members, totalChunks);
        if (ids.isEmpty())
            break;
        if (m_requests.find(ids.first())->priority == Priority::Interactive)
            yieldToUser();
        startRequests(ids);
    }
}

void SparseObject::yieldToUser()
{
    // On two cores, running download streams (the server's, Qt's HTTP thread, ours, the disk's)
    // kept a user's cold 4 KiB read at 2x its idle time (bench_engine scenario 4); stopped, as a
    // pause stops them (what did not arrive is queued again), 1.2-1.8x. Not for a reader's
    // read-ahead: those cold reads are its reader's own, and stopping its stream would only slow
    // it. Prefetches are stopped at most once in kMinStopGapMs, so that reads back to back cannot
    // keep them from making progress (what a stop throws away, the bytes in the sockets and the
    // chunks half received, is then bounded too); the hold ends with the user's requests, or
    // after kMaxYieldMs should one of them hang.
    constexpr qint64 kMinStopGapMs = 100, kMaxYieldMs = 2000;
    if (m_requests.anyReadAhead())
        return;
    const qint64 now = QDeadlineTimer::current().deadline();
    if (now - m_lastPrefetchStopMs >= kMinStopGapMs && stopRunningPrefetches())
        m_lastPrefetchStopMs = now;
    if (!m_yielding) {
        m_yielding = true;
        QTimer::singleShot(kMaxYieldMs, this, [this, round = ++m_yieldRound] {
            if (m_yielding && m_yieldRound == round) {
                m_yielding = false;
                dispatch();
            }
        });
    }
}

void SparseObject::startRequests(const QList<quint64> &requestIds)
{
    // Only chunks no other process is fetching, and that none stored meanwhile, go upstream; a
    // request cut down to what is ours is re-queued (claimForFetch).
    QList<quint64> started;
    for (quint64 id : requestIds)
        if (claimForFetch(id))
            started.append(id);
    if (started.isEmpty())
        return;
    std::sort(started.begin(), started.end(), [this](quint64 a, quint64 b) {
        return m_requests.find(a)->firstChunk < m_requests.find(b)->firstChunk;
    });
    QList<ByteRange> ranges;
    QList<std::shared_ptr<ReadSink>> sinks;
    for (quint64 requestId : std::as_const(started)) {
        UpstreamRequest &r = *m_requests.find(requestId); // marked running by startBatch()
        r.assembler = std::make_shared<ChunkAssembler>(
            r.firstChunk, m_geometry, m_store, m_link, m_writeSlots,
            [this, requestId](qint64 chunk, const Status &st, const QList<ReadTaps::Tapped> &tapped) { onChunkStored(requestId, chunk, st, tapped); },
            [this, requestId](const Status &st) { onRequestFinished(requestId, st); }, r.priority == Priority::Interactive, m_taps);
        ranges.append(m_geometry.chunkSpan(r.firstChunk, r.lastChunk));
        sinks.append(r.assembler);
    }
    const bool interactive = m_requests.find(started.first())->priority == Priority::Interactive;
    const QList<quint64> sourceIds = started.size() == 1 ? QList<quint64>{m_source->read(ranges.first(), sinks.first(), interactive)}
                                                         : m_source->readBatch(ranges, sinks, interactive);
    for (qsizetype i = 0; i < started.size(); ++i) {
        UpstreamRequest &r = *m_requests.find(started[i]);
        r.sourceId = sourceIds[i];
        markDirty(r.firstChunk, r.lastChunk); // queued -> being transferred
    }
}

void SparseObject::onChunkStored(quint64 requestId, qint64 chunk, const Status &result, const QList<ReadTaps::Tapped> &tapped)
{
    if (UpstreamRequest *r = m_requests.find(requestId))
        r->arrivedThrough = std::max(r->arrivedThrough, chunk);
    m_inFlight.reset(chunk);
    markDirty(chunk, chunk);
    if (!result) {
        m_errors.set(chunk);
        releaseClaims({{chunk, chunk}});
        failWaiters(chunk, chunk, result.error());
        return;
    }
    m_errors.reset(chunk);
    m_stats->storedBytes += m_geometry.chunkRange(chunk).length();
    if (m_fatal && m_fatal->kind == ErrorKind::Changed) {
        // Bytes of the old version that were already on their way: drop them as well.
        startOnPool(ioPool(), [store = m_store, chunk] { (void)store->evict(chunk, chunk); });
        return;
    }
    scheduleCommit();
    if (m_fatal)
        return;
    // Reads of this chunk alone get the bytes just written (no read back from the store).
    for (const ReadTaps::Tapped &t : tapped)
        if (auto it = m_waiters.find(t.waiter); it != m_waiters.end() && !it->second.reading && it->second.wantData &&
                                                it->second.firstChunk == chunk && it->second.lastChunk == chunk &&
                                                t.bytes.size() == it->second.range.length())
            finishWaiter(t.waiter, t.bytes);
    QList<quint64> ready;
    for (quint64 id : m_waiterSpans.overlapping(chunk, chunk))
        if (Waiter &w = m_waiters.at(id); !w.reading && --w.outstanding <= 0)
            ready.append(id);
    for (quint64 id : ready)
        tryComplete(id);
}

void SparseObject::onRequestFinished(quint64 requestId, const Status &result)
{
    const std::optional<UpstreamRequest> taken = m_requests.take(requestId);
    if (!taken)
        return;
    const UpstreamRequest &r = *taken;
    if (r.running && r.priority == Priority::Interactive && m_requests.runningInteractive() == 0 && m_commitDeferred) {
        m_commitDeferred = false;
        scheduleCommit();
    }
    if (r.running && r.priority == Priority::Interactive && m_requests.runningInteractive() == 0 && m_yielding) {
        m_yielding = false; // the user's requests are done: prefetches go on (at the end of this turn)
        QMetaObject::invokeMethod(this, [this] { dispatch(); }, Qt::QueuedConnection);
    }
    // The in-flight chunks after the last one that arrived belong to this request: they did not
    // arrive. (Chunks that did arrive may be in flight again, re-planned by another request after an
    // eviction; they are not this request's to fail.)
    const qint64 missedFrom = std::max(r.firstChunk, r.arrivedThrough + 1);
    const auto leftover = missedFrom <= r.lastChunk ? m_inFlight.setRuns(missedFrom, r.lastChunk) : QList<std::pair<qint64, qint64>>();
    if (r.pausing && !leftover.isEmpty() && !m_fatal) {
        // Paused: back in the queue, still in flight for the waiters; the claims go, so that
        // another process may fetch them meanwhile.
        releaseClaims(leftover);
        for (const auto &[a, b] : leftover) {
            m_requests.enqueue(m_requests.add(a, b, r.priority, r.attempt));
            markDirty(a, b);
        }
        dispatch();
        return;
    }
    if (!leftover.isEmpty()) {
        Error error = result ? makeError(ErrorKind::Upstream, QStringLiteral("%1 bytes %2: the transfer ended early")
                                                                   .arg(m_info.displayName, m_geometry.chunkSpan(r.firstChunk, r.lastChunk).toInclusiveString()))
                             : result.error();
        if (error.kind == ErrorKind::Changed && !m_fatal) {
            for (const auto &[a, b] : leftover)
                m_inFlight.resetSpan(a, b);
            releaseClaims(leftover);
            handleChanged(error);
        } else if (error.retryable && error.retryAfterMs <= EngineConfig::kMaxRetryAfterMs && r.attempt + 1 < m_config.maxAttempts && !m_fatal &&
                   isWanted(r.firstChunk, r.lastChunk)) {
            // Exponential backoff with jitter, or later if the server says so (Retry-After); the
            // chunks stay in flight, so joiners keep waiting.
            const qint64 backoff = (250 << r.attempt) + QRandomGenerator::global()->bounded(250);
            // Retry-After: 0 (also the multi-range fallback's) means at once.
            const int delay = error.retryAfterMs == 0 ? 0 : int(std::max(backoff, error.retryAfterMs));
            QList<quint64> retries;
            for (const auto &[a, b] : leftover)
                retries.append(m_requests.add(a, b, r.priority, r.attempt + 1));
            QTimer::singleShot(delay, this, [this, retries] {
                for (quint64 id : retries)
                    if (const UpstreamRequest *q = m_requests.find(id); q && !q->running)
                        m_requests.enqueue(id);
                dispatch();
            });
        } else {
            if (error.retryable && error.retryAfterMs > EngineConfig::kMaxRetryAfterMs)
                error.message += QStringLiteral(" (the server asks to retry after %1 s; try again later)").arg(error.retryAfterMs / 1000);
            releaseClaims(leftover); // another process may try them
            for (const auto &[a, b] : leftover) {
                m_inFlight.resetSpan(a, b);
                markDirty(a, b);
                if (error.kind != ErrorKind::Cancelled) {
                    m_errors.setSpan(a, b);
                    failWaiters(a, b, error);
                }
            }
            if (error.kind != ErrorKind::Cancelled) {
                Q_EMIT errorOccurred(error.message);
            } else {
                // Cancelled because nobody wanted it; a reader that joined meanwhile plans afresh.
                for (quint64 id : m_waiterSpans.overlapping(r.firstChunk, r.lastChunk))
                    if (auto it = m_waiters.find(id); it != m_waiters.end() && !it->second.reading)
                        plan(id);
            }
        }
    }
    dispatch();
}

} // namespace sparsescope
