#pragma once
// Request planning: turns runs of missing chunks into upstream requests. Adjacent missing chunks
// are coalesced into one request up to `maxRequestBytes`; a long run is also split so that the
// parallel connections share it (pieces of at least `minSplitBytes`). Pure function.

#include "chunkgeometry.h"

#include <QList>

#include <utility>

namespace sparsescope {

struct PlannerConfig {
    qint64 maxRequestBytes = 16 << 20; // coalescing cap of one upstream request
    qint64 minSplitBytes = 2 << 20;    // never split a run into pieces smaller than this
    int connections = 4;
};

// `missingRuns`: inclusive chunk spans [first, last], sorted, disjoint.
// Returns inclusive chunk spans, one per upstream request, in offset order; together they cover
// exactly the chunks of missingRuns.
QList<std::pair<qint64, qint64>> planRequests(const QList<std::pair<qint64, qint64>> &missingRuns,
                                              const ChunkGeometry &geometry, const PlannerConfig &config);

} // namespace sparsescope
