#pragma once
// Extracting archive entries into a directory, safely: an entry whose name is absolute, contains a
// `..` component, or would be written through a symbolic link that already exists under the
// target directory is refused with a warning and nothing is written for it. Symlink entries are
// not created (they could point anywhere); they are reported. Each file is written to a temporary
// name in its directory and renamed into place when complete, with the entry's mtime.
// Thread affinity: the ArchiveReader's worker thread.

#include "archivereader.h"

#include <QStringList>

namespace sparsescope {

struct ExtractReport {
    int files = 0;          // regular files written
    int directories = 0;    // directories created
    qint64 bytes = 0;       // bytes written
    QStringList warnings;   // entries refused or skipped, one line each
};

// The entry name as a relative path inside the target ("a/b.txt"), or an error explaining why it
// is refused. Pure.
Result<QString> safeEntryPath(const QString &entryPath);

// Extracts `indices` (all entries when empty) into `directory` (created if missing).
// Errors: LocalIo (cannot write), and the reader's errors; refused entries are warnings, not errors.
Result<ExtractReport> extractEntries(ArchiveReader &reader, const QList<int> &indices, const QString &directory);

} // namespace sparsescope
