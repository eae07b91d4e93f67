#include "objectlock.h"
#include "fileutil.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QThread>

#include <fcntl.h>
#include <sys/file.h>
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

Result<ObjectLock> ObjectLock::acquire(const QString &directory, int waitMs)
{
    const QString path = directory + QStringLiteral("/lock");
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot open lock file %1: %2").arg(path, errnoText(errno)));
    QElapsedTimer timer;
    timer.start();
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            const int err = errno;
            ::close(fd);
            return makeError(ErrorKind::LocalIo, QStringLiteral("cannot lock %1: %2").arg(path, errnoText(err)));
        }
        if (timer.elapsed() >= waitMs) {
            char buf[256] = {};
            const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
            ::close(fd);
            const QString holder = n > 0 ? QString::fromUtf8(buf, n).trimmed() : QStringLiteral("an unknown process");
            return makeError(ErrorKind::LocalIo,
                             QStringLiteral("cache entry %1 is in use by %2; wait for it to finish or stop it")
                                 .arg(directory, holder));
        }
        QThread::msleep(20);
    }
    const QByteArray who = QStringLiteral("pid %1 (%2)")
                               .arg(QCoreApplication::applicationPid())
                               .arg(QCoreApplication::applicationName())
                               .toUtf8() + '\n';
    if (::ftruncate(fd, 0) == 0)
        (void)pwriteAll(fd, who.constData(), who.size(), 0, path);
    return ObjectLock(fd);
}

} // namespace sparsescope
