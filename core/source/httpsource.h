#pragma once
// HttpSource: an HTTP(S) resource read with range GETs (RFC 9110 §14) on QNetworkAccessManager,
// in a network thread of its own (HttpWorker). Size and validator come from the first read's
// range GET (OpenProbe: no HEAD before it), else from HEAD, or from a `Range: bytes=0-0` GET when
// HEAD is refused or has no length. Every range request carries `If-Range` (strong ETag or
// Last-Modified; none for a weak ETag, RFC 9110 §13.1.5) and `Accept-Encoding: identity`; every response is
// checked (httpresponse.h) before a byte of it reaches the sink, and bodies stream to the sink
// as they arrive (at most ~1 MiB buffered per request). Redirects are followed (bounded by
// SourceOptions::maxRedirects); later requests go straight to the final URL.
// Connections are reused; up to SourceOptions::connections requests run at once.

#include "source.h"

#include <QThread>
#include <QUrl>

namespace sparsescope {

class HttpWorker;

class HttpSource final : public Source {
public:
    HttpSource(QUrl url, const SourceOptions &options, std::shared_ptr<Statistics> statistics);
    ~HttpSource() override; // aborts running requests (their sinks see Cancelled) and joins the thread

    QFuture<Result<SourceInfo>> open(const OpenProbe &probe = {}) override;
    void assume(const SourceInfo &info) override;
    quint64 read(ByteRange range, std::shared_ptr<ReadSink> sink, bool interactive = false) override;
    bool batchesReads() const override;
    bool rangesIgnored() const override;
    QList<quint64> readBatch(const QList<ByteRange> &ranges, const QList<std::shared_ptr<ReadSink>> &sinks, bool interactive) override;
    void cancel(quint64 id) override;
    QString backendName() const override { return QStringLiteral("http"); }
    std::shared_ptr<Statistics> statistics() const override { return m_stats; }

private:
    std::shared_ptr<Statistics> m_stats;
    QThread m_thread;
    HttpWorker *m_worker = nullptr; // lives in m_thread
    std::atomic<quint64> m_nextId{1};
};

} // namespace sparsescope
