#include "fileutil.h"
#include "atomicfile.h"

#include <QDir>
#include <QFileInfo>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sparsescope {

QString errnoText(int err) { return QString::fromLocal8Bit(std::strerror(err)); }

Status pwriteAll(int fd, const char *data, qint64 length, qint64 offset, const QString &what)
{
    while (length > 0) {
        const ssize_t n = ::pwrite(fd, data, static_cast<size_t>(length), offset);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return makeError(ErrorKind::LocalIo, QStringLiteral("cannot write %1 at offset %2: %3")
                                                     .arg(what).arg(offset).arg(errnoText(errno)));
        }
        data += n;
        length -= n;
        offset += n;
    }
    return okStatus();
}

Status preadAll(int fd, char *data, qint64 length, qint64 offset, const QString &what)
{
    while (length > 0) {
        const ssize_t n = ::pread(fd, data, static_cast<size_t>(length), offset);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return makeError(ErrorKind::LocalIo, QStringLiteral("cannot read %1 at offset %2: %3")
                                                     .arg(what).arg(offset).arg(errnoText(errno)));
        }
        if (n == 0)
            return makeError(ErrorKind::Integrity, QStringLiteral("%1 ends unexpectedly at offset %2 (truncated?)")
                                                       .arg(what).arg(offset));
        data += n;
        length -= n;
        offset += n;
    }
    return okStatus();
}

namespace {
// Opens `dir` and runs `sync` (fsync(2) or syncfs(2)) on it; `what` names the call in errors.
Status syncThrough(const QString &dir, int (*sync)(int), const char *what)
{
    const int fd = ::open(QFile::encodeName(dir).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot open directory %1: %2").arg(dir, errnoText(errno)));
    const int rc = sync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot %1 %2: %3").arg(QLatin1String(what), dir, errnoText(err)));
    return okStatus();
}
} // namespace

int dataSync(int fd)
{
    static const bool enabled = qgetenv("SPARSESCOPE_UNSAFE_NO_FSYNC") != "1";
    return enabled ? ::fdatasync(fd) : 0;
}

Status syncDirectory(const QString &dir) { return syncThrough(dir, ::fsync, "fsync directory"); }

Status syncFilesystem(const QString &dir) { return syncThrough(dir, ::syncfs, "syncfs the filesystem of"); }

Status makePrivateDirectory(const QString &dir)
{
    const QString abs = QDir::cleanPath(QDir(dir).absolutePath());
    QString path;
    for (const QString &part : abs.split(u'/', Qt::SkipEmptyParts)) {
        path += u'/' + part;
        if (::mkdir(QFile::encodeName(path).constData(), 0700) != 0 && errno != EEXIST)
            return makeError(ErrorKind::LocalIo, QStringLiteral("cannot create directory %1: %2").arg(path, errnoText(errno)));
    }
    if (!QFileInfo(abs).isDir())
        return makeError(ErrorKind::LocalIo, QStringLiteral("%1 exists and is not a directory").arg(abs));
    return okStatus();
}

Status writeFileAtomically(const QString &path, const QByteArray &bytes)
{
    auto file = AtomicFile::create(path, 0600);
    if (!file)
        return file.error();
    if (Status st = pwriteAll(file->fd(), bytes.constData(), bytes.size(), 0, path); !st)
        return st;
    return file.value().commit(AtomicFile::Durability::FileAndDirectory);
}

qint64 allocatedBytesOf(int fd)
{
    struct stat st {};
    return ::fstat(fd, &st) == 0 ? qint64(st.st_blocks) * 512 : 0;
}

} // namespace sparsescope
