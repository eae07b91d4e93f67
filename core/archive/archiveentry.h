#pragma once
// ArchiveEntry: one member of an archive, as `list` shows it.

#include "byterange.h"

#include <QString>

#include <optional>

namespace sparsescope {

struct ArchiveEntry {
    enum class Type { File, Directory, Symlink, Other };

    int index = 0;              // position in the archive
    QString path;               // as stored (UTF-8), never sanitized here
    Type type = Type::File;
    qint64 size = 0;            // bytes when extracted
    qint64 compressedSize = -1; // bytes stored in the archive (-1 if the format does not say)
    qint64 mtime = 0;           // seconds since the epoch, UTC
    QString linkTarget;         // symlinks
    // Bytes of the archive the entry occupies (ZIP: local header through data; tar: header through
    // padded data), or none when the format does not allow it (compressed streams).
    std::optional<ByteRange> span;

    static QString typeName(Type t)
    {
        switch (t) {
        case Type::File: return QStringLiteral("file");
        case Type::Directory: return QStringLiteral("directory");
        case Type::Symlink: return QStringLiteral("symlink");
        case Type::Other: return QStringLiteral("other");
        }
        return {};
    }
};

} // namespace sparsescope
