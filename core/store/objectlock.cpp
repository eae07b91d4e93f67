#include "objectlock.h"
#include "fileutil.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QThread>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/vfs.h>
#include <unistd.h>

namespace sparsescope {

ObjectLock &ObjectLock::operator=(ObjectLock &&other) noexcept
{
    if (this != &other) {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = std::exchange(other.m_fd, -1);
    }
    return *this;
}

ObjectLock::~ObjectLock()
{
    if (m_fd >= 0)
        ::close(m_fd); // closing the descriptor releases the flock
}

void ObjectLock::downgrade()
{
    if (m_fd >= 0)
        ::flock(m_fd, LOCK_SH);
}

bool ObjectLock::onNetworkFilesystem(const QString &path)
{
    struct statfs st {};
    if (::statfs(QFile::encodeName(path).constData(), &st) != 0)
        return false;
    switch (quint32(st.f_type)) {
    case 0x6969u:     // NFS_SUPER_MAGIC
    case 0x517Bu:     // SMB_SUPER_MAGIC
    case 0xFF534D42u: // CIFS_MAGIC_NUMBER
    case 0xFE534D42u: // SMB2_MAGIC_NUMBER
        return true;
    default:
        return false;
    }
}

Result<ObjectLock> ObjectLock::acquire(const QString &directory, int waitMs, Mode mode, const std::function<void(const QString &)> &waiting)
{
    const QString path = directory + QStringLiteral("/lock");
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot open lock file %1: %2").arg(path, errnoText(errno)));
    QElapsedTimer timer;
    timer.start();
    const int how = mode == Mode::Exclusive ? LOCK_EX : LOCK_SH;
    bool told = false;
    while (::flock(fd, how | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            const int err = errno;
            ::close(fd);
            return makeError(ErrorKind::LocalIo, QStringLiteral("cannot lock %1: %2").arg(path, errnoText(err)));
        }
        if (!told && waiting && waitMs > 0) {
            told = true;
            char buf[256] = {};
            const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
            waiting(mode == Mode::Exclusive
                        ? QStringLiteral("waiting for the other processes that have %1 open to close it").arg(directory)
                        : QStringLiteral("waiting for %1 to finish with %2").arg(n > 0 ? QString::fromUtf8(buf, n).trimmed() : QStringLiteral("another process"), directory));
        }
        if (timer.elapsed() >= waitMs) {
            char buf[256] = {};
            const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
            ::close(fd);
            const QString holder = n > 0 ? QString::fromUtf8(buf, n).trimmed() : QStringLiteral("an unknown process");
            return makeError(ErrorKind::LocalIo,
                             mode == Mode::Exclusive
                                 ? QStringLiteral("cache entry %1 is still open in other processes (last exclusive user: %2); "
                                                  "close them and try again").arg(directory, holder)
                                 : QStringLiteral("cache entry %1 is in use by %2; wait for it to finish or stop it").arg(directory, holder));
        }
        QThread::msleep(20);
    }
    if (mode == Mode::Shared)
        return ObjectLock(fd);
    const QByteArray who = QStringLiteral("pid %1 (%2)")
                               .arg(QCoreApplication::applicationPid())
                               .arg(QCoreApplication::applicationName())
                               .toUtf8() + '\n';
    if (::ftruncate(fd, 0) == 0)
        (void)pwriteAll(fd, who.constData(), who.size(), 0, path);
    return ObjectLock(fd);
}

} // namespace sparsescope
