// HttpWorker's multi-range requests: several byte ranges of the object in one GET (RFC 9110
// §14.1.2), answered with multipart/byteranges (§14.6) — or, where the server merges them, with
// fewer parts or a single 206 that covers them. Each part is checked as strictly as a single 206
// (Content-Range inside the object, the object's size, no content coding) before a byte of it
// reaches a sink. A server that answers with the whole object (200) gets single ranges from then
// on, and the members are retried one by one.
#include "httpworker.h"
#include "httpresponse.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>

namespace sparsescope {

namespace {
constexpr qint64 kPartOverheadBytes = 512; // a part's delimiter and headers, generously
}

void HttpWorker::startBatch(const QList<quint64> &ids, const QList<ByteRange> &ranges, const QList<std::shared_ptr<ReadSink>> &sinks,
                            bool interactive)
{
    if (!m_multiRange || ids.size() == 1) {
        for (qsizetype i = 0; i < ids.size(); ++i)
            startRead(ids[i], ranges[i], sinks[i], interactive);
        return;
    }
    auto batch = std::make_shared<Batch>();
    batch->ids = ids;
    batch->ranges = ranges;
    batch->sinks = sinks;
    QByteArray header = "bytes=";
    for (qsizetype i = 0; i < ranges.size(); ++i) {
        header += (i ? "," : "") + QByteArray::number(ranges[i].begin) + '-' + QByteArray::number(ranges[i].end - 1);
        batch->limit += ranges[i].length() + kPartOverheadBytes;
    }
    QNetworkRequest req = makeRequest(m_effectiveUrl);
    req.setRawHeader("Range", header);
    batch->ifRange = !m_ifRange.isEmpty();
    if (batch->ifRange)
        req.setRawHeader("If-Range", m_ifRange);
    batch->manager = pickManager(interactive);
    sign(req, "GET");
    batch->reply = batch->manager->get(req);
    m_stack->started(batch->manager);
    watchRedirects(batch->reply);
    for (quint64 id : ids)
        m_batchOf[id] = batch;
    QNetworkReply *reply = batch->reply;
    connect(reply, &QNetworkReply::metaDataChanged, this, [reply] {
        if (HttpWorker::statusOf(reply) == 200)
            reply->abort(); // the whole object: never downloaded for a few ranges
    });
    connect(reply, &QNetworkReply::readyRead, this, [this, batch] {
        const QByteArray more = batch->reply->readAll();
        m_stats->upstreamBytes += more.size();
        batch->body += more;
        if (batch->body.size() > batch->limit)
            batch->reply->abort(); // more than the ranges asked for: deliverBatch() says so
    });
    connect(reply, &QNetworkReply::finished, this, [this, batch] { finishBatch(batch); });
}

void HttpWorker::finishBatch(const std::shared_ptr<Batch> &batch)
{
    const QByteArray rest = batch->reply->readAll();
    m_stats->upstreamBytes += rest.size();
    batch->body += rest;
    batch->reply->deleteLater();
    m_stack->finished(batch->manager);
    for (quint64 id : std::as_const(batch->ids))
        m_batchOf.erase(id);
    const Status failure = deliverBatch(*batch);
    for (qsizetype i = 0; i < batch->ids.size(); ++i) {
        std::shared_ptr<ReadSink> sink = std::exchange(batch->sinks[i], nullptr);
        if (!sink)
            continue; // cancelled, or delivered
        Status result = failure;
        if (!result.ok() && !result.error().message.contains(m_display))
            result.errorRef().message = QStringLiteral("%1: %2").arg(where(batch->ranges[i]), result.error().message);
        else if (result.ok())
            result = makeError(ErrorKind::Upstream, QStringLiteral("%1: the server's answer to a multi-range request lacked these "
                                                                   "bytes; asking for them alone").arg(where(batch->ranges[i])));
        if (!result.ok() && result.error().kind == ErrorKind::Upstream && failure.ok())
            result.errorRef().retryable = true;
        sink->onFinished(result);
    }
}

Status HttpWorker::deliverBatch(Batch &batch)
{
    QNetworkReply *reply = batch.reply;
    const int status = statusOf(reply);
    if (status >= 400)
        return upstreamFailure(reply, replyError(reply));
    if (status == 200) {
        if (Status st = checkValidators(reply); !st)
            return st;
        m_multiRange = false;
        Error e = makeError(ErrorKind::Upstream, QStringLiteral("the server answers several ranges with the whole object; "
                                                                "asking for them one by one"));
        e.retryable = true;
        e.retryAfterMs = 0;
        return e;
    }
    if (reply->error() != QNetworkReply::NoError) {
        if (batch.body.size() > batch.limit)
            return makeError(ErrorKind::Upstream, QStringLiteral("the server sent more bytes than the ranges hold"));
        return upstreamFailure(reply, replyError(reply));
    }
    if (status != 206)
        return makeError(ErrorKind::Upstream, QStringLiteral("expected HTTP 206 Partial Content, got HTTP %1").arg(status));
    if (Status st = checkValidators(reply); !st)
        return st;
    const QByteArray encoding = reply->rawHeader("Content-Encoding").trimmed().toLower();
    if (!encoding.isEmpty() && encoding != "identity")
        return makeError(ErrorKind::Upstream, QStringLiteral("the server applied Content-Encoding \"%1\" to ranges although "
                                                             "identity was asked").arg(QString::fromLatin1(encoding.left(40))));
    QList<http::BytePart> parts;
    const QByteArray boundary = http::multipartBoundary(reply->rawHeader("Content-Type"));
    if (!boundary.isEmpty()) {
        auto parsed = http::parseMultipartByteranges(boundary, batch.body);
        if (!parsed) {
            m_multiRange = false; // a server that cannot say it right gets single ranges
            Error e = parsed.error();
            e.retryable = true;
            e.retryAfterMs = 0;
            return e;
        }
        parts = std::move(parsed).value();
    } else {
        // The server merged every range into one (RFC 9110 §14.2 allows it).
        auto cr = http::parseContentRange(reply->rawHeader("Content-Range"));
        if (!cr)
            return cr.error();
        if (batch.body.size() != cr->last - cr->first + 1)
            return makeError(ErrorKind::Upstream, QStringLiteral("the response body has %1 bytes, its Content-Range %2")
                                                      .arg(batch.body.size()).arg(cr->last - cr->first + 1));
        parts.append({*cr, batch.body});
    }
    if (Status st = http::checkPartSizes(m_display, parts, m_info.size); !st)
        return st;
    for (qsizetype i = 0; i < batch.ids.size(); ++i) {
        const std::optional<QByteArrayView> bytes = batch.sinks[i] ? http::bytesIn(parts, batch.ranges[i]) : std::nullopt;
        if (!bytes)
            continue;
        std::shared_ptr<ReadSink> sink = std::exchange(batch.sinks[i], nullptr);
        const bool kept = sink->onBytes(bytes->data(), bytes->size());
        sink->onFinished(kept ? okStatus() : makeError(ErrorKind::Cancelled, QStringLiteral("%1: cancelled").arg(where(batch.ranges[i]))));
    }
    return okStatus(); // members left without bytes fail in finishBatch()
}

} // namespace sparsescope
