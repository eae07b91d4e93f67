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
#include <QDateTime>
#include <QString>

#include <functional>
#include <memory>

namespace sparsescope {

struct SourceInfo {
    qint64 size = 0;      // bytes
    QString validator;    // the ETag (strong or weak), else Last-Modified, else empty (local: "mtime:size:inode")
    QString displayName;  // redacted, for messages and the cache's meta.json
    QDateTime lastModified; // Last-Modified of the opening answer (RFC 9110 §8.8.2), a file's mtime; invalid if unknown
    // What the probe of open(OpenProbe) fetched: bytes [probeOffset, probeOffset + probeBytes.size())
    // of the object, already checked. Empty when open() fetched nothing (a HEAD, a local file).
    QByteArray probeBytes;
    qint64 probeOffset = 0;
};

// What open() may fetch with the request that learns size and validator, so that the first read
// costs no round trip of its own (RFC 9110 §14.1.2: an int-range, or a suffix-range "bytes=-N").
// An empty probe (neither a range nor a suffix) opens with a HEAD.
struct OpenProbe {
    ByteRange range;          // bytes to fetch; `end` may pass the object's end (the server clamps it)
    qint64 suffixBytes = 0;   // instead of `range`: the last N bytes of the object
    // The validator cached for the object, sent as If-Range (§13.1.5; not a weak ETag) so that the
    // same round trip revalidates: a 206 confirms it, a 200 is the changed object. Empty for a new object.
    QString cachedValidator;
    bool isEmpty() const { return range.isEmpty() && suffixBytes <= 0; }
};
// The largest body a probe reads into memory: a server that ignores ranges (python's http.server)
// sends the whole object, which is kept when it is no larger than this, else dropped.
inline constexpr qint64 kMaxProbeBytes = 64 << 20;

class ReadSink {
public:
    virtual ~ReadSink() = default;
    // The next `length` bytes of the requested range (the first call starts at range.begin).
    // Return false to stop the transfer; onFinished() is still called (with Cancelled).
    virtual bool onBytes(const char *data, qint64 length) = 0;
    // Zero-copy delivery, optional: where the next bytes may be written (at most `*room` of them),
    // or null (then onBytes() only). A source that wrote n bytes there (0 < n <= room) calls
    // written(n) before anything else of this sink (having written nothing, it need not); written()
    // returns as onBytes() does. Same thread as onBytes.
    virtual char *space(qint64 *room)
    {
        (void)room;
        return nullptr;
    }
    virtual bool written(qint64 length)
    {
        (void)length;
        return false;
    }
    // Whether the sink takes more bytes now (backpressure without blocking the source's thread).
    // If not, the source stops reading this transfer's body — its bounded buffer and TCP then
    // hold the stream back — until `resume` is called (once, from any thread); a source may still
    // deliver the bytes it has already read when the transfer ends. Any thread.
    virtual bool ready(std::function<void()> resume)
    {
        (void)resume;
        return true;
    }
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

    // Discovers size and validator and, where the source gains by it, fetches `probe` in the same
    // request (SourceInfo::probeBytes; a server without ranges sends the whole object, kept up to
    // kMaxProbeBytes). Errors: Upstream (unreachable, HTTP error, Accept-Ranges: none), LocalIo
    // (local file missing or unreadable).
    virtual QFuture<Result<SourceInfo>> open(const OpenProbe &probe = {}) = 0;
    // Takes `info` (size and validator cached for the object, still fresh by --max-age) as if open()
    // had learned them, without asking upstream; later reads are checked against it.
    virtual void assume(const SourceInfo &info) = 0;
    // Starts one upstream request for `range` (within the object) and returns its id. Bytes
    // go to `sink`, which the source keeps alive until onFinished() returns. `interactive`
    // requests (a user's read) may hold back the others while they run.
    virtual quint64 read(ByteRange range, std::shared_ptr<ReadSink> sink, bool interactive = false) = 0;
    // Starts reads of several byte ranges (in increasing order, not overlapping) that the source may
    // send as one upstream request (HTTP: one multi-range GET, RFC 9110 §14.1.2, answered with
    // multipart/byteranges); each gets its own id and sink, as read() would. A source that cannot
    // (or whose server would not) starts them one by one. A member whose bytes the answer lacks
    // fails with a retryable Upstream error (the engine asks for it again, alone).
    virtual QList<quint64> readBatch(const QList<ByteRange> &ranges, const QList<std::shared_ptr<ReadSink>> &sinks, bool interactive)
    {
        QList<quint64> ids;
        for (qsizetype i = 0; i < ranges.size(); ++i)
            ids.append(read(ranges[i], sinks[i], interactive));
        return ids;
    }
    // True once the source knows its server ignores ranges (HTTP 200 for a range): each read then
    // costs the object from its start, so the engine asks for whole missing runs. Any thread.
    virtual bool rangesIgnored() const { return false; }
    // Whether readBatch() sends several ranges as one upstream request (else it is read() each).
    virtual bool batchesReads() const { return false; }
    // Stops request `id` if still running; its sink then sees onFinished(Cancelled).
    virtual void cancel(quint64 id) = 0;
    // A reader is about to stream through the object (its read-ahead follows the first read):
    // open the connection prefetches go over now, beside the opening request, so that the first
    // read-ahead does not pay a connect (and TLS) round trip. No request is sent. Any thread; a
    // no-op where connecting costs nothing (local files).
    virtual void preconnect() {}
    virtual QString backendName() const = 0; // e.g. "http", "pread"
    virtual std::shared_ptr<Statistics> statistics() const = 0;
};

// Creates the source for `url` (http, https or file). Errors (Usage): any other scheme.
Result<std::unique_ptr<Source>> createSource(const QUrl &url, const SourceOptions &options,
                                             std::shared_ptr<Statistics> statistics);

} // namespace sparsescope
