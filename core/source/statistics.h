#pragma once
// Statistics: counters of one object's traffic, shared by its source (upstream side) and its
// engine (cache side). Lock-free; readable from any thread.

#include <QtGlobal>

#include <atomic>

namespace sparsescope {

struct Statistics {
    std::atomic<qint64> upstreamRequests{0}; // every request sent upstream: HEAD, GET, each redirect hop
    std::atomic<qint64> upstreamBytes{0};    // response body bytes received from upstream
    std::atomic<qint64> cacheHitBytes{0};    // bytes of reads served from chunks already present
    std::atomic<qint64> storedBytes{0};      // bytes written into the store
};

} // namespace sparsescope
