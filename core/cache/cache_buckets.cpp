// Cache::listBucket: an S3 bucket's keys (s3lister.h) beside what this cache holds of each.
#include "cache.h"
#include "cachepaths.h"
#include "handoff.h"

#include <QHash>

namespace sparsescope {

Result<BucketListing> Cache::listBucket(const QString &bucketUrl, bool recursive, bool holdings, const SourceOptions &options) const
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
    // The cached objects by their shown source ("s3://bucket/key"): only a key found there needs
    // its entry directory (endpoint + bucket + key) to tell this endpoint's object from another's.
    QMultiHash<QString, std::pair<QString, qint64>> cached; // source -> (entry directory, present bytes)
    if (holdings)
        for (const CachedObject &o : list().objects)
            cached.insert(o.source, {o.directory, o.presentBytes});
    BucketListing out;
    out.requests = listing->requests;
    for (const s3::ListEntry &e : std::as_const(listing->entries)) {
        BucketEntry b;
        b.entry = e;
        b.source = QStringLiteral("s3://%1/%2").arg(bucket, e.key);
        if (!e.isPrefix && cached.contains(b.source)) {
            const QString directory = entryDirectory(b.source);
            for (const auto &[entry, bytes] : cached.values(b.source))
                if (entry == directory)
                    b.cachedBytes = bytes;
        }
        out.entries.append(b);
    }
    return out;
}

QFuture<Result<BucketListing>> Cache::listBucketAsync(const QString &bucketUrl, bool recursive, bool holdings,
                                                      const SourceOptions &options) const
{
    return runOnPool(jobPool(), [cache = *this, bucketUrl, recursive, holdings, options] {
        return cache.listBucket(bucketUrl, recursive, holdings, options);
    });
}

} // namespace sparsescope
