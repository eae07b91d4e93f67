#pragma once
// ArchiveEntry: one member of an archive, as `list` shows it and as the archive index stores it.

#include "byterange.h"

#include <QList>
#include <QString>

#include <algorithm>
#include <optional>

namespace sparsescope {

struct ArchiveEntry {
    enum class Type { File, Directory, Symlink, Hardlink, Other };

    int index = 0;              // position in the archive (0-based, archive order)
    QString path;               // as stored (UTF-8), never sanitized here
    Type type = Type::File;
    qint64 size = 0;            // bytes when extracted
    qint64 compressedSize = -1; // bytes stored in the archive (-1 if the format does not say)
    qint64 mtime = 0;           // seconds since the epoch, UTC
    int mode = -1;              // permission bits as stored (tar mode; ZIP Unix external attributes), -1 if none
    QString linkTarget;         // symlinks: the target as stored; hard links (tar): the earlier entry's path
    // Bytes of the archive the entry occupies (ZIP: local header through data; tar: header through
    // padded data), or none when the format does not allow it (compressed streams).
    std::optional<ByteRange> span;
    bool complete = true;       // false: the archive ends inside this entry (a truncated archive)
    // ZIP only (from the central directory, APPNOTE 4.3.12): compression method and CRC-32, so an
    // indexed entry can be read from its local header without reading the central directory again.
    int method = -1;
    quint32 crc32 = 0;

    // The name as `extract` matches it: without leading "./" and trailing "/".
    static QString normalizedPath(QString name)
    {
        while (name.startsWith(QStringLiteral("./")))
            name.remove(0, 2);
        while (name.endsWith(u'/'))
            name.chop(1);
        return name;
    }

    // The type's word in `list` output and JSON ("file", "directory", ...): static text.
    static QLatin1StringView typeName(Type t)
    {
        switch (t) {
        case Type::File: return QLatin1StringView("file");
        case Type::Directory: return QLatin1StringView("directory");
        case Type::Symlink: return QLatin1StringView("symlink");
        case Type::Hardlink: return QLatin1StringView("hardlink");
        case Type::Other: return QLatin1StringView("other");
        }
        return {};
    }
};

} // namespace sparsescope

// Moved bitwise when a listing's QList grows (QString and std::optional<ByteRange> allow it):
// element-wise moves were 5 % of a tar walk.
Q_DECLARE_TYPEINFO(sparsescope::ArchiveEntry, Q_RELOCATABLE_TYPE);

namespace sparsescope {

// What listing an archive found: its entries in archive order, and, for an archive that ends too
// early or is damaged after some entries, one line saying so (empty when the archive is whole).
struct ArchiveListing {
    QString format;             // "zip", "tar", "tar.gzip", ...
    QList<ArchiveEntry> entries; // sorted by index (a lookup by names: only the entries they select)
    QString problem;
};

// The entry whose index is `index` in `entries` (sorted by index, possibly partial), or null.
inline const ArchiveEntry *findEntry(const QList<ArchiveEntry> &entries, int index)
{
    if (index >= 0 && index < entries.size() && entries[index].index == index)
        return &entries[index];
    const auto it = std::lower_bound(entries.begin(), entries.end(), index, [](const ArchiveEntry &e, int i) { return e.index < i; });
    return it != entries.end() && it->index == index ? &*it : nullptr;
}

} // namespace sparsescope
