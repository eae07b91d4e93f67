// SparseObject, the part that shares a cache entry with other processes (see sparsefilestore.h
// for the protocol): claiming chunks before fetching them, waiting for chunks other processes
// fetch, and following what they store, evict or reset.
#include "enginelink.h"
#include "handoff.h"
#include "iopool.h"
#include "requestplanner.h"
#include "sparsefilestore.h"
#include "sparseobject.h"

namespace sparsescope {

bool SparseObject::claimForFetch(quint64 requestId)
{
    const UpstreamRequest &r = *m_requests.find(requestId);
    const qint64 first = r.firstChunk, last = r.lastChunk;
    // Non-blocking (fcntl locks; a look at new journal records, from the page cache).
    auto claimed = m_store->claim(first, last);
    if (!claimed || (claimed->claimed.size() == 1 && claimed->claimed.first() == std::pair{first, last}))
        return true; // ours (or we cannot tell: then fetch, the same bytes twice at worst)
    const Priority priority = r.priority;
    const int attempt = r.attempt;
    m_requests.take(requestId);
    // Being fetched by another process: wait for it as for our own (they stay in flight).
    QList<std::pair<qint64, qint64>> taken = claimed->claimed + claimed->present;
    std::sort(taken.begin(), taken.end());
    for (const auto &[x, y] : gapsBetween(first, last, taken))
        m_foreign.setSpan(x, y);
    if (m_foreign.count() > 0 && !m_foreignTimer.isActive())
        m_foreignTimer.start();
    // Ours: fetched as requests of their own, next.
    for (const auto &[x, y] : std::as_const(claimed->claimed))
        m_requests.enqueue(m_requests.add(x, y, priority, attempt));
    for (const auto &[x, y] : std::as_const(claimed->present))
        arrivedElsewhere(x, y); // stored by another process just now: nothing to fetch
    return false;
}

void SparseObject::arrivedElsewhere(qint64 first, qint64 last)
{
    m_foreign.resetSpan(first, last);
    m_inFlight.resetSpan(first, last);
    markDirty(first, last);
    completeArrived(first, last);
}

void SparseObject::releaseClaims(const QList<std::pair<qint64, qint64>> &runs)
{
    for (const auto &[a, b] : runs)
        m_store->releaseClaims(a, b);
}

void SparseObject::pollForeign()
{
    if (m_refreshing)
        return;
    m_refreshing = true;
    startOnPool(ioPool(), [store = m_store, link = m_link, this] {
        Result<ForeignChanges> changes = store->refresh();
        link->post([this, changes] { // dropped if the object is gone
            m_refreshing = false;
            if (changes)
                applyForeign(*changes);
            retryForeignClaims();
            if (m_foreign.count() > 0)
                m_foreignTimer.start();
        });
    });
}

void SparseObject::completeArrived(qint64 first, qint64 last)
{
    QList<quint64> ready;
    for (quint64 id : m_waiterSpans.overlapping(first, last))
        if (auto it = m_waiters.find(id); it != m_waiters.end() && !it->second.reading)
            ready.append(id);
    for (quint64 id : ready)
        tryComplete(id); // plans again if something is still missing
}

void SparseObject::applyForeign(const ForeignChanges &changes)
{
    if (changes.removed && !m_fatal) {
        m_fatal = makeError(ErrorKind::Changed, QStringLiteral("%1 was removed from the cache by another process; open it again "
                                                               "to use it").arg(m_info.displayName));
        Q_EMIT errorOccurred(m_fatal->message);
        failAll(*m_fatal);
        markDirty(0, m_geometry.chunkCount() - 1);
        return;
    }
    if (changes.reset && !m_fatal) {
        handleChanged(makeError(ErrorKind::Changed, QStringLiteral("%1 changed upstream (another process found a new version "
                                                                   "and reset the cache)").arg(m_info.displayName)));
        return;
    }
    for (const auto &[a, b] : changes.evicted)
        markDirty(a, b);
    for (const auto &[a, b] : changes.packed) // still present, drawn as packed
        markDirty(a, b);
    for (const auto &[a, b] : changes.present) {
        markDirty(a, b);
        for (const auto &[x, y] : m_foreign.setRuns(a, b)) {
            m_foreign.resetSpan(x, y);
            m_inFlight.resetSpan(x, y);
        }
        completeArrived(a, b);
    }
}

void SparseObject::retryForeignClaims()
{
    if (m_foreign.count() == 0 || m_fatal)
        return;
    // A process that was fetching them may have died or failed: its claims are gone.
    for (const auto &[a, b] : m_foreign.setRuns(0, m_foreign.size() - 1)) {
        auto claimed = m_store->claim(a, b);
        if (!claimed)
            continue;
        for (const auto &[x, y] : claimed->present)
            arrivedElsewhere(x, y);
        for (const auto &[x, y] : claimed->claimed) {
            m_foreign.resetSpan(x, y);
            bool interactive = false;
            for (quint64 id : m_waiterSpans.overlapping(x, y))
                interactive = interactive || m_waiters.at(id).priority == Priority::Interactive;
            for (const auto &[p, q] : planRequests(QList<std::pair<qint64, qint64>>{{x, y}}, m_geometry, m_config.planner))
                enqueue(p, q, interactive ? Priority::Interactive : Priority::Prefetch, 0);
        }
    }
    dispatch();
}

} // namespace sparsescope
