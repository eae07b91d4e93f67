#include "archiveextractor.h"
#include "extractionwriter.h"
#include "fileutil.h"

#include <QDir>
#include <QFile>
#include <QHash>
#include <QSet>

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
QString normalized(const QString &name) { return ArchiveEntry::normalizedPath(name); }

mode_t processUmask()
{
    // Reading the umask with umask(2) would change it for a moment under other threads.
    QFile status(QStringLiteral("/proc/self/status"));
    if (status.open(QIODevice::ReadOnly))
        for (const QByteArray &line : status.readAll().split('\n'))
            if (line.startsWith("Umask:"))
                return mode_t(line.mid(6).trimmed().toUInt(nullptr, 8));
    return 022;
}

// Creates the directories of `components` under `root`, refusing to pass through a symlink.
// `known` holds directories already checked or made by this extraction, which stay directories.
Status makeParents(const QString &root, const QStringList &components, const QString &entry, QSet<QString> &known)
{
    QString path = root;
    for (const QString &c : components) {
        path += u'/' + c;
        if (known.contains(path))
            continue;
        struct stat st {};
        if (::lstat(QFile::encodeName(path).constData(), &st) == 0) {
            if (S_ISLNK(st.st_mode))
                return makeError(ErrorKind::Usage, QStringLiteral("entry \"%1\" would be written through the symbolic link %2")
                                                       .arg(entry, path));
            if (!S_ISDIR(st.st_mode))
                return makeError(ErrorKind::Usage, QStringLiteral("entry \"%1\": %2 exists and is not a directory").arg(entry, path));
            known.insert(path);
            continue;
        }
        if (::mkdir(QFile::encodeName(path).constData(), 0777) != 0 && errno != EEXIST) // less the umask, as tar does
            return makeError(ErrorKind::LocalIo, QStringLiteral("cannot create directory %1: %2").arg(path, errnoText(errno)));
        known.insert(path);
    }
    return okStatus();
}

class Extraction {
public:
    Extraction(const QString &root, const std::function<void(const ExtractProgress &)> &progress)
        : m_root(root), m_umask(processUmask()), m_progress(progress) {}

    Status visit(const ArchiveEntry &e, const ArchiveReader::BodyReader &body);
    Status finish();
    ExtractReport report;
    ExtractProgress progress;

private:
    void warn(const QString &line, bool missing = true)
    {
        report.warnings << line;
        report.incomplete = report.incomplete || missing;
    }
    // Parents created (or refused) for `parts` without the last component; the absolute path of the entry.
    Status extractFile(const ArchiveEntry &e, const QString &target, const ArchiveReader::BodyReader &body);
    void extractSymlink(const ArchiveEntry &e, const QString &relative, const QString &target);
    void extractHardlink(const ArchiveEntry &e, const QString &target);

    QString m_root;
    mode_t m_umask;
    std::function<void(const ExtractProgress &)> m_progress;
    struct DirectoryFinish {
        QString path;
        mode_t mode;
        qint64 mtime;
    };
    QList<DirectoryFinish> m_directories; // applied at the end, deepest first
    QSet<QString> m_knownDirectories;
    ExtractionWriter m_writer;
};

