#include "archiveextractor.h"
#include "atomicfile.h"
#include "fileutil.h"

#include <QDir>
#include <QFile>

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sparsescope {

Result<QString> safeEntryPath(const QString &entryPath)
{
    QString p = entryPath;
    p.replace(u'\\', u'/');
    if (p.isEmpty())
        return makeError(ErrorKind::Usage, QStringLiteral("an entry has an empty name"));
    if (p.startsWith(u'/') || (p.size() >= 2 && p[1] == u':'))
        return makeError(ErrorKind::Usage, QStringLiteral("entry \"%1\" has an absolute name").arg(entryPath));
    QStringList parts;
    for (const QString &part : p.split(u'/', Qt::SkipEmptyParts)) {
        if (part == u"..")
            return makeError(ErrorKind::Usage, QStringLiteral("entry \"%1\" climbs out of the target with \"..\"").arg(entryPath));
        if (part != u".")
            parts << part;
    }
    if (parts.isEmpty())
        return makeError(ErrorKind::Usage, QStringLiteral("entry \"%1\" names no file").arg(entryPath));
    return parts.join(u'/');
}

namespace {
// Creates the directories of `relative` under `root`, refusing to pass through a symlink.
Status makeParents(const QString &root, const QStringList &components, const QString &entry)
{
    QString path = root;
    for (const QString &c : components) {
        path += u'/' + c;
        struct stat st {};
        if (::lstat(QFile::encodeName(path).constData(), &st) == 0) {
            if (S_ISLNK(st.st_mode))
                return makeError(ErrorKind::Usage, QStringLiteral("entry \"%1\" would be written through the symbolic link %2")
                                                       .arg(entry, path));
            if (!S_ISDIR(st.st_mode))
                return makeError(ErrorKind::Usage, QStringLiteral("entry \"%1\": %2 exists and is not a directory").arg(entry, path));
            continue;
        }
        if (::mkdir(QFile::encodeName(path).constData(), 0755) != 0 && errno != EEXIST)
            return makeError(ErrorKind::LocalIo, QStringLiteral("cannot create directory %1: %2").arg(path, errnoText(errno)));
    }
    return okStatus();
}
} // namespace

Result<ExtractReport> extractEntries(ArchiveReader &reader, const QList<int> &indices, const QString &directory)
{
    ExtractReport report;
    const QString root = QDir::cleanPath(QDir(directory).absolutePath());
    if (!QDir().mkpath(root))
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot create directory %1").arg(root));
    const QList<ArchiveEntry> all = reader.entries();
    QList<int> wanted = indices;
    if (wanted.isEmpty())
        for (const ArchiveEntry &e : all)
            wanted.append(e.index);
    for (int index : std::as_const(wanted)) {
        const ArchiveEntry &e = all[index];
        auto rel = safeEntryPath(e.path);
        if (!rel) {
            report.warnings << QStringLiteral("refused: %1").arg(rel.error().message);
            continue;
        }
        QStringList parts = rel->split(u'/');
        if (e.type == ArchiveEntry::Type::Symlink || e.type == ArchiveEntry::Type::Other) {
            report.warnings << QStringLiteral("skipped: entry \"%1\" is a %2, which is not extracted")
                                   .arg(e.path, e.type == ArchiveEntry::Type::Symlink ? QStringLiteral("symbolic link") : QStringLiteral("special file"));
            continue;
        }
        if (e.type == ArchiveEntry::Type::Directory) {
            if (Status st = makeParents(root, parts, e.path); !st) {
                if (st.error().kind == ErrorKind::LocalIo)
                    return st.error();
                report.warnings << QStringLiteral("refused: %1").arg(st.error().message);
                continue;
            }
            ++report.directories;
            continue;
        }
        const QString name = parts.takeLast();
        if (Status st = makeParents(root, parts, e.path); !st) {
            if (st.error().kind == ErrorKind::LocalIo)
                return st.error();
            report.warnings << QStringLiteral("refused: %1").arg(st.error().message);
            continue;
        }
        const QString parent = parts.isEmpty() ? root : root + u'/' + parts.join(u'/');
        const QString target = parent + u'/' + name;
        auto file = AtomicFile::create(target, 0644);
        if (!file)
            return file.error();
        qint64 at = 0;
        Status writeStatus = okStatus();
        const Status readStatus = reader.read(index, [&](const char *data, qint64 length) {
            writeStatus = pwriteAll(file->fd(), data, length, at, target);
            at += length;
            return bool(writeStatus);
        });
        Status st = !writeStatus ? writeStatus : readStatus;
        if (st) {
            const struct timespec times[2] = {{e.mtime, 0}, {e.mtime, 0}};
            ::futimens(file->fd(), times);
            st = file.value().commit(AtomicFile::Durability::File);
        }
        if (!st)
            return st.error();
        ++report.files;
        report.bytes += at;
    }
    return report;
}

} // namespace sparsescope
