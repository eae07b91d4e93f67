#include "requestplanner.h"

namespace sparsescope {

QList<std::pair<qint64, qint64>> planRequests(const QList<std::pair<qint64, qint64>> &missingRuns,
                                              const ChunkGeometry &geometry, const PlannerConfig &config)
{
    QList<std::pair<qint64, qint64>> out;
    const qint64 chunk = std::max<qint64>(1, geometry.chunkSize);
    const qint64 maxChunks = std::max<qint64>(1, config.maxRequestBytes / chunk);
    const qint64 minSplitChunks = std::max<qint64>(1, config.minSplitBytes / chunk);
    for (const auto &[first, last] : missingRuns) {
        const qint64 n = last - first + 1;
        if (n <= 0)
            continue;
        qint64 pieces = (n + maxChunks - 1) / maxChunks;
        // Share a long run among the connections, but not in slivers.
        const qint64 parallel = std::min<qint64>(config.connections, n / minSplitChunks);
        pieces = std::max(pieces, parallel);
        pieces = std::max<qint64>(1, pieces);
        const qint64 base = n / pieces;
        qint64 extra = n % pieces;
        qint64 at = first;
        for (qint64 p = 0; p < pieces; ++p) {
            const qint64 len = base + (extra > 0 ? 1 : 0);
            if (extra > 0)
                --extra;
            out.append({at, at + len - 1});
            at += len;
        }
    }
    return out;
}

} // namespace sparsescope
