#pragma once
// SpanIndex: which waiters cover a chunk. Holds ids with inclusive chunk spans [first, last] and
// answers "which ids overlap [a, b]" in O(log n + answer) — the engine asks it for every stored
// chunk, so a scan of all waiters there made a 4,096-range prefetch quadratic.
//
// Kept as elementary segments: a key starts a segment that runs to the next key, and holds the
// ids covering all of it. Thread affinity: none (the engine's thread uses it).

#include <QtGlobal>

#include <map>
#include <vector>

namespace sparsescope {

class SpanIndex {
public:
    void insert(quint64 id, qint64 first, qint64 last);  // first <= last
    void erase(quint64 id, qint64 first, qint64 last);   // the same span it was inserted with
    std::vector<quint64> overlapping(qint64 first, qint64 last) const; // sorted, each id once
    bool anyOverlapping(qint64 first, qint64 last) const;
    bool empty() const { return m_segments.empty(); }
    size_t segmentCount() const { return m_segments.size(); } // for tests: no growth without ids

private:
    using Ids = std::vector<quint64>;
    void split(qint64 at);   // a segment boundary at `at`
    void mergeAt(qint64 at); // drops the boundary at `at` if it separates nothing

    std::map<qint64, Ids> m_segments;
};

} // namespace sparsescope
