#pragma once
// Opening an object: its source, its cache entry and what the first read needs, in as few round
// trips as the source allows (a cold read costs the connection and one GET; no HEAD before it).
//
//   new object     GET of the first read's chunks (or `bytes=-N` for a tail) learns size and
//                  validator from the 206 (RFC 9110 §14.4 Content-Range, §8.8 ETag/Last-Modified);
//                  a HEAD only when nothing is to be read.
//   cached object  the entry opens as cached; the first read's missing chunks are asked with
//                  If-Range (§13.1.5): a 206 confirms the cache, a 200 is the changed object (its
//                  cached data is dropped, with a warning). A HEAD only when those chunks are present,
//                  and nothing at all within EngineConfig::maxAgeSeconds of the last validation.
// The probe's bytes are stored as the chunks they cover (claimed first, as any fetch), and made
// durable by the object's first commit (SparseObject::open schedules it), not on this path.

#include "engineconfig.h"
#include "result.h"
#include "source.h"

#include <QUrl>

#include <memory>

namespace sparsescope {

class SparseFileStore;

// What the caller will read first, and where it wants the upstream counters.
struct OpenOptions {
    ByteRange firstRead;    // the first read's bytes (may pass the end); empty: unknown
    qint64 tailBytes = 0;   // instead: the last N bytes (an archive's end records)
    // A reader will stream on from the first read (a tar walk): the source opens its prefetch
    // connections beside the opening request (Source::preconnect).
    bool streams = false;
    // Counters to use for this object (e.g. to print after a failed open); created when null.
    std::shared_ptr<Statistics> statistics;
};

struct OpenedEntry {
    std::unique_ptr<Source> source;
    std::unique_ptr<SparseFileStore> store;
    SourceInfo info; // without the probe's bytes (they are in the store)
    ByteRange fetched; // the whole chunks the probe stored (empty if none)
    std::shared_ptr<Statistics> statistics;
    QStringList warnings;
};

// The most a first read asks for in the opening request (bytes): the rest goes as ordinary requests.
inline constexpr qint64 kMaxFirstReadBytes = 16 << 20;

// (Blocking I/O and network: call on a job thread.) Opens `url` in config.cacheDir as described
// above. Errors: Usage (bad source), Upstream (naming the object and what the server did), LocalIo
// (the cache entry), each message naming the object.
Result<OpenedEntry> openEntry(const QUrl &url, const EngineConfig &config, const OpenOptions &options);

} // namespace sparsescope
