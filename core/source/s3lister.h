#pragma once
// Listing a bucket: ListObjectsV2 (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html),
// signed like every S3 request (sigv4.h), page after page by continuation token until the listing
// is whole (1,000 keys a page: 10,000 keys cost 10 requests). Without `recursive`, the delimiter
// "/" folds deeper keys into common prefixes, as `aws s3 ls` shows them.
//
// Thread affinity: blocks the calling thread, which runs a local event loop while it waits —
// never call it from the GUI thread.

#include "awssettings.h"
#include "result.h"
#include "source.h"

#include <QDateTime>
#include <QList>
#include <QString>

namespace sparsescope::s3 {

struct ListEntry {
    QString key;            // the full key; a common prefix ends with "/"
    qint64 size = 0;        // bytes; 0 for a prefix
    QDateTime lastModified; // UTC; invalid for a prefix
    QString etag;           // without quotes; empty for a prefix
    bool isPrefix = false;
};

struct Listing {
    QList<ListEntry> entries; // prefixes and objects in key order, as S3 returns them page by page
    int requests = 0;         // upstream requests it took
};

// Errors: Usage (settings), Upstream (the service's error, explained by s3error.h; unreachable).
Result<Listing> listObjects(const aws::S3Settings &settings, const QString &bucket, const QString &prefix, bool recursive,
                            const SourceOptions &options);

} // namespace sparsescope::s3
