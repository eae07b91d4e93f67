#include "exportwriter.h"
#include "fileutil.h"

#include <QFile>
#include <QFileInfo>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sparsescope {

Result<qint64> writeExport(const ChunkStore &store, const QString &path, qint64 objectSize, bool requireAll)
{
    const QFileInfo target(path);
    const QString dir = target.absolutePath();
    QByteArray tmp = QFile::encodeName(dir + QStringLiteral("/.") + target.fileName() + QStringLiteral(".sparsescope-XXXXXX"));
    const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
    if (fd < 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot create a file in %1 for the export: %2").arg(dir, errnoText(errno)));
    auto fail = [&](Error e) -> Result<qint64> {
        ::close(fd);
        ::unlink(tmp.constData());
        return e;
    };
    if (::fchmod(fd, 0644) != 0 || ::ftruncate(fd, objectSize) != 0)
        return fail(makeError(ErrorKind::LocalIo, QStringLiteral("cannot size the export of %1 bytes in %2: %3")
                                                      .arg(objectSize).arg(dir, errnoText(errno))));
    if (Status st = store.copyPresentTo(fd, ByteRange{0, objectSize}, requireAll); !st)
        return fail(st.error());
    if (::fdatasync(fd) != 0)
        return fail(makeError(ErrorKind::LocalIo, QStringLiteral("cannot fsync the export %1: %2").arg(path, errnoText(errno))));
    ::close(fd);
    if (::rename(tmp.constData(), QFile::encodeName(path).constData()) != 0) {
        const int err = errno;
        ::unlink(tmp.constData());
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot move the export into %1: %2").arg(path, errnoText(err)));
    }
    (void)syncDirectory(dir);
    return store.presentBytes();
}

} // namespace sparsescope
