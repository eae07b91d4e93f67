#include "httpworker.h"
#include "s3error.h"
#include "sigv4.h"
#include "cachepaths.h"
#include "httpresponse.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTimer>

namespace sparsescope {

namespace {
constexpr qint64 kReadBufferBytes = 1 << 20;
// While a user's read runs, the bodies of running prefetches are not read (onReadyRead) and their
// Qt buffers are cut to this, so that Qt's HTTP thread stops reading their sockets at once (and
// the server, its TCP window closing, stops sending) rather than after up to kReadBufferBytes
// each: CPU the user's request needs on a busy machine. bench_engine 4, median cold 4 KiB read
// during a full prefetch: 2.3-3.1 ms -> 1.6-2.0 (idle 0.7-1.2); sequential reads unchanged.
constexpr qint64 kPausedReadBufferBytes = 64 << 10;

int statusOf(QNetworkReply *reply) { return HttpWorker::statusOf(reply); }

// Worth another attempt: 5xx and 429 (RFC 9110 §15.6, RFC 6585 §4), and transport failures —
// a connection closed, reset or stalled (our inactivity timeout), also in the middle of a body.
bool isTransient(QNetworkReply *reply)
{
    const int status = statusOf(reply);
    if (status >= 500 || status == 429)
        return true;
    if (status >= 400)
        return false;
    switch (reply->error()) {
    case QNetworkReply::RemoteHostClosedError:
    case QNetworkReply::TimeoutError:
    case QNetworkReply::OperationCanceledError: // the transfer timeout; our own cancels never ask
    case QNetworkReply::TemporaryNetworkFailureError:
    case QNetworkReply::NetworkSessionFailedError:
    case QNetworkReply::ConnectionRefusedError:
    case QNetworkReply::UnknownNetworkError:
    case QNetworkReply::ProxyConnectionClosedError:
    case QNetworkReply::ProxyTimeoutError:
    case QNetworkReply::ProtocolFailure:
        return true;
    default:
        return false;
    }
}

// An upstream failure of `reply`: whether to retry it, and when the server asks us to.
Error upstreamError(QNetworkReply *reply, QString message)
{
    Error e = makeError(ErrorKind::Upstream, std::move(message));
    e.retryable = isTransient(reply);
    e.retryAfterMs = http::retryAfterMs(reply->rawHeader("Retry-After"), QDateTime::currentDateTimeUtc());
    return e;
}

QString statusText(QNetworkReply *reply)
{
    const int status = statusOf(reply);
    const QString reason = reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString();
    QString hint;
    if (status == 404 || status == 410)
        hint = QStringLiteral("; check the URL");
    else if (status == 401 || status == 403)
        hint = QStringLiteral("; check the credentials or the URL's token");
    else if (status == 416)
        hint = QStringLiteral("; the object may have shrunk upstream");
    else if (status >= 500 || status == 429)
        hint = QStringLiteral("; the server is failing or overloaded, try again later");
    return QStringLiteral("HTTP %1 %2%3").arg(status).arg(reason, hint).simplified();
}
} // namespace

HttpWorker::HttpWorker(QUrl url, const SourceOptions &options, std::shared_ptr<Statistics> statistics, NetworkStack *stack,
                       std::optional<S3Object> s3Object)
    : m_s3(std::move(s3Object)), m_stack(stack),
      m_url(m_s3 ? aws::objectUrl(m_s3->settings, m_s3->bucket, m_s3->key) : std::move(url)), m_effectiveUrl(m_url),
      m_display(m_s3 ? QStringLiteral("s3://%1/%2").arg(m_s3->bucket, m_s3->key) : cachepaths::redactedSource(m_url)),
      m_options(options), m_stats(std::move(statistics)), m_buffer(kReadBufferBytes, Qt::Uninitialized)
{
    m_info.displayName = m_display;
    if (!m_options.caFile.isEmpty())
        (void)tlsConfiguration(); // a bad --ca-file fails open() even for an http:// source
}

const QSslConfiguration &HttpWorker::tlsConfiguration()
{
    // Built on first use, so that plain HTTP never loads the TLS backend (OpenSSL).
    if (!m_tls)
        m_tls = NetworkStack::tlsConfiguration(m_options.caFile, &m_tlsError);
    return *m_tls;
}

HttpWorker::~HttpWorker()
{
    m_link->detach();
    abortAll();
}

bool HttpWorker::isTransientFailure(QNetworkReply *reply) { return isTransient(reply); }
Error HttpWorker::upstreamFailure(QNetworkReply *reply, QString message) { return upstreamError(reply, std::move(message)); }

qint64 HttpWorker::contentLengthOf(QNetworkReply *reply)
{
    bool ok = false;
    const qint64 n = http::finalContentLength(reply->rawHeader("Content-Length")).toLongLong(&ok);
    return ok && n >= 0 ? n : -1;
}

int HttpWorker::statusOf(QNetworkReply *reply) { return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(); }

QNetworkRequest HttpWorker::makeRequest(const QUrl &url)
{
    QNetworkRequest req(url);
    if (url.scheme() == u"https")
        req.setSslConfiguration(tlsConfiguration());
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::NoLessSafeRedirectPolicy);
    req.setMaximumRedirectsAllowed(m_options.maxRedirects);
    req.setTransferTimeout(m_options.timeoutMs);
    req.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
    // Setting Accept-Encoding ourselves also turns off QNAM's transparent decompression.
    req.setRawHeader("Accept-Encoding", "identity");
    req.setHeader(QNetworkRequest::UserAgentHeader, QByteArray("SparseScope/" SPARSESCOPE_VERSION));
    return req;
}

