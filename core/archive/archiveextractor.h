#pragma once
// Extracting archive entries into a directory, as GNU tar and unzip do for a user who is not root,
// and safely:
// - An entry whose name is absolute, contains a `..` component, or would be written through a
//   symbolic link that already exists under the target is refused with a warning; nothing is
//   written for it.
// - Files get the entry's permission bits (rwx for user, group, other; never setuid, setgid or
//   sticky) less the process umask, and the entry's mtime; an entry without a mode (a ZIP made on
//   another system) gets 0666 less the umask. Directories get their mode and mtime after their
//   contents are written.
// - Symbolic links are created when their target, taken relative to the link's directory, stays
//   inside the target directory; otherwise refused with a warning. Hard links (tar) link to the
//   earlier entry they name, when that was extracted.
// - Each file is written under a temporary name in its directory and renamed into place when
//   complete (a later entry of the same name replaces it, so the last one wins, as with tar and
//   unzip); everything is made durable once at the end (syncfs(2)), not file by file. An
//   interrupted extraction never leaves a partial file under its final name.
// - The archive is read in one pass (ArchiveReader::visit).
//
// Thread affinity: the ArchiveReader's worker thread.

#include "archivereader.h"

#include <QStringList>

#include <atomic>

namespace sparsescope {

struct ExtractReport {
    int files = 0;          // regular files written
    int directories = 0;    // directories created
    int links = 0;          // symbolic and hard links created
    qint64 bytes = 0;       // bytes written
    QStringList warnings;   // entries refused or skipped, one line each
    bool incomplete = false; // something asked for was not extracted (refused, truncated, damaged)
};

struct ExtractProgress {
    qint64 bytesDone = 0;   // bytes of the selected files written so far
    qint64 bytesTotal = 0;  // bytes of the selected files
    int filesDone = 0;
    int filesTotal = 0;
};

// The entry name as a relative path inside the target ("a/b.txt"), or an error explaining why it
// is refused. Pure.
Result<QString> safeEntryPath(const QString &entryPath);

// The entries that `names` select: a name matching file entries selects the last of them (as tar
// and unzip do with duplicates); a name that is a directory (an entry of that name, or the parent
// of other entries) selects its whole subtree. Names compare without a leading "./" or trailing
// "/". Errors: Usage, naming the first name that matches nothing.
Result<QList<int>> selectEntries(const QList<ArchiveEntry> &entries, const QStringList &names);

// Extracts `indices` (all entries when empty) into `directory` (created if missing). `progress`,
// if set, is called after each file. Errors: LocalIo (cannot write), Cancelled; refused, damaged
// and truncated entries are warnings (report.incomplete), not errors.
Result<ExtractReport> extractEntries(ArchiveReader &reader, const QList<int> &indices, const QString &directory,
                                     const std::function<void(const ExtractProgress &)> &progress = {});

} // namespace sparsescope
