#include "s3lister.h"
#include "networkstack.h"
#include "s3error.h"
#include "sigv4.h"

#include <QEventLoop>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSslConfiguration>
#include <QXmlStreamReader>

namespace sparsescope::s3 {

namespace {
QByteArray queryValue(const QString &value) { return value.toUtf8().toPercentEncoding("~"); } // RFC 3986: '+' and '/' encoded

struct Page {
    QList<ListEntry> entries;
    QString nextToken; // empty: the last page
};

Result<Page> parsePage(const QByteArray &xml)
{
    Page page;
    QXmlStreamReader r(xml);
    if (!r.readNextStartElement() || r.name() != u"ListBucketResult")
        return makeError(ErrorKind::Upstream, QStringLiteral("the answer is not a ListBucketResult"));
    bool truncated = false;
    while (r.readNextStartElement()) {
        if (r.name() == u"Contents") {
            ListEntry e;
            while (r.readNextStartElement()) {
                if (r.name() == u"Key")
                    e.key = r.readElementText();
                else if (r.name() == u"Size")
                    e.size = r.readElementText().toLongLong();
                else if (r.name() == u"LastModified")
                    e.lastModified = QDateTime::fromString(r.readElementText(), Qt::ISODateWithMs).toUTC();
                else if (r.name() == u"ETag")
                    e.etag = r.readElementText().remove(u'"');
                else
                    r.skipCurrentElement();
            }
            page.entries.append(e);
        } else if (r.name() == u"CommonPrefixes") {
            ListEntry e;
            e.isPrefix = true;
            while (r.readNextStartElement())
                if (r.name() == u"Prefix")
                    e.key = r.readElementText();
                else
                    r.skipCurrentElement();
            page.entries.append(e);
        } else if (r.name() == u"IsTruncated") {
            truncated = r.readElementText().trimmed() == u"true";
        } else if (r.name() == u"NextContinuationToken") {
            page.nextToken = r.readElementText();
        } else {
            r.skipCurrentElement();
        }
    }
    if (r.hasError())
        return makeError(ErrorKind::Upstream, QStringLiteral("the listing's XML is damaged: %1").arg(r.errorString()));
    if (truncated && page.nextToken.isEmpty())
        return makeError(ErrorKind::Upstream, QStringLiteral("the listing is truncated but names no continuation token"));
    if (!truncated)
        page.nextToken.clear();
    // A page lists objects, then prefixes: in key order together.
    std::stable_sort(page.entries.begin(), page.entries.end(), [](const ListEntry &a, const ListEntry &b) { return a.key < b.key; });
    return page;
}
} // namespace

Result<Listing> listObjects(const aws::S3Settings &settings, const QString &bucket, const QString &prefix, bool recursive,
                            const SourceOptions &options)
{
    QNetworkAccessManager nam;
    Listing listing;
    const QString where = QStringLiteral("s3://%1/%2").arg(bucket, prefix);
    QString token;
    QSslConfiguration tls;
    if (aws::objectUrl(settings, bucket, QString()).scheme() == u"https") {
        QString problem;
        tls = NetworkStack::tlsConfiguration(options.caFile, &problem);
        if (!problem.isEmpty())
            return makeError(ErrorKind::Usage, problem);
    }
    do {
        QUrl url = aws::objectUrl(settings, bucket, QString());
        QByteArray query = "list-type=2";
        if (!prefix.isEmpty())
            query += "&prefix=" + queryValue(prefix);
        if (!recursive)
            query += "&delimiter=%2F";
        if (!token.isEmpty())
            query += "&continuation-token=" + queryValue(token);
        url.setQuery(QString::fromLatin1(query), QUrl::StrictMode);
        QNetworkRequest req(url);
        req.setTransferTimeout(options.timeoutMs);
        if (url.scheme() == u"https")
            req.setSslConfiguration(tls);
        for (const auto &[name, value] : sigv4::sign("GET", url, {}, settings.credentials, settings.region, QDateTime::currentDateTimeUtc()))
            req.setRawHeader(name, value);
        QNetworkReply *reply = nam.get(req);
        ++listing.requests;
        QEventLoop loop;
        QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        loop.exec();
        reply->deleteLater();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QByteArray body = reply->readAll();
        if (status >= 400)
            return makeError(ErrorKind::Upstream, QStringLiteral("%1: %2").arg(where, explain(status, body, bucket, prefix)));
        if (reply->error() != QNetworkReply::NoError)
            return makeError(ErrorKind::Upstream, QStringLiteral("%1: %2").arg(where, reply->errorString()));
        auto page = parsePage(body);
        if (!page)
            return makeError(ErrorKind::Upstream, QStringLiteral("%1: %2").arg(where, page.error().message));
        listing.entries += page->entries;
        token = page->nextToken;
    } while (!token.isEmpty());
    return listing;
}

} // namespace sparsescope::s3