void HttpWorker::sign(QNetworkRequest &req, const QByteArray &method) const
{
    if (!m_s3)
        return;
    for (const auto &[name, value] : sigv4::sign(method, req.url(), {}, m_s3->settings.credentials, m_s3->settings.region,
                                                 QDateTime::currentDateTimeUtc()))
        req.setRawHeader(name, value);
}

Error HttpWorker::s3Failure(QNetworkReply *reply, const QString &where, const QByteArray &body) const
{
    const int status = statusOf(reply);
    const QString why = s3::explain(status, body, m_s3->bucket, m_s3->key);
    if (status == 412)
        return makeError(ErrorKind::Changed, QStringLiteral("%1 changed upstream: it was replaced (%2)").arg(m_display, why));
    return upstreamError(reply, QStringLiteral("%1: %2").arg(where, why));
}

void HttpWorker::preconnect()
{
    if (std::exchange(m_preconnected, true))
        return;
    // Two: a streaming reader's read-ahead has the running request and the next one, which goes
    // out before the running one ends (SparseDevice), in flight at once. (A tar listed through
    // 100 ms of latency: one connection 5.1 RTT, two 4.3.)
    const QUrl url = m_effectiveUrl.isValid() ? m_effectiveUrl : m_url;
    QNetworkAccessManager *nam = pickManager(/*interactive=*/false);
    for (int i = 0; i < 2; ++i) {
        if (url.scheme() == u"https")
            nam->connectToHostEncrypted(url.host(), quint16(url.port(443)), tlsConfiguration());
        else
            nam->connectToHost(url.host(), quint16(url.port(80)));
    }
}

QNetworkAccessManager *HttpWorker::pickManager(bool interactive)
{
    // A user's reads get managers of their own (networkstack.h): each runs its sockets on a
    // thread of its own inside Qt, so a read is not served behind the socket events of downloads.
    return m_stack->manager(interactive);
}

void HttpWorker::watchRedirects(QNetworkReply *reply)
{
    m_stats->upstreamRequests++;
    connect(reply, &QNetworkReply::redirected, this, [this](const QUrl &) { m_stats->upstreamRequests++; });
}

QString HttpWorker::where(ByteRange range) const
{
    return QStringLiteral("%1 bytes %2").arg(m_display, range.toInclusiveString());
}

QString HttpWorker::replyError(QNetworkReply *reply) const
{
    const int status = statusOf(reply);
    if (status >= 400)
        return statusText(reply);
    switch (reply->error()) {
    case QNetworkReply::OperationCanceledError: // our own cancels never get here: this is the transfer timeout
    case QNetworkReply::TimeoutError:
        return QStringLiteral("no data for %1 s (inactivity timeout; raise it with --timeout)").arg(m_options.timeoutMs / 1000.0);
    case QNetworkReply::ConnectionRefusedError:
        return QStringLiteral("connection refused by %1:%2; is the server running?").arg(reply->url().host()).arg(reply->url().port(80));
    case QNetworkReply::HostNotFoundError:
        return QStringLiteral("host %1 not found; check the URL").arg(reply->url().host());
    case QNetworkReply::RemoteHostClosedError:
        return QStringLiteral("the server closed the connection early");
    case QNetworkReply::SslHandshakeFailedError:
        return QStringLiteral("TLS handshake failed (%1); the server's certificate is not trusted — if it comes from a "
                              "private CA, pass that CA's certificate with --ca-file FILE").arg(reply->errorString());
    case QNetworkReply::TooManyRedirectsError:
        return QStringLiteral("more than %1 redirects").arg(m_options.maxRedirects);
    case QNetworkReply::InsecureRedirectError:
        return QStringLiteral("refused a redirect from https to http");
    default:
        return reply->errorString();
    }
}

