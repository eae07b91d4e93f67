#pragma once
// RangeSet: a set of bytes stored as disjoint, non-adjacent, sorted half-open ranges.
// Adding merges overlapping and touching ranges; removing splits them. Every operation is
// O(log n + k) for n stored ranges and k ranges touched. A pure value type, not thread-safe.

#include "byterange.h"

#include <QList>

#include <map>

namespace sparsescope {

class RangeSet {
public:
    void add(ByteRange range);
    void remove(ByteRange range);
    void clear() { m_ranges.clear(); m_total = 0; }

    bool contains(ByteRange range) const;   // every byte of range is in the set (empty: true)
    bool intersects(ByteRange range) const; // at least one byte of range is in the set
    // The parts of `within` that are NOT in the set, in order.
    QList<ByteRange> gaps(ByteRange within) const;
    // The parts of `within` that are in the set, in order.
    QList<ByteRange> intersection(ByteRange within) const;
    // How many bytes of `within` are in the set.
    qint64 bytesIn(ByteRange within) const;

    qint64 totalBytes() const { return m_total; }
    qsizetype rangeCount() const { return static_cast<qsizetype>(m_ranges.size()); }
    bool isEmpty() const { return m_ranges.empty(); }
    QList<ByteRange> ranges() const;

    friend bool operator==(const RangeSet &a, const RangeSet &b) { return a.m_ranges == b.m_ranges; }

private:
    std::map<qint64, qint64> m_ranges; // begin -> end
    qint64 m_total = 0;
};

} // namespace sparsescope
