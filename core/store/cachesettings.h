#pragma once
// CacheSettings: the settings every process on one cache directory honours, stored in the cache
// directory itself (`<cache>/config.json`), so that the app, CLIs and a mount agree on them.
// Written atomically (fileutil.h), read whenever a process wants to know (CacheBudget re-reads
// it when its mtime changes).
//
//   max-size        SIZE or none (default none): the most disk the cache may take, as du counts
//   min-free-space  SIZE (default 1G): keep at least this much free on the cache's filesystem
//
// SIZE is a number of bytes with an optional K/M/G/T suffix (binary: KiB .. TiB; rangeparse.h);
// "0" is allowed for min-free-space (no floor).
//
// Thread affinity: a value type; load() and save() do file I/O (call off the GUI thread).

#include "result.h"

#include <QString>
#include <QStringList>

#include <optional>

namespace sparsescope {

struct CacheSettings {
    static constexpr qint64 kDefaultMinFreeSpace = qint64(1) << 30;

    std::optional<qint64> maxSize;               // bytes; nullopt: no limit
    qint64 minFreeSpace = kDefaultMinFreeSpace;  // bytes

    static QStringList keys(); // "max-size", "min-free-space"
    static QString path(const QString &cacheDir);

    // (I/O) The settings of `cacheDir`; defaults when it has none. Errors: LocalIo (unreadable),
    // Integrity (not the JSON this class writes: names the file and says to fix or delete it).
    static Result<CacheSettings> load(const QString &cacheDir);
    // (I/O) Writes the settings (the directory is created if needed). Errors: LocalIo.
    Status save(const QString &cacheDir) const;

    // The value of `key` as `config KEY` prints it: bytes, or "none". Errors: Usage (unknown key).
    Result<QString> value(const QString &key) const;
    // Sets `key` from a SIZE text (or "none" for max-size). Errors: Usage (unknown key, bad value;
    // the message names both and shows an example).
    Status set(const QString &key, const QString &text);

    // `bytes` as a user would type it and set() reads it back exactly: "256M", "1G", "1536K".
    static QString sizeText(qint64 bytes);

    bool operator==(const CacheSettings &) const = default;
};

} // namespace sparsescope
