#include "s3commands.h"
#include "cachepaths.h"
#include "s3lister.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>

namespace sparsescope::cli {

int cmdLs(const CliConfig &c, const std::shared_ptr<Statistics> &stats)
{
    const QUrl url = cachepaths::sourceUrl(c.source);
    const QString bucket = url.host(), prefix = url.path(QUrl::FullyDecoded).mid(1);
    if (bucket.isEmpty()) {
        QTextStream(stderr) << "sparsescope-cli: ls needs a bucket: s3://BUCKET[/PREFIX]\n";
        return ExitUsage;
    }
    auto settings = aws::resolveS3Settings();
    if (!settings) {
        QTextStream(stderr) << "sparsescope-cli: " << settings.error().message << "\n";
        return ExitUsage;
    }
    auto listing = s3::listObjects(*settings, bucket, prefix, c.recursive, c.engine.source);
    if (!listing) {
        QTextStream(stderr) << "sparsescope-cli: " << listing.error().message << "\n";
        return ExitFailure;
    }
    stats->upstreamRequests += listing->requests;
    QTextStream out(stdout);
    if (c.json) {
        QJsonArray arr;
        for (const s3::ListEntry &e : std::as_const(listing->entries)) {
            QJsonObject j;
            j[QStringLiteral("key")] = e.key;
            j[QStringLiteral("size")] = double(e.size);
            j[QStringLiteral("last_modified")] =
                e.isPrefix ? QJsonValue(QJsonValue::Null) : QJsonValue(e.lastModified.toString(Qt::ISODate));
            j[QStringLiteral("etag")] = e.isPrefix ? QJsonValue(QJsonValue::Null) : QJsonValue(e.etag);
            j[QStringLiteral("type")] = e.isPrefix ? QStringLiteral("prefix") : QStringLiteral("object");
            arr.append(j);
        }
        out << QJsonDocument(arr).toJson(QJsonDocument::Compact) << "\n";
        return ExitOk;
    }
    for (const s3::ListEntry &e : std::as_const(listing->entries)) {
        if (e.isPrefix)
            out << QStringLiteral("%1 PRE %2\n").arg(QString(), 30).arg(e.key);
        else
            out << QStringLiteral("%1 %2 %3\n").arg(e.lastModified.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))).arg(e.size, 14).arg(e.key);
    }
    return ExitOk;
}

} // namespace sparsescope::cli
