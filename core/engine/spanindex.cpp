#include "spanindex.h"

#include <algorithm>

namespace sparsescope {

void SpanIndex::split(qint64 at)
{
    auto it = m_segments.lower_bound(at);
    if (it != m_segments.end() && it->first == at)
        return;
    Ids covering = it == m_segments.begin() ? Ids() : std::prev(it)->second;
    m_segments.emplace_hint(it, at, std::move(covering));
}

void SpanIndex::mergeAt(qint64 at)
{
    auto it = m_segments.find(at);
    if (it == m_segments.end())
        return;
    const bool redundant = it == m_segments.begin() ? it->second.empty() : std::prev(it)->second == it->second;
    if (redundant)
        m_segments.erase(it);
}

void SpanIndex::insert(quint64 id, qint64 first, qint64 last)
{
    Q_ASSERT(first <= last);
    split(first);
    split(last + 1);
    for (auto it = m_segments.find(first); it != m_segments.end() && it->first <= last; ++it)
        it->second.insert(std::upper_bound(it->second.begin(), it->second.end(), id), id);
}

void SpanIndex::erase(quint64 id, qint64 first, qint64 last)
{
    for (auto it = m_segments.find(first); it != m_segments.end() && it->first <= last; ++it) {
        auto at = std::lower_bound(it->second.begin(), it->second.end(), id);
        if (at != it->second.end() && *at == id)
            it->second.erase(at);
    }
    mergeAt(last + 1);
    mergeAt(first);
}

std::vector<quint64> SpanIndex::overlapping(qint64 first, qint64 last) const
{
    std::vector<quint64> out;
    auto it = m_segments.upper_bound(first);
    if (it != m_segments.begin())
        --it;
    for (; it != m_segments.end() && it->first <= last; ++it)
        out.insert(out.end(), it->second.begin(), it->second.end());
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

bool SpanIndex::anyOverlapping(qint64 first, qint64 last) const
{
    auto it = m_segments.upper_bound(first);
    if (it != m_segments.begin())
        --it;
    for (; it != m_segments.end() && it->first <= last; ++it)
        if (!it->second.empty())
            return true;
    return false;
}

} // namespace sparsescope
