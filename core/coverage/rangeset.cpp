#include "rangeset.h"

namespace sparsescope {

void RangeSet::add(ByteRange range)
{
    if (range.isEmpty())
        return;
    qint64 begin = range.begin;
    qint64 end = range.end;
    // First stored range that could touch [begin, end): the one starting at or before begin.
    auto it = m_ranges.upper_bound(begin);
    if (it != m_ranges.begin()) {
        auto prev = std::prev(it);
        if (prev->second >= begin)
            it = prev;
    }
    while (it != m_ranges.end() && it->first <= end) {
        begin = std::min(begin, it->first);
        end = std::max(end, it->second);
        m_total -= it->second - it->first;
        it = m_ranges.erase(it);
    }
    m_ranges.emplace(begin, end);
    m_total += end - begin;
}

void RangeSet::remove(ByteRange range)
{
    if (range.isEmpty())
        return;
    auto it = m_ranges.upper_bound(range.begin);
    if (it != m_ranges.begin() && std::prev(it)->second > range.begin)
        it = std::prev(it);
    while (it != m_ranges.end() && it->first < range.end) {
        const qint64 b = it->first;
        const qint64 e = it->second;
        m_total -= e - b;
        it = m_ranges.erase(it);
        if (b < range.begin) {
            m_ranges.emplace(b, range.begin);
            m_total += range.begin - b;
        }
        if (e > range.end) {
            it = m_ranges.emplace(range.end, e).first;
            m_total += e - range.end;
            ++it;
        }
    }
}

bool RangeSet::contains(ByteRange range) const
{
    if (range.isEmpty())
        return true;
    auto it = m_ranges.upper_bound(range.begin);
    if (it == m_ranges.begin())
        return false;
    --it;
    return it->first <= range.begin && it->second >= range.end;
}

bool RangeSet::intersects(ByteRange range) const
{
    if (range.isEmpty())
        return false;
    auto it = m_ranges.upper_bound(range.begin);
    if (it != m_ranges.begin() && std::prev(it)->second > range.begin)
        return true;
    return it != m_ranges.end() && it->first < range.end;
}

QList<ByteRange> RangeSet::intersection(ByteRange within) const
{
    QList<ByteRange> out;
    if (within.isEmpty())
        return out;
    auto it = m_ranges.upper_bound(within.begin);
    if (it != m_ranges.begin() && std::prev(it)->second > within.begin)
        it = std::prev(it);
    for (; it != m_ranges.end() && it->first < within.end; ++it)
        out.append(ByteRange{it->first, it->second}.intersected(within));
    return out;
}

qint64 RangeSet::bytesIn(ByteRange within) const
{
    qint64 n = 0;
    for (const ByteRange &r : intersection(within))
        n += r.length();
    return n;
}

QList<ByteRange> RangeSet::gaps(ByteRange within) const
{
    QList<ByteRange> out;
    qint64 cursor = within.begin;
    for (const ByteRange &r : intersection(within)) {
        if (r.begin > cursor)
            out.append({cursor, r.begin});
        cursor = r.end;
    }
    if (cursor < within.end)
        out.append({cursor, within.end});
    return out;
}

QList<ByteRange> RangeSet::ranges() const
{
    QList<ByteRange> out;
    out.reserve(rangeCount());
    for (const auto &[b, e] : m_ranges)
        out.append({b, e});
    return out;
}

} // namespace sparsescope
