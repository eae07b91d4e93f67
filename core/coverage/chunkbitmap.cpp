#include "chunkbitmap.h"

#include <algorithm>

#include <bit>

namespace sparsescope {

void ChunkBitmap::resize(qint64 chunkCount)
{
    if (chunkCount < m_size)
        resetSpan(chunkCount, m_size - 1);
    m_words.resize(static_cast<size_t>((chunkCount + 63) / 64), 0);
    m_size = chunkCount;
}

bool ChunkBitmap::set(qint64 index)
{
    quint64 &w = m_words[index >> 6];
    const quint64 bit = quint64(1) << (index & 63);
    if (w & bit)
        return false;
    w |= bit;
    ++m_count;
    return true;
}

bool ChunkBitmap::reset(qint64 index)
{
    quint64 &w = m_words[index >> 6];
    const quint64 bit = quint64(1) << (index & 63);
    if (!(w & bit))
        return false;
    w &= ~bit;
    --m_count;
    return true;
}

namespace {
// Mask of bits [lo, hi] within one word (0 <= lo <= hi <= 63).
quint64 wordMask(int lo, int hi)
{
    const quint64 upper = hi == 63 ? ~quint64(0) : ((quint64(1) << (hi + 1)) - 1);
    return upper & ~((quint64(1) << lo) - 1);
}

template <typename F>
void forEachWord(qint64 first, qint64 last, F f)
{
    if (first > last)
        return;
    const qint64 wFirst = first >> 6;
    const qint64 wLast = last >> 6;
    for (qint64 w = wFirst; w <= wLast; ++w) {
        const int lo = w == wFirst ? int(first & 63) : 0;
        const int hi = w == wLast ? int(last & 63) : 63;
        f(w, wordMask(lo, hi));
    }
}
} // namespace

void ChunkBitmap::setSpan(qint64 first, qint64 last)
{
    forEachWord(first, last, [this](qint64 w, quint64 mask) {
        m_count += std::popcount(mask & ~m_words[w]);
        m_words[w] |= mask;
    });
}

void ChunkBitmap::resetSpan(qint64 first, qint64 last)
{
    forEachWord(first, last, [this](qint64 w, quint64 mask) {
        m_count -= std::popcount(mask & m_words[w]);
        m_words[w] &= ~mask;
    });
}

void ChunkBitmap::copySpan(const ChunkBitmap &from, qint64 first, qint64 last)
{
    Q_ASSERT(from.m_size == m_size);
    forEachWord(first, last, [&](qint64 w, quint64 mask) {
        const quint64 next = (m_words[w] & ~mask) | (from.m_words[w] & mask);
        m_count += std::popcount(next) - std::popcount(m_words[w]);
        m_words[w] = next;
    });
}

void ChunkBitmap::clear()
{
    std::fill(m_words.begin(), m_words.end(), 0);
    m_count = 0;
}

qint64 ChunkBitmap::countInSpan(qint64 first, qint64 last) const
{
    qint64 n = 0;
    forEachWord(first, last, [&](qint64 w, quint64 mask) { n += std::popcount(mask & m_words[w]); });
    return n;
}

// First bit equal to `value` at or after `from`, or size() if none.
qint64 ChunkBitmap::nextWithValue(qint64 from, bool value) const
{
    if (from >= m_size)
        return m_size;
    const quint64 flip = value ? 0 : ~quint64(0);
    qint64 w = from >> 6;
    quint64 word = (m_words[size_t(w)] ^ flip) & ~((quint64(1) << (from & 63)) - 1);
    while (true) {
        if (word)
            return std::min(m_size, (w << 6) + std::countr_zero(word));
        if (++w >= qint64(m_words.size()))
            return m_size;
        word = m_words[size_t(w)] ^ flip;
    }
}

qint64 ChunkBitmap::nextSet(qint64 from) const { return nextWithValue(from, true); }
qint64 ChunkBitmap::nextClear(qint64 from) const { return nextWithValue(from, false); }

QList<std::pair<qint64, qint64>> ChunkBitmap::runsWithValue(qint64 first, qint64 last, bool value) const
{
    QList<std::pair<qint64, qint64>> runs;
    last = std::min(last, m_size - 1);
    qint64 i = nextWithValue(first, value);
    while (i <= last) {
        const qint64 end = std::min(nextWithValue(i, !value), last + 1);
        runs.append({i, end - 1});
        i = nextWithValue(end, value);
    }
    return runs;
}

QList<std::pair<qint64, qint64>> ChunkBitmap::setRuns(qint64 first, qint64 last) const { return runsWithValue(first, last, true); }
QList<std::pair<qint64, qint64>> ChunkBitmap::clearRuns(qint64 first, qint64 last) const { return runsWithValue(first, last, false); }

QList<std::pair<qint64, qint64>> gapsBetween(qint64 first, qint64 last, const QList<std::pair<qint64, qint64>> &runs)
{
    QList<std::pair<qint64, qint64>> gaps;
    qint64 cursor = first;
    for (const auto &[a, b] : runs) {
        if (a > cursor)
            gaps.append({cursor, std::min(a - 1, last)});
        cursor = std::max(cursor, b + 1);
    }
    if (cursor <= last)
        gaps.append({cursor, last});
    return gaps;
}

void mergeSpan(QList<std::pair<qint64, qint64>> &spans, qint64 first, qint64 last, qsizetype maxSpans)
{
    if (first > last)
        return;
    // The first span that ends at or after first - 1 (could touch or follow the new one).
    auto it = std::lower_bound(spans.begin(), spans.end(), first,
                               [](const std::pair<qint64, qint64> &s, qint64 f) { return s.second + 1 < f; });
    auto end = it;
    while (end != spans.end() && end->first <= last + 1) {
        first = std::min(first, end->first);
        last = std::max(last, end->second);
        ++end;
    }
    const qsizetype at = it - spans.begin();
    spans.erase(it, end);
    spans.insert(at, {first, last});
    while (spans.size() > std::max<qsizetype>(1, maxSpans)) {
        qsizetype closest = 0;
        for (qsizetype i = 1; i + 1 < spans.size(); ++i)
            if (spans[i + 1].first - spans[i].second < spans[closest + 1].first - spans[closest].second)
                closest = i;
        spans[closest].second = spans[closest + 1].second;
        spans.removeAt(closest + 1);
    }
}

} // namespace sparsescope
