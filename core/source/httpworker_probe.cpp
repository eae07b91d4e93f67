// HttpWorker's open(): learning an object's size and validator upstream, by the first read's range
// GET when there is one (no HEAD before it: the round trip a cold read saves), else by HEAD.
#include "httpworker.h"
#include "httpresponse.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>

namespace sparsescope {

namespace {
void answer(const std::shared_ptr<QPromise<Result<SourceInfo>>> &promise, Result<SourceInfo> result)
{
    promise->addResult(std::move(result));
    promise->finish();
}

// m_info with the version an answer names: its validator (ETag, else Last-Modified) and date.
SourceInfo versionOf(SourceInfo info, QNetworkReply *reply)
{
    info.validator = http::validatorOf(reply->rawHeader("ETag"), reply->rawHeader("Last-Modified"));
    info.lastModified = reply->header(QNetworkRequest::LastModifiedHeader).toDateTime();
    return info;
}

bool isFatalStatus(int status, QNetworkReply *reply)
{
    return status == 404 || status == 410 || status == 401 || status == 407 ||
           (status == 0 && reply->error() != QNetworkReply::NoError);
}
} // namespace

void HttpWorker::probe(InfoPromise promise, const OpenProbe &probe)
{
    if (!m_tlsError.isEmpty())
        return answer(promise, makeError(ErrorKind::Usage, m_tlsError));
    if (probe.isEmpty() || m_s3) // S3: HEAD records size and ETag; every GET then carries If-Match
        probeWithHead(promise);
    else
        probeWithRange(promise, probe);
}

void HttpWorker::assume(const SourceInfo &info)
{
    m_info.size = info.size;
    m_info.validator = info.validator;
    setValidator(info.validator);
}

void HttpWorker::setValidator(const QString &validator)
{
    m_ifRange = http::ifRangeFor(validator);
    m_ifMatch = m_s3 && m_ifRange.startsWith('"') ? m_ifRange : QByteArray(); // S3: a strong ETag, never a date
}

void HttpWorker::adopt(QNetworkReply *reply, const SourceInfo &info)
{
    m_effectiveUrl = reply->url();
    m_info.size = info.size;
    m_info.validator = info.validator;
    setValidator(info.validator);
}

void HttpWorker::probeWithHead(InfoPromise promise)
{
    // On the manager of a user's reads: opening is one, and its connection then serves the next.
    QNetworkAccessManager *nam = pickManager(/*interactive=*/true);
    QNetworkRequest req = makeRequest(m_url);
    sign(req, "HEAD");
    QNetworkReply *reply = nam->head(req);
    watchRedirects(reply);
    connect(reply, &QNetworkReply::finished, this, [this, reply, promise] {
        reply->deleteLater();
        const int status = statusOf(reply);
        const bool haveLength = contentLengthOf(reply) >= 0;
        if (reply->error() == QNetworkReply::NoError && status >= 200 && status < 300 && haveLength) {
            if (reply->rawHeader("Accept-Ranges").trimmed().toLower() == "none")
                return answer(promise, makeError(ErrorKind::Upstream, QStringLiteral("%1: the server does not support byte ranges "
                                                                                     "(Accept-Ranges: none)").arg(m_display)));
            SourceInfo info = versionOf(m_info, reply);
            info.size = contentLengthOf(reply);
            adopt(reply, info);
            return answer(promise, info);
        }
        if (isFatalStatus(status, reply) && !(m_s3 && status >= 400)) // S3: the GET below brings the error's body
            return answer(promise, makeError(ErrorKind::Upstream, QStringLiteral("%1: %2").arg(m_display, replyError(reply))));
        probeWithRangeGet(promise); // HEAD refused (405, 501, 403, ...) or without a length
    });
}

void HttpWorker::probeWithRangeGet(InfoPromise promise)
{
    OpenProbe first;
    first.range = {0, 1};
    probeWithRange(promise, first);
}

void HttpWorker::probeWithRange(InfoPromise promise, const OpenProbe &probe)
{
    QNetworkRequest req = makeRequest(m_url);
    const QByteArray range = probe.suffixBytes > 0 ? "bytes=-" + QByteArray::number(probe.suffixBytes) : http::rangeHeader(probe.range);
    req.setRawHeader("Range", range);
    const QByteArray ifRange = http::ifRangeFor(probe.cachedValidator);
    if (!ifRange.isEmpty() && !m_s3)
        req.setRawHeader("If-Range", ifRange);
    sign(req, "GET");
    QNetworkReply *reply = pickManager(/*interactive=*/true)->get(req); // as the HEAD above
    watchRedirects(reply);
    const qint64 wanted = probe.suffixBytes > 0 ? probe.suffixBytes : probe.range.length();
    auto body = std::make_shared<QByteArray>();
    auto complete = std::make_shared<bool>(true);
    // A whole object (200) is kept up to kMaxProbeBytes: a server without ranges then still serves
    // small objects. A larger one, or a body longer than asked, is stopped.
    connect(reply, &QNetworkReply::metaDataChanged, this, [reply, complete] {
        const qint64 length = HttpWorker::contentLengthOf(reply);
        if (HttpWorker::statusOf(reply) == 200 && (length < 0 || length > kMaxProbeBytes)) {
            *complete = false;
            reply->abort();
        }
    });
    connect(reply, &QNetworkReply::readyRead, this, [this, reply, body, complete, wanted] {
        const QByteArray more = reply->readAll();
        m_stats->upstreamBytes += more.size();
        body->append(more);
        const qint64 limit = statusOf(reply) == 200 ? kMaxProbeBytes : wanted + 4096; // a multipart part's framing
        if (body->size() > limit && *complete) {
            *complete = false;
            reply->abort();
        }
    });
    connect(reply, &QNetworkReply::finished, this, [this, reply, promise, probe, body, complete] {
        reply->deleteLater();
        const QByteArray rest = reply->readAll();
        m_stats->upstreamBytes += rest.size();
        body->append(rest);
        const bool whole = *complete && reply->error() == QNetworkReply::NoError;
        if (statusOf(reply) == 416 && probe.range != ByteRange{0, 1}) {
            probeWithHead(promise); // the range lies past the end: learn the size (and validator) plainly
            return;
        }
        answer(promise, probeAnswer(reply, probe, *body, whole));
    });
}

Result<SourceInfo> HttpWorker::probeAnswer(QNetworkReply *reply, const OpenProbe &probe, const QByteArray &body, bool bodyComplete)
{
    const int status = statusOf(reply);
    const QString asked = probe.suffixBytes > 0 ? QStringLiteral("the last %1 bytes").arg(probe.suffixBytes)
                                                : QStringLiteral("bytes %1").arg(probe.range.toInclusiveString());
    auto fail = [&](const QString &why, bool retryable = false) {
        Error e = makeError(ErrorKind::Upstream, QStringLiteral("%1 %2: %3").arg(m_display, asked, why));
        e.retryable = retryable || isTransientFailure(reply);
        e.retryAfterMs = http::retryAfterMs(reply->rawHeader("Retry-After"), QDateTime::currentDateTimeUtc());
        return e;
    };
    SourceInfo info = versionOf(m_info, reply);
    const bool sentIfRange = !http::ifRangeFor(probe.cachedValidator).isEmpty();
    if (status == 416) { // asked bytes=0-0 of an empty object
        const QByteArray cr = reply->rawHeader("Content-Range").trimmed();
        if (cr != "bytes */0")
            return fail(QStringLiteral("the server did not report the object's size (HTTP 416, Content-Range \"%1\")")
                            .arg(QString::fromLatin1(cr.left(80))));
        info.size = 0;
        adopt(reply, info);
        return info;
    }
    if (m_s3 && status >= 400)
        return s3Failure(reply, m_display, body); // e.g. "s3://b/k: NoSuchKey: …; check the key (…)"
    if (status != 200 && status != 206)
        return fail(replyError(reply));
    if (status == 200) {
        // The whole object: the server ignores ranges, or our If-Range no longer matched (changed).
        const qint64 length = contentLengthOf(reply);
        if (length < 0 && !bodyComplete)
            return fail(QStringLiteral("the server answered with the whole object without saying its length"));
        info.size = length >= 0 ? length : body.size();
        const bool changed = sentIfRange && !http::sameValidator(probe.cachedValidator, info.validator);
        if (bodyComplete && body.size() == info.size) {
            info.probeBytes = body;
            info.probeOffset = 0;
        }
        if (!changed)
            m_rangesIgnored = true; // reads ask for the whole object (a large one: whole prefetches only)
        if (!changed && sentIfRange)
            info.validator = probe.cachedValidator; // the server ignored If-Range and Range alike
        adopt(reply, info);
        if (!changed && !sentIfRange)
            m_ifRange.clear();
        return info;
    }
    // 206: one range, checked as strictly as any (RFC 9110 §14.4, §15.3.7), also when it comes as
    // the one part of a multipart/byteranges body (§14.6).
    QByteArray contentRange = reply->rawHeader("Content-Range"), bytes = body;
    QByteArray contentLength = http::finalContentLength(reply->rawHeader("Content-Length"));
    if (const QByteArray boundary = http::multipartBoundary(reply->rawHeader("Content-Type")); !boundary.isEmpty() && bodyComplete) {
        auto parts = http::parseMultipartByteranges(boundary, body);
        if (!parts || parts->size() != 1)
            return fail(parts ? QStringLiteral("the server sent %1 parts for one range").arg(parts->size()) : parts.error().message);
        const http::BytePart &part = parts->first();
        contentRange = "bytes " + QByteArray::number(part.range.first) + '-' + QByteArray::number(part.range.last) + '/' +
                       QByteArray::number(part.range.complete);
        contentLength.clear();
        bytes = part.bytes;
    }
    auto cr = http::parseContentRange(contentRange);
    if (!cr || cr->complete < 0)
        return fail(QStringLiteral("the server did not report the object's size (Content-Range \"%1\")")
                        .arg(QString::fromLatin1(contentRange.left(80))));
    const qint64 size = cr->complete;
    const ByteRange want = probe.suffixBytes > 0 ? ByteRange{std::max<qint64>(0, size - probe.suffixBytes), size}
                                                 : ByteRange{probe.range.begin, std::min(probe.range.end, size)};
    http::RangeResponse r;
    r.status = status;
    r.contentRange = contentRange;
    r.contentLength = contentLength;
    r.contentEncoding = reply->rawHeader("Content-Encoding");
    if (want.isEmpty())
        return fail(QStringLiteral("the server sent bytes %1-%2 of %3").arg(cr->first).arg(cr->last).arg(size));
    if (Status st = http::checkRangeResponse(m_display, want, size, r); !st)
        return st.error();
    if (!bodyComplete || bytes.size() != want.length())
        return fail(QStringLiteral("the response body has %1 of %2 bytes").arg(bytes.size()).arg(want.length()), true);
    info.size = size;
    if (!probe.cachedValidator.isEmpty() && !http::strengthens(probe.cachedValidator, info.validator) &&
        (sentIfRange || info.validator.isEmpty() || http::sameValidator(probe.cachedValidator, info.validator)))
        info.validator = probe.cachedValidator; // a 206 to If-Range confirms the cached copy
    info.probeBytes = bytes;
    info.probeOffset = want.begin;
    adopt(reply, info);
    return info;
}

} // namespace sparsescope