void HttpWorker::startRead(quint64 id, ByteRange range, std::shared_ptr<ReadSink> sink, bool interactive)
{
    // A server that ignores ranges: the whole object is asked for and `range` cut out of it, which
    // is worth it for the whole object, or a part of a small one.
    const bool whole = m_rangesIgnored.load();
    if (whole && range.length() < m_info.size && m_info.size > kMaxProbeBytes) {
        const QString why = QStringLiteral("%1: the server does not support ranges; `prefetch` fetches the whole object once "
                                           "(%2 MiB)").arg(where(range)).arg(m_info.size >> 20);
        QTimer::singleShot(0, this, [sink, why] { sink->onFinished(makeError(ErrorKind::Upstream, why)); });
        return;
    }
    QNetworkRequest req = makeRequest(m_effectiveUrl);
    if (!whole) {
        req.setRawHeader("Range", http::rangeHeader(range));
        if (m_s3 && !m_ifMatch.isEmpty())
            req.setRawHeader("If-Match", m_ifMatch); // a 412 if the object was replaced
        else if (!m_ifRange.isEmpty())
            req.setRawHeader("If-Range", m_ifRange);
    }
    sign(req, "GET");
    QNetworkAccessManager *nam = pickManager(interactive);
    QNetworkReply *reply = nam->get(req);
    reply->setProperty("ifRange", !whole && !m_s3 && !m_ifRange.isEmpty());
    reply->setReadBufferSize(interactive || m_interactiveRunning == 0 ? kReadBufferBytes : kPausedReadBufferBytes);
    watchRedirects(reply);
    m_stack->started(nam);
    Transfer t;
    t.range = range;
    t.sink = std::move(sink);
    t.reply = reply;
    t.manager = nam;
    t.interactive = interactive;
    t.whole = whole;
    t.skip = whole ? range.begin : 0;
    if (interactive && m_interactiveRunning++ == 0)
        setPrefetchReadBuffers(kPausedReadBufferBytes);
    m_transfers.emplace(id, std::move(t));
    connect(reply, &QNetworkReply::readyRead, this, [this, id] { onReadyRead(id); });
    connect(reply, &QNetworkReply::finished, this, [this, id] { onFinished(id); });
}

Status HttpWorker::checkValidators(QNetworkReply *reply) const
{
    const QString now = http::validatorOf(reply->rawHeader("ETag"), reply->rawHeader("Last-Modified"));
    if (now.isEmpty() || m_info.validator.isEmpty() || http::sameValidator(m_info.validator, now))
        return okStatus();
    return makeError(ErrorKind::Changed, QStringLiteral("%1 changed upstream (validator %2 -> %3)").arg(m_display, m_info.validator, now));
}

bool HttpWorker::checkHeaders(Transfer &t)
{
    if (t.checked)
        return t.failure.ok();
    t.checked = true;
    QNetworkReply *reply = t.reply;
    const int status = statusOf(reply);
    if (status >= 400) {
        t.failure = upstreamError(reply, QStringLiteral("%1: %2").arg(where(t.range), statusText(reply)));
        return false;
    }
    if (t.whole) {
        const qint64 length = contentLengthOf(reply);
        if (status != 200)
            t.failure = makeError(ErrorKind::Upstream, QStringLiteral("%1: expected the whole object (HTTP 200), got HTTP %2").arg(where(t.range)).arg(status));
        else if (t.failure = checkValidators(reply); t.failure && length >= 0 && length != m_info.size)
            t.failure = http::sizeChanged(where(t.range), length, m_info.size);
        return t.failure.ok();
    }
    const QByteArray encoding = reply->rawHeader("Content-Encoding").trimmed().toLower();
    if (status == 206 && (encoding.isEmpty() || encoding == "identity")) {
        // One range in a multipart/byteranges body (RFC 9110 §14.6 allows it): collected, then
        // parsed and checked as a single 206 would be (onFinished).
        t.boundary = http::multipartBoundary(reply->rawHeader("Content-Type"));
        if (!t.boundary.isEmpty()) {
            t.failure = checkValidators(reply);
            return t.failure.ok();
        }
    }
    http::RangeResponse r;
    r.status = status;
    r.contentRange = reply->rawHeader("Content-Range");
    r.contentLength = http::finalContentLength(reply->rawHeader("Content-Length"));
    r.contentEncoding = reply->rawHeader("Content-Encoding");
    r.contentType = reply->rawHeader("Content-Type");
    t.failure = http::checkRangeResponse(m_display, t.range, m_info.size, r);
    const Status validators = checkValidators(reply);
    if (!t.failure && t.failure.error().kind == ErrorKind::Changed && status == 200) {
        if (!validators) {
            t.failure = validators;
        } else if (reply->property("ifRange").toBool()) {
            // The validators are the same, so the server could not validate our If-Range (Apache
            // with a Last-Modified less than a second old): ask again without it; the response's
            // validators are compared with ours instead.
            m_ifRange.clear();
            t.failure = makeError(ErrorKind::Upstream, QStringLiteral("%1: the server could not validate the cached copy "
                                                                      "(If-Range); asking again without it").arg(where(t.range)));
            t.failure.errorRef().retryable = true;
            t.failure.errorRef().retryAfterMs = 0;
        } else {
            // Python's http.server, say: from now on the whole object is asked for and cut.
            m_rangesIgnored = true;
            t.failure = makeError(ErrorKind::Upstream, QStringLiteral("%1: the server ignored the Range header and sent the "
                                                                      "whole object (HTTP 200); asking for the whole object").arg(where(t.range)));
            t.failure.errorRef().retryable = true;
            t.failure.errorRef().retryAfterMs = 0;
        }
    } else if (t.failure.ok() && !validators) {
        t.failure = validators; // a 206 sent without If-Range (a weak or no validator) is checked by its own
    }
    return t.failure.ok();
}