Status Extraction::visit(const ArchiveEntry &e, const ArchiveReader::BodyReader &body)
{
    // "./" (what `tar -C dir -cf x.tar .` starts with) is the target itself: nothing to make.
    if (e.type == ArchiveEntry::Type::Directory && QDir::cleanPath(QStringLiteral("/") + e.path) == u"/")
        return okStatus();
    auto rel = safeEntryPath(e.path);
    if (!rel) {
        warn(QStringLiteral("refused: %1").arg(rel.error().message));
        return okStatus();
    }
    const QString target = m_root + u'/' + *rel;
    if (!e.complete) {
        warn(QStringLiteral("not extracted: \"%1\" is incomplete: the archive ends inside it").arg(e.path));
        return okStatus();
    }
    if (e.type == ArchiveEntry::Type::Other) {
        warn(QStringLiteral("skipped: entry \"%1\" is a special file, which is not extracted").arg(e.path), false);
        return okStatus();
    }
    const QStringList parts = rel->split(u'/');
    if (e.type == ArchiveEntry::Type::Directory) {
        if (Status st = makeParents(m_root, parts, e.path, m_knownDirectories); !st) {
            if (st.error().kind == ErrorKind::LocalIo)
                return st;
            warn(QStringLiteral("refused: %1").arg(st.error().message));
            return okStatus();
        }
        const mode_t mode = (e.mode >= 0 ? mode_t(e.mode) & 0777 : 0777) & ~m_umask;
        m_directories.append({target, mode, e.mtime});
        ++report.directories;
        return okStatus();
    }
    if (Status st = makeParents(m_root, parts.mid(0, parts.size() - 1), e.path, m_knownDirectories); !st) {
        if (st.error().kind == ErrorKind::LocalIo)
            return st;
        warn(QStringLiteral("refused: %1").arg(st.error().message));
        return okStatus();
    }
    struct stat st {};
    if (::lstat(QFile::encodeName(target).constData(), &st) == 0 && S_ISDIR(st.st_mode)) {
        warn(QStringLiteral("refused: entry \"%1\": %2 exists and is a directory").arg(e.path, target));
        return okStatus();
    }
    if (e.type == ArchiveEntry::Type::Symlink) {
        extractSymlink(e, *rel, target);
        return okStatus();
    }
    if (e.type == ArchiveEntry::Type::Hardlink) {
        extractHardlink(e, target);
        return okStatus();
    }
    return extractFile(e, target, body);
}

Status Extraction::extractFile(const ArchiveEntry &e, const QString &target, const ArchiveReader::BodyReader &body)
{
    m_writer.begin(target);
    qint64 length = 0;
    const Status readStatus = body([&](const char *data, qint64 n) {
        m_writer.write(QByteArray(data, n));
        length += n;
        return !m_writer.failed();
    });
    if (m_writer.failed())
        return m_writer.drain(); // the disk: stop
    if (!readStatus) {
        m_writer.abandon(); // the temporary file goes
        if (readStatus.error().kind == ErrorKind::Cancelled || readStatus.error().kind == ErrorKind::LocalIo)
            return readStatus;
        warn(QStringLiteral("not extracted: %1").arg(readStatus.error().message));
        return okStatus(); // a damaged member: the next entry is tried
    }
    m_writer.finish((e.mode >= 0 ? mode_t(e.mode) & 0777 : 0666) & ~m_umask, e.mtime);
    ++report.files;
    report.bytes += length;
    progress.bytesDone += length;
    ++progress.filesDone;
    if (m_progress)
        m_progress(progress);
    return okStatus();
}

void Extraction::extractSymlink(const ArchiveEntry &e, const QString &relative, const QString &target)
{
    // The target as the kernel will resolve it, lexically: relative to the link's directory.
    const QString linkDir = QFileInfo(relative).path();
    const QString resolved = QDir::cleanPath((linkDir == u"." ? QString() : linkDir + u'/') + e.linkTarget);
    if (e.linkTarget.isEmpty() || e.linkTarget.startsWith(u'/') || resolved == u".." || resolved.startsWith(QStringLiteral("../"))) {
        warn(QStringLiteral("refused: symbolic link \"%1\" -> \"%2\" points outside the target directory").arg(e.path, e.linkTarget));
        return;
    }
    if (!m_writer.drain())
        return; // reported by finish()
    const QByteArray path = QFile::encodeName(target); // after the files queued before it, in archive order
    ::unlink(path.constData()); // a later entry of the same name replaces an earlier one
    if (::symlink(QFile::encodeName(e.linkTarget).constData(), path.constData()) != 0) {
        warn(QStringLiteral("not extracted: symbolic link %1: %2").arg(target, errnoText(errno)));
        return;
    }
    const struct timespec times[2] = {{e.mtime, 0}, {e.mtime, 0}};
    ::utimensat(AT_FDCWD, path.constData(), times, AT_SYMLINK_NOFOLLOW);
    ++report.links;
}

