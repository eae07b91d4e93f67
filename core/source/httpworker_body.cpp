// HttpWorker's response bodies: read as they arrive into the transfers' sinks (straight into a
// sink's buffer where it offers one), held back while a user's read runs or the sink's disk queue
// is full, checked against the range they answer (never a byte more), and a multipart answer
// cut to the part that holds the range.
#include "httpworker.h"
#include "httpresponse.h"

#include <QNetworkReply>

#include <algorithm>

namespace sparsescope {

Error HttpWorker::tooManyBytes(const Transfer &t) const
{
    return makeError(ErrorKind::Upstream, QStringLiteral("%1: the server sent more bytes than the range holds").arg(where(t.range)));
}

void HttpWorker::stopBody(Transfer &t, bool finishing, std::optional<Error> why)
{
    if (why)
        t.failure = std::move(*why);
    else
        t.cancelled = true;
    if (!finishing) // a finished reply is Qt's to end
        t.reply->abort();
}

void HttpWorker::onReadyRead(quint64 id, bool finishing)
{
    auto it = m_transfers.find(id);
    if (it == m_transfers.end())
        return;
    Transfer &t = it->second;
    if (t.cancelled || !t.failure.ok())
        return;
    if (!finishing && !t.interactive && m_interactiveRunning > 0) {
        // A user's read is running: leave this body in Qt's bounded buffer (TCP backpressure then
        // slows the stream) until it is done; onFinished() resumes us.
        t.paused = true;
        return;
    }
    if (!checkHeaders(t)) {
        // Stop a wrong body (e.g. a whole object instead of a range); an error status's short
        // body is left to finish, since Qt has already reported its error (aborting would twice).
        if (!finishing && t.reply->error() == QNetworkReply::NoError)
            t.reply->abort();
        return;
    }
    if (!t.boundary.isEmpty()) {
        const QByteArray more = t.reply->readAll();
        m_stats->upstreamBytes += more.size();
        t.multipartBody += more;
        if (t.multipartBody.size() > t.range.length() + 4096)
            stopBody(t, finishing, tooManyBytes(t));
        return;
    }
    if (t.waitingForSink && !finishing)
        return; // resumeFromSink() reads on
    while (t.reply->bytesAvailable() > 0) {
        // The disk queue is full (ReadSink::ready): stop reading this body — Qt's bounded buffer
        // and then TCP hold the stream back — until a queued write finishes and resumes us.
        // A user's read is never held back; a finished reply is drained (its bytes are here).
        if (!finishing && !t.interactive && !t.sink->ready([link = m_link, this, id] { link->post([this, id] { resumeFromSink(id); }); })) {
            t.waitingForSink = true;
            return;
        }
        if (!t.whole) {
            // Straight into the sink's chunk buffer (one copy of every byte fewer).
            if (t.received == t.range.length()) {
                stopBody(t, finishing, tooManyBytes(t));
                return;
            }
            qint64 room = 0;
            if (char *to = t.sink->space(&room)) {
                const qint64 n = t.reply->read(to, std::min(room, t.range.length() - t.received));
                if (n <= 0)
                    break;
                m_stats->upstreamBytes += n;
                t.received += n;
                if (!t.sink->written(n)) {
                    stopBody(t, finishing);
                    return;
                }
                continue;
            }
        }
        qint64 n = t.reply->read(m_buffer.data(), m_buffer.size());
        if (n <= 0)
            break;
        m_stats->upstreamBytes += n;
        const char *data = m_buffer.constData();
        if (t.whole) { // the bytes before the range are skipped, those after it not delivered
            const qint64 skipped = std::min(t.skip, n);
            t.skip -= skipped;
            data += skipped;
            n = std::min(n - skipped, t.range.length() - t.received);
            if (n == 0 && t.received < t.range.length())
                continue;
        }
        if (t.received + n > t.range.length()) {
            stopBody(t, finishing, tooManyBytes(t));
            return;
        }
        t.received += n;
        if (!t.sink->onBytes(data, n)) {
            stopBody(t, finishing);
            return;
        }
        if (t.whole && t.received == t.range.length()) {
            t.endedEarly = !finishing; // the rest of the object is not needed
            if (!finishing)
                t.reply->abort();
            return;
        }
    }
}

void HttpWorker::resumeFromSink(quint64 id)
{
    auto it = m_transfers.find(id);
    if (it == m_transfers.end() || !it->second.waitingForSink)
        return;
    it->second.waitingForSink = false;
    onReadyRead(id);
}

Status HttpWorker::deliverMultipart(Transfer &t)
{
    auto parts = http::parseMultipartByteranges(t.boundary, t.multipartBody);
    if (!parts)
        return makeError(ErrorKind::Upstream, QStringLiteral("%1: %2").arg(where(t.range), parts.error().message));
    if (Status st = http::checkPartSizes(where(t.range), *parts, m_info.size); !st)
        return st;
    const ByteRange wanted{t.range.begin, std::min(t.range.end, m_info.size)};
    const std::optional<QByteArrayView> bytes = http::bytesIn(*parts, wanted);
    if (!bytes)
        return makeError(ErrorKind::Upstream, QStringLiteral("%1: the server's multipart/byteranges answer does not hold the range")
                                                  .arg(where(t.range)));
    t.received = bytes->size();
    if (!t.sink->onBytes(bytes->data(), bytes->size()))
        t.cancelled = true;
    return okStatus();
}

} // namespace sparsescope
