#pragma once
// ObjectMeta: what a cache entry says about its object, stored as `meta.json` in the entry's
// directory. Written atomically (temporary file, fsync, rename(2)); never contains credentials
// (see cachepaths.h for how the source is redacted).

#include "result.h"

#include <QString>

namespace sparsescope {

struct ObjectMeta {
    static constexpr int kFormatVersion = 1;

    int formatVersion = kFormatVersion;
    QString source;    // redacted URL or absolute local path, for people
    qint64 size = 0;   // bytes
    QString validator; // strong ETag, Last-Modified, or local "mtime:size:inode"; may be empty
    qint64 chunkSize = 0; // bytes

    QByteArray toJson() const;
    // Errors (Integrity): not JSON, missing or mistyped keys, unknown format version.
    static Result<ObjectMeta> fromJson(const QByteArray &json);

    // Reads / atomically writes `path`. Errors: LocalIo (open/write/fsync/rename), Integrity (parse).
    static Result<ObjectMeta> load(const QString &path);
    Status save(const QString &path) const;
};

} // namespace sparsescope
