#pragma once
// ChunkBitmap: one bit per chunk (present, or in flight, depending on who owns it).
// A 1 TiB object at 256 KiB chunks has 4 Mi chunks: 512 KiB of bitmap. Queries over a span of
// chunks cost O(chunks touched / 64). A pure value type, not thread-safe.

#include <QList>
#include <QtGlobal>

#include <utility>
#include <vector>

namespace sparsescope {

class ChunkBitmap {
public:
    ChunkBitmap() = default;
    explicit ChunkBitmap(qint64 chunkCount) { resize(chunkCount); }

    void resize(qint64 chunkCount); // new bits are clear
    qint64 size() const { return m_size; }
    qint64 count() const { return m_count; } // number of set bits

    bool test(qint64 index) const { return (m_words[index >> 6] >> (index & 63)) & 1u; }
    bool set(qint64 index);   // returns true if the bit changed
    bool reset(qint64 index); // returns true if the bit changed
    void setSpan(qint64 first, qint64 last);   // inclusive
    void resetSpan(qint64 first, qint64 last); // inclusive
    // Bits [first, last] become those of `from` (same size()); the rest stay. O(span / 64).
    void copySpan(const ChunkBitmap &from, qint64 first, qint64 last);
    void clear();

    qint64 countInSpan(qint64 first, qint64 last) const; // set bits in [first, last]
    // First set (or clear) bit at or after `from`, or size() if none.
    qint64 nextSet(qint64 from) const;
    qint64 nextClear(qint64 from) const;
    // Maximal runs [first, last] of set bits within [first, last].
    QList<std::pair<qint64, qint64>> setRuns(qint64 first, qint64 last) const;
    QList<std::pair<qint64, qint64>> clearRuns(qint64 first, qint64 last) const;

    qint64 memoryBytes() const { return static_cast<qint64>(m_words.capacity() * sizeof(quint64)); }

private:
    qint64 nextWithValue(qint64 from, bool value) const;
    QList<std::pair<qint64, qint64>> runsWithValue(qint64 first, qint64 last, bool value) const;

    std::vector<quint64> m_words;
    qint64 m_size = 0;
    qint64 m_count = 0;
};

// The inclusive runs of [first, last] that `runs` (inclusive, sorted, disjoint) leave uncovered.
// Pure.
QList<std::pair<qint64, qint64>> gapsBetween(qint64 first, qint64 last, const QList<std::pair<qint64, qint64>> &runs);

// Adds [first, last] to `spans` (inclusive, sorted, disjoint), merging what overlaps or touches;
// beyond `maxSpans` spans, the two with the smallest gap between them become one (so a list of
// changes stays short however scattered they are). Pure.
void mergeSpan(QList<std::pair<qint64, qint64>> &spans, qint64 first, qint64 last, qsizetype maxSpans = 64);

} // namespace sparsescope
