#pragma once
// HttpSource: an HTTP(S) resource read with range GETs (RFC 9110 §14) on QNetworkAccessManager,
// in the process's network thread (HttpWorker; the managers and their connections are shared by
// every source of the process, networkstack.h). Size and validator come from the first read's
// range GET (OpenProbe: no HEAD before it), else from HEAD, or from a `Range: bytes=0-0` GET when
// HEAD is refused or has no length. Every range request carries `If-Range` (strong ETag or
// Last-Modified; none for a weak ETag, RFC 9110 §13.1.5) and `Accept-Encoding: identity`; every response is
// checked (httpresponse.h) before a byte of it reaches the sink, and bodies stream to the sink
// as they arrive (at most ~1 MiB buffered per request). Redirects are followed (bounded by
// SourceOptions::maxRedirects); later requests go straight to the final URL.
// Connections are reused, across objects too; up to SourceOptions::connections requests of
// one object run at once.

#include "awssettings.h"
#include "source.h"

#include <QUrl>

namespace sparsescope {

class HttpWorker;
class NetworkStack;

class HttpSource final : public Source {
public:
    HttpSource(QUrl url, const SourceOptions &options, std::shared_ptr<Statistics> statistics);
    // An S3 object: `url` is s3://BUCKET/KEY; requests go to the settings' endpoint, signed.
    HttpSource(QUrl url, const SourceOptions &options, std::shared_ptr<Statistics> statistics, aws::S3Settings s3);
    ~HttpSource() override; // aborts running requests (their sinks see Cancelled); the last source stops the network thread

    QFuture<Result<SourceInfo>> open(const OpenProbe &probe = {}) override;
    void assume(const SourceInfo &info) override;
    quint64 read(ByteRange range, std::shared_ptr<ReadSink> sink, bool interactive = false) override;
    bool batchesReads() const override;
    bool rangesIgnored() const override;
    QList<quint64> readBatch(const QList<ByteRange> &ranges, const QList<std::shared_ptr<ReadSink>> &sinks, bool interactive) override;
    void cancel(quint64 id) override;
    void preconnect() override;
    QString backendName() const override { return m_s3 ? QStringLiteral("s3") : QStringLiteral("http"); }
    std::shared_ptr<Statistics> statistics() const override { return m_stats; }

private:
    std::shared_ptr<Statistics> m_stats;
    std::shared_ptr<NetworkStack> m_stack; // released after m_worker is gone
    HttpWorker *m_worker = nullptr;        // lives in m_stack's thread
    std::atomic<quint64> m_nextId{1};
    bool m_s3 = false;
};

} // namespace sparsescope