void Extraction::extractHardlink(const ArchiveEntry &e, const QString &target)
{
    if (!m_writer.drain())
        return; // reported by finish()
    auto source = safeEntryPath(e.linkTarget);
    struct stat st {};
    const QString from = source ? m_root + u'/' + *source : QString();
    // Only to a regular file already under the target, reached without symbolic links.
    if (!source || ::lstat(QFile::encodeName(from).constData(), &st) != 0 || !S_ISREG(st.st_mode) ||
        QFileInfo(from).canonicalFilePath() != QDir::cleanPath(from)) {
        warn(QStringLiteral("not extracted: hard link \"%1\" -> \"%2\": the target was not extracted").arg(e.path, e.linkTarget));
        return;
    }
    const QByteArray path = QFile::encodeName(target);
    ::unlink(path.constData());
    if (::link(QFile::encodeName(from).constData(), path.constData()) != 0) {
        warn(QStringLiteral("not extracted: hard link %1: %2").arg(target, errnoText(errno)));
        return;
    }
    ++report.links;
}

Status Extraction::finish()
{
    if (Status st = m_writer.drain(); !st)
        return st;
    // Directories last (their contents changed their mtime), deepest first (a read-only parent
    // would refuse the child's change).
    std::sort(m_directories.begin(), m_directories.end(),
              [](const DirectoryFinish &a, const DirectoryFinish &b) { return a.path.size() > b.path.size(); });
    for (const DirectoryFinish &d : std::as_const(m_directories)) {
        const QByteArray path = QFile::encodeName(d.path);
        const struct timespec times[2] = {{d.mtime, 0}, {d.mtime, 0}};
        ::chmod(path.constData(), d.mode);
        ::utimensat(AT_FDCWD, path.constData(), times, AT_SYMLINK_NOFOLLOW);
    }
    // Every file written, then durable together.
    return syncFilesystem(m_root);
}
} // namespace

Result<QList<int>> selectEntries(const QList<ArchiveEntry> &entries, const QStringList &names)
{
    QHash<QString, qsizetype> lastFile; // normalized path -> position of its last entry
    for (qsizetype i = 0; i < entries.size(); ++i)
        lastFile.insert(normalized(entries[i].path), i);
    QList<int> selected;
    for (const QString &raw : names) {
        const QString name = normalized(raw);
        const QString prefix = name + u'/';
        bool any = false;
        const auto hit = lastFile.constFind(name);
        const bool isDirectory = hit != lastFile.constEnd() && entries[*hit].type == ArchiveEntry::Type::Directory;
        if (hit != lastFile.constEnd() && !isDirectory) {
            selected.append(entries[*hit].index);
            continue;
        }
        for (const ArchiveEntry &e : entries) {
            const QString p = normalized(e.path);
            if (p == name || p.startsWith(prefix) || name.isEmpty()) {
                selected.append(e.index);
                any = true;
            }
        }
        if (!any)
            return makeError(ErrorKind::Usage, QStringLiteral("the archive has no entry named \"%1\"; see `sparsescope-cli list`").arg(raw));
    }
    return selected;
}

Result<ExtractReport> extractEntries(ArchiveReader &reader, const QList<int> &indices, const QString &directory,
                                     const std::function<void(const ExtractProgress &)> &progress)
{
    const QString root = QDir::cleanPath(QDir(directory).absolutePath());
    if (!QDir().mkpath(root))
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot create directory %1").arg(root));
    Extraction x(root, progress);
    const QList<ArchiveEntry> all = reader.entries();
    for (int index : indices)
        if (const ArchiveEntry *e = findEntry(all, index); e && e->type == ArchiveEntry::Type::File)
            x.progress.bytesTotal += e->size, ++x.progress.filesTotal;
    if (indices.isEmpty())
        for (const ArchiveEntry &e : all)
            if (e.type == ArchiveEntry::Type::File)
                x.progress.bytesTotal += e.size, ++x.progress.filesTotal;
    const Status walked = reader.visit(indices, [&](const ArchiveEntry &e, const ArchiveReader::BodyReader &body) { return x.visit(e, body); });
    if (!walked) {
        if (walked.error().kind == ErrorKind::LocalIo || walked.error().kind == ErrorKind::Cancelled)
            return walked.error();
        x.report.warnings << QStringLiteral("not extracted: %1").arg(walked.error().message);
        x.report.incomplete = true;
    }
    else if (!reader.problem().isEmpty() && indices.isEmpty()) {
        x.report.warnings << reader.problem();
        x.report.incomplete = true;
    }
    if (Status st = x.finish(); !st)
        return st.error();
    return x.report;
}

} // namespace sparsescope
