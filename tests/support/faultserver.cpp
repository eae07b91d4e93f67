#include "faultserver.h"
#include "handoff.h"

#include <QElapsedTimer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <sys/socket.h>

namespace sparsescope::test {

namespace {
bool appliesToHead(Fault f)
{
    return f == Fault::HeadRefused || f == Fault::HeadWithoutLength || f == Fault::WeakEtag || f == Fault::RedirectLoop;
}

bool headOnly(Fault f) { return f == Fault::HeadRefused || f == Fault::HeadWithoutLength; }

QByteArray statusLine(int code)
{
    switch (code) {
    case 200: return "HTTP/1.1 200 OK\r\n";
    case 206: return "HTTP/1.1 206 Partial Content\r\n";
    case 302: return "HTTP/1.1 302 Found\r\n";
    case 404: return "HTTP/1.1 404 Not Found\r\n";
    case 405: return "HTTP/1.1 405 Method Not Allowed\r\n";
    case 416: return "HTTP/1.1 416 Range Not Satisfiable\r\n";
    case 429: return "HTTP/1.1 429 Too Many Requests\r\n";
    default: return "HTTP/1.1 503 Service Unavailable\r\n";
    }
}
} // namespace

class FaultServer::Worker : public QObject {
public:
    explicit Worker(FaultServer *owner) : m_owner(owner) { m_clock.start(); }

    quint16 listen()
    {
        m_server = new QTcpServer(this);
        if (!m_server->listen(QHostAddress::LocalHost, 0))
            return 0;
        connect(m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server->nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, this, [this, s] { onReadable(s); });
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
        return m_server->serverPort();
    }

private:
    void onReadable(QTcpSocket *s)
    {
        if (s->property("stalled").toBool()) {
            s->readAll(); // silence: read and ignore
            return;
        }
        QByteArray buffer = s->property("buffer").toByteArray() + s->readAll();
        for (;;) {
            const qsizetype end = buffer.indexOf("\r\n\r\n");
            if (end < 0)
                break;
            const QByteArray head = buffer.left(end);
            buffer.remove(0, end + 4);
            answer(s, head);
            if (s->property("stalled").toBool() || s->state() != QAbstractSocket::ConnectedState)
                break;
        }
        s->setProperty("buffer", buffer);
    }

