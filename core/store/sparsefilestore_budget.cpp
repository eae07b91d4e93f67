// SparseFileStore and the cache's budget: the budget it reports to, access stamps, pins.
#include "sparsefilestore.h"
#include "cachebudget.h"

namespace sparsescope {

void SparseFileStore::attachBudget()
{
    const QString cache = CacheBudget::cacheOfEntry(m_dir);
    if (cache.isEmpty())
        return; // an entry outside a cache directory (tests): no budget
    m_budget = CacheBudget::forCache(cache);
    if (!m_budget)
        return;
    if (Status st = m_access.open(m_dir, m_geometry.chunkCount()); !st)
        m_warnings << QStringLiteral("%1; the budget evicts this object's chunks in no particular order").arg(st.error().message);
}

void SparseFileStore::stamp(qint64 first, qint64 last) const
{
    if (m_budget && m_access.isOpen())
        m_access.stamp(first, last, m_budget->nextTick());
}

void SparseFileStore::pin(qint64 first, qint64 last)
{
    if (!m_shared || first > last)
        return; // an entry that is ours alone: no other process evicts from it
    QMutexLocker l(&m_pinMutex);
    m_pins.append({first, last});
    m_claims.pin(first, last);
}

void SparseFileStore::unpin(qint64 first, qint64 last)
{
    if (!m_shared || first > last)
        return;
    QMutexLocker l(&m_pinMutex);
    const qsizetype i = m_pins.indexOf(std::pair{first, last});
    if (i < 0)
        return;
    m_pins.removeAt(i);
    // The kernel keeps one lock per byte per open file description: release the span, then pin
    // again what the other pins still cover.
    m_claims.unpin(first, last);
    for (const auto &[a, b] : std::as_const(m_pins))
        if (const qint64 lo = std::max(a, first), hi = std::min(b, last); lo <= hi)
            m_claims.pin(lo, hi);
}

} // namespace sparsescope