void HttpWorker::onFinished(quint64 id)
{
    auto it = m_transfers.find(id);
    if (it == m_transfers.end())
        return;
    Transfer &t = it->second;
    QNetworkReply *reply = t.reply;
    if (!t.cancelled && t.failure.ok() && reply->error() == QNetworkReply::NoError) {
        onReadyRead(id, /*finishing=*/true); // drain what is left, checking headers of empty bodies too
        if (!t.boundary.isEmpty() && t.failure.ok())
            t.failure = deliverMultipart(t);
    }
    if (m_s3 && statusOf(reply) >= 400 && !t.cancelled)
        t.failure = s3Failure(reply, where(t.range), reply->readAll()); // the XML error body says why
    Status result = okStatus();
    if (!t.failure.ok()) {
        result = t.failure;
    } else if (t.cancelled) {
        result = makeError(ErrorKind::Cancelled, QStringLiteral("%1: cancelled").arg(where(t.range)));
    } else if (reply->error() != QNetworkReply::NoError && !t.endedEarly) {
        m_stats->upstreamBytes += reply->readAll().size();
        const QString progress = t.received > 0 ? QStringLiteral(" after %1 of %2 bytes").arg(t.received).arg(t.range.length()) : QString();
        result = upstreamError(reply, QStringLiteral("%1: %2%3").arg(where(t.range), replyError(reply), progress));
    } else if (t.received != t.range.length()) {
        result = makeError(ErrorKind::Upstream, QStringLiteral("%1: the response body ended after %2 of %3 bytes")
                                                    .arg(where(t.range)).arg(t.received).arg(t.range.length()));
        result.errorRef().retryable = true;
    }
    std::shared_ptr<ReadSink> sink = std::move(t.sink);
    const bool wasInteractive = t.interactive;
    m_stack->finished(t.manager);
    m_transfers.erase(it);
    reply->deleteLater();
    sink->onFinished(result);
    if (wasInteractive && --m_interactiveRunning == 0) {
        setPrefetchReadBuffers(kReadBufferBytes);
        QList<quint64> paused;
        for (auto &[pid, p] : m_transfers)
            if (p.paused) {
                p.paused = false;
                paused.append(pid);
            }
        for (quint64 pid : paused)
            onReadyRead(pid);
    }
}

void HttpWorker::setPrefetchReadBuffers(qint64 bytes)
{
    for (auto &[id, t] : m_transfers)
        if (!t.interactive && t.reply)
            t.reply->setReadBufferSize(bytes);
}

void HttpWorker::cancel(quint64 id)
{
    if (auto b = m_batchOf.find(id); b != m_batchOf.end()) {
        std::shared_ptr<Batch> batch = b->second;
        m_batchOf.erase(b);
        const qsizetype i = batch->ids.indexOf(id);
        if (std::shared_ptr<ReadSink> sink = std::exchange(batch->sinks[i], nullptr))
            sink->onFinished(makeError(ErrorKind::Cancelled, QStringLiteral("%1: cancelled").arg(where(batch->ranges[i]))));
        if (std::none_of(batch->sinks.begin(), batch->sinks.end(), [](const auto &s) { return bool(s); }))
            batch->reply->abort(); // nobody waits for it any more
        return;
    }
    auto it = m_transfers.find(id);
    if (it == m_transfers.end())
        return;
    it->second.cancelled = true;
    it->second.reply->abort(); // emits finished synchronously -> onFinished
}

void HttpWorker::abortAll()
{
    QList<quint64> ids;
    for (const auto &[id, t] : m_transfers)
        ids.append(id);
    for (const auto &[id, b] : m_batchOf)
        ids.append(id);
    for (quint64 id : ids)
        cancel(id);
}

} // namespace sparsescope