    void answer(QTcpSocket *s, const QByteArray &head)
    {
        const QList<QByteArray> lines = head.split('\n');
        const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
        SeenRequest seen;
        seen.method = requestLine.value(0);
        for (const QByteArray &line : lines.mid(1)) {
            const qsizetype colon = line.indexOf(':');
            const QByteArray name = line.left(colon).trimmed().toLower();
            const QByteArray value = line.mid(colon + 1).trimmed();
            if (name == "range")
                seen.range = value;
            else if (name == "if-range")
                seen.ifRange = value;
        }
        seen.atMs = m_clock.elapsed();
        qint64 first = 0, last = -1;
        if (seen.range.startsWith("bytes=")) {
            const QList<QByteArray> ab = seen.range.mid(6).split('-');
            first = ab.value(0).toLongLong();
            last = ab.value(1).isEmpty() ? -1 : ab.value(1).toLongLong();
        }
        const Answer a = m_owner->decide(seen.method, first, seen);
        if (requestLine.value(1) != "/object") {
            send(s, 404, {}, "no such object\n", seen.method == "HEAD");
            return;
        }
        const qint64 size = a.body.size();
        const QByteArray etag = a.fault == Fault::WeakEtag ? "W/" + a.etag : a.etag;
        QList<QByteArray> headers{"ETag: " + etag, "Accept-Ranges: bytes"};
        switch (a.fault) {
        case Fault::HeadRefused:
            send(s, 405, {}, "", true);
            return;
        case Fault::HeadWithoutLength:
            s->write(statusLine(200) + "ETag: " + etag + "\r\nAccept-Ranges: bytes\r\n\r\n");
            return; // a HEAD response never has a body, so no length is needed to frame it
        case Fault::RedirectLoop:
            send(s, 302, {"Location: /object"}, "", seen.method == "HEAD");
            return;
        case Fault::ServiceUnavailable:
            send(s, 503, {"Retry-After: 1"}, "busy\n", seen.method == "HEAD");
            return;
        case Fault::TooManyRequests:
            send(s, 429, {"Retry-After: 1"}, "slow down\n", seen.method == "HEAD");
            return;
        case Fault::RangeNotSatisfiable:
            send(s, 416, {"Content-Range: bytes */" + QByteArray::number(size)}, "", seen.method == "HEAD");
            return;
        default:
            break;
        }
        if (seen.method == "HEAD") {
            send(s, 200, headers, a.body, true);
            return;
        }
        // If-Range (RFC 9110 §13.1.5): only a strong, identical validator keeps the range.
        const bool rangeOk = !seen.range.isEmpty() && first < size &&
                             (seen.ifRange.isEmpty() || (seen.ifRange == etag && !etag.startsWith("W/")));
        if (!rangeOk || a.fault == Fault::IgnoreRange || (a.fault == Fault::MultiRangeIgnored && seen.range.contains(','))) {
            send(s, 200, headers, a.body, false);
            return;
        }
        if (seen.range.contains(',')) {
            // Several ranges: multipart/byteranges, one part each (RFC 9110 §14.6).
            const QByteArray boundary = "SPARSESCOPE_PARTS";
            QByteArray body;
            for (const QByteArray &spec : seen.range.mid(6).split(',')) {
                const QList<QByteArray> ab = spec.trimmed().split('-');
                const qint64 a0 = ab.value(0).toLongLong(), b0 = std::min(ab.value(1).toLongLong(), size - 1);
                body += "\r\n--" + boundary + "\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes " +
                        QByteArray::number(a0) + '-' + QByteArray::number(b0) + '/' + QByteArray::number(size) + "\r\n\r\n" +
                        a.body.mid(a0, b0 - a0 + 1);
            }
            body += "\r\n--" + boundary + "--\r\n";
            send(s, 206, headers << "Content-Type: multipart/byteranges; boundary=" + boundary, body, false);
            return;
        }
        if (last < 0 || last >= size)
            last = size - 1;
        QByteArray part = a.body.mid(first, last - first + 1);
        QByteArray contentRange = "bytes " + QByteArray::number(first) + '-' + QByteArray::number(last) + '/' + QByteArray::number(size);
        switch (a.fault) {
        case Fault::ShiftedStart:
            contentRange = "bytes " + QByteArray::number(first + 1) + '-' + QByteArray::number(last) + '/' + QByteArray::number(size);
            part = part.mid(1);
            break;
        case Fault::ShortEnd:
            contentRange = "bytes " + QByteArray::number(first) + '-' + QByteArray::number(last - 1) + '/' + QByteArray::number(size);
            part.chop(1);
            break;
        case Fault::WrongTotal:
            contentRange = "bytes " + QByteArray::number(first) + '-' + QByteArray::number(last) + '/' + QByteArray::number(size + 1);
            break;
        case Fault::MalformedContentRange:
            contentRange = "bytes abc";
            break;
        case Fault::GzipEncoding:
            headers << "Content-Encoding: gzip";
            break;
        default:
            break;
        }
        if (a.fault == Fault::Multipart) {
            const QByteArray boundary = "SPARSESCOPE_BOUNDARY";
            const QByteArray body = "--" + boundary + "\r\nContent-Type: application/octet-stream\r\nContent-Range: " + contentRange +
                                    "\r\n\r\n" + part + "\r\n--" + boundary + "--\r\n";
            send(s, 206, headers << "Content-Type: multipart/byteranges; boundary=" + boundary, body, false);
            return;
        }
        headers << "Content-Range: " + contentRange;
        if (a.fault == Fault::MalformedContentLength) {
            s->write(statusLine(206) + headers.join("\r\n") + "\r\nContent-Length: 12x\r\n\r\n" + part);
            return;
        }
        const bool midBody = a.fault == Fault::CloseMidBody || a.fault == Fault::ResetMidBody || a.fault == Fault::StallMidBody;
        if (a.fault == Fault::StallAfterHeaders || midBody) {
            s->write(statusLine(206) + headers.join("\r\n") + "\r\nContent-Length: " + QByteArray::number(part.size()) + "\r\n\r\n");
            if (midBody)
                s->write(part.left(part.size() / 2));
            s->flush();
            if (a.fault == Fault::CloseMidBody) {
                QTimer::singleShot(100, s, [s] { s->disconnectFromHost(); });
            } else if (a.fault == Fault::ResetMidBody) {
                QTimer::singleShot(100, s, [s] {
                    const linger hard{1, 0}; // close with RST (socket(7), SO_LINGER)
                    ::setsockopt(int(s->socketDescriptor()), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
                    s->abort();
                });
            } else {
                s->setProperty("stalled", true);
            }
            return;
        }
        send(s, 206, headers, part, false);
    }

    void send(QTcpSocket *s, int code, QList<QByteArray> headers, const QByteArray &body, bool headOnly)
    {
        headers << "Content-Length: " + QByteArray::number(body.size());
        if (!headers.join("").contains("Content-Type"))
            headers << "Content-Type: application/octet-stream";
        s->write(statusLine(code) + headers.join("\r\n") + "\r\n\r\n");
        if (!headOnly)
            s->write(body);
    }

    FaultServer *m_owner;
    QTcpServer *m_server = nullptr;
    QElapsedTimer m_clock;
};

FaultServer::FaultServer(QByteArray body, QByteArray etag) : m_body(std::move(body)), m_etag(std::move(etag)) {}

FaultServer::~FaultServer()
{
    if (m_worker) {
        Worker *w = m_worker;
        runBlockingOn(w, [w] { delete w; });
    }
    m_thread.quit();
    m_thread.wait();
}

bool FaultServer::start()
{
    m_thread.setObjectName(QStringLiteral("faultserver"));
    m_thread.start();
    m_worker = new Worker(this);
    m_worker->moveToThread(&m_thread);
    Worker *w = m_worker;
    runBlockingOn(w, [this, w] { m_port = w->listen(); });
    return m_port != 0;
}

QString FaultServer::url() const { return QStringLiteral("http://127.0.0.1:%1/object").arg(m_port); }

void FaultServer::setRule(FaultRule rule)
{
    QMutexLocker l(&m_mutex);
    m_rule = rule;
}

void FaultServer::setObject(QByteArray body, QByteArray etag)
{
    QMutexLocker l(&m_mutex);
    m_body = std::move(body);
    m_etag = std::move(etag);
}

QList<SeenRequest> FaultServer::requests() const
{
    QMutexLocker l(&m_mutex);
    return m_seen;
}

int FaultServer::count(const QByteArray &method) const
{
    QMutexLocker l(&m_mutex);
    return int(std::count_if(m_seen.begin(), m_seen.end(), [&](const SeenRequest &r) { return r.method == method; }));
}

void FaultServer::clearRequests()
{
    QMutexLocker l(&m_mutex);
    m_seen.clear();
}

FaultServer::Answer FaultServer::decide(const QByteArray &method, qint64 rangeStart, const SeenRequest &seen)
{
    QMutexLocker l(&m_mutex);
    m_seen.append(seen);
    Answer a{Fault::None, m_body, m_etag};
    const Fault f = m_rule.fault;
    if (f == Fault::None || m_rule.times == 0)
        return a;
    const bool hits = method == "HEAD" ? appliesToHead(f) && (m_rule.minOffset == 0 || headOnly(f) || f == Fault::WeakEtag)
                                       : !headOnly(f) && rangeStart >= m_rule.minOffset;
    if (!hits)
        return a;
    if (m_rule.times > 0 && f != Fault::WeakEtag)
        --m_rule.times;
    a.fault = f;
    return a;
}

} // namespace sparsescope::test
