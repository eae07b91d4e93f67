#pragma once
// Source: where an object's bytes come from (a local file, an HTTP(S) resource).
//
// A source answers size and validator (open()) and streams byte ranges (read()) into a ReadSink.
// Thread affinity: open(), read() and cancel() may be called from any thread; the sink is called
// on a thread of the source's choosing (its network thread or a reader pool), one call at a time
// per request, in byte order.

#include "byterange.h"
#include "result.h"
#include "statistics.h"

#include <QFuture>
#include <QString>

#include <memory>

namespace sparsescope {

struct SourceInfo {
    qint64 size = 0;      // bytes
    QString validator;    // strong ETag, else Last-Modified, else empty (local: "mtime:size:inode")
    QString displayName;  // redacted, for messages and the cache's meta.json
};

class ReadSink {
public:
    virtual ~ReadSink() = default;
    // The next `length` bytes of the requested range (the first call starts at range.begin).
    // Return false to stop the transfer; onFinished() is still called (with Cancelled).
    virtual bool onBytes(const char *data, qint64 length) = 0;
    // Called exactly once when the request ends. Ok means every byte of the range was delivered
    // and the response was verified (for HTTP: RFC 9110 §14.4 Content-Range, length, encoding).
    virtual void onFinished(const Status &result) = 0;
};

struct SourceOptions {
    int connections = 4;       // upstream requests in parallel
    int timeoutMs = 30000;     // inactivity timeout of one upstream request
    int maxRedirects = 10;
    QString caFile;            // PEM file of CA certificates trusted for HTTPS besides the system's
};

class Source {
public:
    virtual ~Source() = default;

    // Discovers size and validator. Errors: Upstream (unreachable, HTTP error, no range support),
    // LocalIo (local file missing or unreadable).
    virtual QFuture<Result<SourceInfo>> open() = 0;
    // Starts one upstream request for `range` (within the object) and returns its id. Bytes
    // go to `sink`, which the source keeps alive until onFinished() returns. `interactive`
    // requests (a user's read) may hold back the others while they run.
    virtual quint64 read(ByteRange range, std::shared_ptr<ReadSink> sink, bool interactive = false) = 0;
    // Stops request `id` if still running; its sink then sees onFinished(Cancelled).
    virtual void cancel(quint64 id) = 0;
    virtual QString backendName() const = 0; // e.g. "http", "pread"
    virtual std::shared_ptr<Statistics> statistics() const = 0;
};

// Creates the source for `url` (http, https or file). Errors (Usage): any other scheme.
Result<std::unique_ptr<Source>> createSource(const QUrl &url, const SourceOptions &options,
                                             std::shared_ptr<Statistics> statistics);

} // namespace sparsescope
