#include "s3commands.h"
#include "cache.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>

namespace sparsescope::cli {

int cmdLs(const CliConfig &c, const std::shared_ptr<Statistics> &stats)
{
    auto listing = Cache(c.engine.cacheDir).listBucket(c.source, c.recursive, /*holdings=*/false, c.engine.source);
    if (!listing) {
        QTextStream(stderr) << "sparsescope-cli: " << listing.error().message << "\n";
        return listing.error().kind == ErrorKind::Usage ? ExitUsage : ExitFailure;
    }
    stats->upstreamRequests += listing->requests;
    QTextStream out(stdout);
    if (c.json) {
        QJsonArray arr;
        for (const BucketEntry &b : std::as_const(listing->entries)) {
            const s3::ListEntry &e = b.entry;
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
    for (const BucketEntry &b : std::as_const(listing->entries)) {
        const s3::ListEntry &e = b.entry;
        if (e.isPrefix)
            out << QStringLiteral("%1 PRE %2\n").arg(QString(), 30).arg(e.key);
        else
            out << QStringLiteral("%1 %2 %3\n").arg(e.lastModified.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))).arg(e.size, 14).arg(e.key);
    }
    return ExitOk;
}

} // namespace sparsescope::cli
