#pragma once
// Where objects live in the cache directory, and what of a source may be written to disk.
//
//   <cache-dir>/objects/<id>/      one entry per object, 0700
//       meta.json                  ObjectMeta (redacted source, size, validator, chunk size)
//       data                       sparse data file of the object's logical size, 0600
//       journal                    coverage journal (journal.h), 0600
//       lock                       flock(2) target naming the holder's pid (objectlock.h)
//
// <id> is the first 32 hex digits of SHA-256 over the canonical source with its credentials
// removed, so no URL text (and no token) ever appears in a path.

#include <QString>
#include <QUrl>

namespace sparsescope {

namespace cachepaths {
// What a user typed as SOURCE: "scheme://..." is a URL, anything else a local path
// (made absolute against the current directory).
QUrl sourceUrl(const QString &text);
// Canonical form of a source for identity: URLs lose user info and fragment and are normalized;
// local paths become absolute and clean, as "file://" URLs.
QUrl canonicalSource(const QUrl &source);
// The text that may be stored and shown: canonical source with the values of credential-like
// query parameters (token, signature, key, password, secret, auth, X-Amz-*, ...) replaced by
// "REDACTED". User info is never included.
QString redactedSource(const QUrl &source);
// 32 lower-case hex digits identifying the object.
QString objectId(const QUrl &source);
QString objectsRoot(const QString &cacheDir);
QString objectDirectory(const QString &cacheDir, const QUrl &source);
// The default cache directory: $SPARSESCOPE_CACHE_DIR, else the XDG cache location
// ($XDG_CACHE_HOME/sparsescope or ~/.cache/sparsescope).
QString defaultCacheDirectory();
} // namespace cachepaths

} // namespace sparsescope
