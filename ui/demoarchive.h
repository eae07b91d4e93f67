#pragma once
// The built-in demo object: a deterministic ustar archive (POSIX.1-1988 tar, 512-byte headers)
// of text and binary entries, about 48 MiB, generated once into the app's data directory.
// It is opened through the same engine path as any other object (a file:// source).

#include "result.h"

#include <QString>

namespace sparsescope::demo {

struct Entry {
    QString name;
    qint64 headerOffset = 0; // byte offset of its 512-byte header in the archive
    qint64 size = 0;
};

// The entries of the demo archive, in order, with their offsets.
QList<Entry> entries();
// Where the archive lives: <AppDataLocation>/demo/sparsescope-demo.tar.
QString archivePath();
// (I/O) Writes the archive if it is missing or has the wrong size (temporary file + rename).
// Errors: LocalIo.
Status ensureArchive(const QString &path);

} // namespace sparsescope::demo
