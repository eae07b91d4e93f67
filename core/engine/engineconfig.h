#pragma once
// EngineConfig: how objects are opened and fetched. Units: bytes and milliseconds.

#include "requestplanner.h"
#include "source.h"

#include <QString>

namespace sparsescope {

struct EngineConfig {
    static constexpr qint64 kDefaultChunkSize = 256 << 10; // chosen by measurement, see README

    QString cacheDir;                       // root of the cache (cachepaths.h)
    qint64 chunkSize = kDefaultChunkSize;   // for objects cached for the first time
    SourceOptions source;                   // connections, timeout, redirects
    PlannerConfig planner;                  // coalescing and splitting
    int lockWaitMs = 30000;                 // how long to wait for another process's lock
    int maxAttempts = 3;                    // tries of one upstream request on transient errors
    int maxQueuedWrites = 64;               // chunks buffered between network and disk (backpressure)
};

} // namespace sparsescope
