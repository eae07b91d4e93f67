// Cache::listBucket: an S3 bucket's keys (s3lister.h) beside what this cache holds of each.
#include "cache.h"
#include "cachepaths.h"
#include "handoff.h"

#include <QHash>

namespace sparsescope {

Result<BucketListing> Cache::listBucket(const QString &bucketUrl, bool recursive, const SourceOptions &options) const
{
    const QUrl url = cachepaths::sourceUrl(bucketUrl);
    if (url.scheme() != u"s3" || url.host().isEmpty())
        return makeError(ErrorKind::Usage, QStringLiteral("\"%1\" is not s3://BUCKET[/PREFIX]").arg(bucketUrl));
    auto settings = aws::resolveS3Settings();
    if (!settings)
        return settings.error();
    const QString bucket = url.host();
    auto listing = s3::listObjects(*settings, bucket, url.path(QUrl::FullyDecoded).mid(1), recursive, options);
    if (!listing)
        return listing.error();
    QHash<QString, qint64> present; // entry directory -> present bytes
    for (const CachedObject &o : list().objects)
        present.insert(o.directory, o.presentBytes);
    BucketListing out;
    out.requests = listing->requests;
    for (const s3::ListEntry &e : std::as_const(listing->entries)) {
        BucketEntry b;
        b.entry = e;
        b.source = QStringLiteral("s3://%1/%2").arg(bucket, e.key);
        if (!e.isPrefix)
            b.cachedBytes = present.value(entryDirectory(b.source), -1);
        out.entries.append(b);
    }
    return out;
}

QFuture<Result<BucketListing>> Cache::listBucketAsync(const QString &bucketUrl, bool recursive, const SourceOptions &options) const
{
    return runOnPool(jobPool(), [cache = *this, bucketUrl, recursive, options] { return cache.listBucket(bucketUrl, recursive, options); });
}

} // namespace sparsescope
