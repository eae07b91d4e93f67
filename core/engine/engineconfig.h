#pragma once
// EngineConfig: how objects are opened and fetched. Units: bytes and milliseconds.

#include "requestplanner.h"
#include "source.h"

#include <QString>

namespace sparsescope {

struct EngineConfig {
    static constexpr qint64 kDefaultChunkSize = 256 << 10; // chosen by measurement, see docs/PERFORMANCE.md
    static constexpr qint64 kMaxChunkSize = 64 << 20;
    static constexpr qint64 kMaxRetryAfterMs = 30000; // a longer Retry-After fails the request instead of waiting

    // The chunk-size rule, for every place that takes one from a user: a multiple of 4 KiB (hole
    // punching frees whole file-system blocks; fallocate(2)) from 4 KiB to 64 MiB. Empty when
    // `bytes` is fine, else why not.
    static QString chunkSizeProblem(qint64 bytes)
    {
        if (bytes < 4096 || bytes % 4096 != 0 || bytes > kMaxChunkSize)
            return QStringLiteral("the chunk size must be a multiple of 4K from 4K to 64M (hole punching frees whole "
                                  "file-system blocks)");
        return {};
    }

    QString cacheDir;                       // root of the cache (cachepaths.h)
    qint64 chunkSize = kDefaultChunkSize;   // for objects cached for the first time
    SourceOptions source;                   // connections, timeout, redirects
    PlannerConfig planner;                  // coalescing and splitting
    int lockWaitMs = 30000;                 // how long to wait for another process's lock
    int maxAgeSeconds = 0;                  // --max-age: trust a validation this recent without asking upstream
    int maxAttempts = 3;                    // tries of one upstream request on transient errors
    int maxQueuedWrites = 64;               // chunks buffered between network and disk (backpressure)
};

} // namespace sparsescope
