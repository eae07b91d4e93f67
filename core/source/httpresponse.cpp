#include "httpresponse.h"

#include <QLocale>

#include <limits>

namespace sparsescope::http {

namespace {
bool parseNumber(QByteArrayView text, qint64 *out)
{
    if (text.isEmpty() || text.size() > 19)
        return false;
    for (char c : text)
        if (c < '0' || c > '9')
            return false;
    bool ok = false;
    const qulonglong v = text.toULongLong(&ok);
    if (!ok || v > qulonglong(std::numeric_limits<qint64>::max()))
        return false;
    *out = qint64(v);
    return true;
}
} // namespace

Result<ContentRange> parseContentRange(const QByteArray &value)
{
    auto bad = [&] {
        return makeError(ErrorKind::Upstream, QStringLiteral("malformed Content-Range \"%1\"").arg(QString::fromLatin1(value.left(80))));
    };
    const QByteArray v = value.trimmed();
    if (!v.startsWith("bytes "))
        return bad();
    const QByteArrayView rest = QByteArrayView(v).sliced(6).trimmed();
    const qsizetype slash = rest.indexOf('/');
    const qsizetype dash = rest.indexOf('-');
    if (slash < 0 || dash < 0 || dash > slash)
        return bad();
    ContentRange cr;
    if (!parseNumber(rest.first(dash), &cr.first) || !parseNumber(rest.sliced(dash + 1, slash - dash - 1), &cr.last))
        return bad();
    const QByteArrayView complete = rest.sliced(slash + 1);
    if (complete == "*")
        cr.complete = -1;
    else if (!parseNumber(complete, &cr.complete))
        return bad();
    if (cr.last < cr.first || (cr.complete >= 0 && cr.last >= cr.complete))
        return bad();
    return cr;
}

QByteArray rangeHeader(ByteRange range)
{
    return "bytes=" + QByteArray::number(range.begin) + '-' + QByteArray::number(range.end - 1);
}

QString validatorOf(const QByteArray &etag, const QByteArray &lastModified)
{
    const QByteArray e = etag.trimmed();
    return QString::fromLatin1(e.isEmpty() ? lastModified.trimmed() : e);
}

QByteArray ifRangeFor(const QString &validator)
{
    if (validator.startsWith(u"W/"))
        return {};
    return validator.toLatin1();
}

bool sameValidator(const QString &stored, const QString &now)
{
    auto opaque = [](QStringView v) { return v.startsWith(u"W/") ? v.sliced(2) : v; };
    const QStringView a = opaque(stored), b = opaque(now);
    const bool etags = a.startsWith(u'"') && b.startsWith(u'"');
    return etags ? a == b : stored == now;
}

bool strengthens(const QString &stored, const QString &now)
{
    return stored.startsWith(u"W/\"") && now.startsWith(u'"') && sameValidator(stored, now);
}

qint64 retryAfterMs(const QByteArray &value, const QDateTime &now)
{
    const QByteArray v = value.trimmed();
    if (v.isEmpty())
        return -1;
    qint64 seconds = -1;
    if (parseNumber(QByteArrayView(v), &seconds))
        return seconds > std::numeric_limits<qint64>::max() / 1000 ? std::numeric_limits<qint64>::max() : seconds * 1000;
    // IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (the form RFC 9110 §5.6.7 requires senders to use).
    QDateTime at = QLocale::c().toDateTime(QString::fromLatin1(v), QStringLiteral("ddd, dd MMM yyyy HH:mm:ss 'GMT'"));
    if (!at.isValid())
        return -1;
    at.setTimeSpec(Qt::UTC);
    return std::max<qint64>(0, now.msecsTo(at));
}

QByteArray multipartBoundary(const QByteArray &contentType)
{
    const QList<QByteArray> params = contentType.split(';');
    if (params.value(0).trimmed().toLower() != "multipart/byteranges")
        return {};
    for (qsizetype i = 1; i < params.size(); ++i) {
        const QByteArray p = params[i].trimmed();
        const qsizetype eq = p.indexOf('=');
        if (eq < 0 || p.left(eq).trimmed().toLower() != "boundary")
            continue;
        QByteArray value = p.mid(eq + 1).trimmed();
        if (value.size() >= 2 && value.startsWith('"') && value.endsWith('"'))
            value = value.mid(1, value.size() - 2);
        return value.size() <= 70 ? value : QByteArray(); // RFC 2046 §5.1.1: 1 to 70 characters
    }
    return {};
}

Result<QList<BytePart>> parseMultipartByteranges(const QByteArray &boundary, const QByteArray &body)
{
    auto bad = [](const QString &why) { return makeError(ErrorKind::Upstream, QStringLiteral("malformed multipart/byteranges body: %1").arg(why)); };
    if (boundary.isEmpty())
        return bad(QStringLiteral("no boundary"));
    const QByteArray delimiter = "--" + boundary;
    // The first delimiter may open the body or follow a preamble on a line of its own.
    qsizetype at = 0;
    if (!body.startsWith(delimiter)) {
        at = body.indexOf("\r\n" + delimiter);
        if (at < 0)
            return bad(QStringLiteral("no delimiter"));
        at += 2;
    }
    QList<BytePart> parts;
    for (;;) {
        at += delimiter.size();
        if (body.mid(at, 2) == "--")
            break; // the close delimiter; what follows is the epilogue
        while (at < body.size() && (body[at] == ' ' || body[at] == '\t'))
            ++at; // transport padding
        if (body.mid(at, 2) != "\r\n")
            return bad(QStringLiteral("a delimiter is not followed by CRLF"));
        at += 2;
        const qsizetype headersEnd = body.indexOf("\r\n\r\n", at - 2);
        if (headersEnd < 0)
            return bad(QStringLiteral("part %1 has no end of headers").arg(parts.size() + 1));
        QByteArray contentRange;
        const QByteArray headers = headersEnd >= at ? body.mid(at, headersEnd - at) : QByteArray();
        for (const QByteArray &line : headers.split('\n')) {
            const QByteArray l = line.trimmed();
            const qsizetype colon = l.indexOf(':');
            if (l.isEmpty())
                continue;
            if (colon <= 0)
                return bad(QStringLiteral("part %1 has a malformed header line").arg(parts.size() + 1));
            const QByteArray name = l.left(colon).trimmed().toLower(), value = l.mid(colon + 1).trimmed();
            if (name == "content-range")
                contentRange = value;
            else if (name == "content-encoding" && value.toLower() != "identity")
                return bad(QStringLiteral("part %1 has Content-Encoding \"%2\"").arg(parts.size() + 1).arg(QString::fromLatin1(value.left(40))));
        }
        auto cr = parseContentRange(contentRange);
        if (!cr)
            return bad(QStringLiteral("part %1: %2").arg(parts.size() + 1).arg(cr.error().message));
        at = headersEnd + 4;
        const qint64 length = cr->last - cr->first + 1;
        if (length > body.size() - at)
            return bad(QStringLiteral("part %1 (bytes %2-%3) is cut short").arg(parts.size() + 1).arg(cr->first).arg(cr->last));
        parts.append({*cr, body.mid(at, qsizetype(length))});
        at += qsizetype(length);
        if (body.mid(at, 2 + delimiter.size()) != "\r\n" + delimiter)
            return bad(QStringLiteral("part %1 (bytes %2-%3) is not followed by a delimiter").arg(parts.size()).arg(cr->first).arg(cr->last));
        at += 2;
    }
    if (parts.isEmpty())
        return bad(QStringLiteral("no parts"));
    return parts;
}

QByteArray finalContentLength(const QByteArray &raw)
{
    const qsizetype comma = raw.lastIndexOf(',');
    return comma < 0 ? raw : raw.mid(comma + 1).trimmed();
}

Error sizeChanged(const QString &where, qint64 reported, qint64 had)
{
    return makeError(ErrorKind::Changed, QStringLiteral("%1: the server reports a size of %2 bytes, but the object had %3 bytes "
                                                        "(it changed upstream)").arg(where).arg(reported).arg(had));
}

std::optional<QByteArrayView> bytesIn(const QList<BytePart> &parts, ByteRange range)
{
    for (const BytePart &p : parts)
        if (p.range.first <= range.begin && p.range.last >= range.end - 1)
            return QByteArrayView(p.bytes).sliced(range.begin - p.range.first, range.length());
    return std::nullopt;
}

Status checkPartSizes(const QString &where, const QList<BytePart> &parts, qint64 objectSize)
{
    for (const BytePart &p : parts)
        if (p.range.complete != objectSize)
            return sizeChanged(where, p.range.complete, objectSize);
    return okStatus();
}

Status checkRangeResponse(const QString &object, ByteRange requested, qint64 objectSize, const RangeResponse &r)
{
    const QString where = QStringLiteral("%1 bytes %2").arg(object, requested.toInclusiveString());
    if (r.status == 200)
        return makeError(ErrorKind::Changed,
                         QStringLiteral("%1: the server answered 200 with the whole object instead of 206 with the range "
                                        "(it ignores ranges, or the object changed upstream)").arg(where));
    if (r.status != 206)
        return makeError(ErrorKind::Upstream, QStringLiteral("%1: expected HTTP 206 Partial Content, got HTTP %2").arg(where).arg(r.status));
    if (r.contentType.trimmed().toLower().startsWith("multipart/byteranges"))
        return makeError(ErrorKind::Upstream, QStringLiteral("%1: the server sent multipart/byteranges for a single range").arg(where));
    const QByteArray enc = r.contentEncoding.trimmed().toLower();
    if (!enc.isEmpty() && enc != "identity")
        return makeError(ErrorKind::Upstream,
                         QStringLiteral("%1: the server applied Content-Encoding \"%2\" to a range although identity was asked")
                             .arg(where, QString::fromLatin1(enc.left(40))));
    auto cr = parseContentRange(r.contentRange);
    if (!cr)
        return makeError(ErrorKind::Upstream, QStringLiteral("%1: %2").arg(where, cr.error().message));
    if (cr->complete >= 0 && cr->complete != objectSize)
        return sizeChanged(where, cr->complete, objectSize);
    const qint64 wantLast = requested.end - 1;
    const bool lastOk = cr->last == wantLast || (cr->last < wantLast && cr->last == objectSize - 1);
    if (cr->first != requested.begin || !lastOk)
        return makeError(ErrorKind::Upstream, QStringLiteral("%1: the server sent bytes %2-%3 instead")
                                                  .arg(where).arg(cr->first).arg(cr->last));
    if (!r.contentLength.isEmpty()) {
        qint64 len = -1;
        if (!parseNumber(QByteArrayView(r.contentLength).trimmed(), &len) || len != cr->last - cr->first + 1)
            return makeError(ErrorKind::Upstream, QStringLiteral("%1: Content-Length \"%2\" does not match Content-Range \"%3\"")
                                                      .arg(where, QString::fromLatin1(r.contentLength.left(40)),
                                                           QString::fromLatin1(r.contentRange.left(80))));
    }
    return okStatus();
}

} // namespace sparsescope::http
