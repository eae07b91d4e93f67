#include "atomicfile.h"
#include "fileutil.h"
#include "temporaryfiles.h"

#include <QFile>
#include <QFileInfo>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sparsescope {

AtomicFile::AtomicFile(int fd, QByteArray temporary, QString target, int slot)
    : m_fd(fd), m_slot(slot), m_temporary(std::move(temporary)), m_target(std::move(target))
{
}

AtomicFile::AtomicFile(AtomicFile &&other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_slot(std::exchange(other.m_slot, -1)), m_temporary(std::exchange(other.m_temporary, {})), m_target(std::move(other.m_target))
{
}

AtomicFile::~AtomicFile()
{
    if (m_fd >= 0)
        ::close(m_fd);
    if (!m_temporary.isEmpty())
        ::unlink(m_temporary.constData());
    temporaryfiles::unregisterPath(m_slot);
}

QString AtomicFile::temporaryPath() const { return QFile::decodeName(m_temporary); }

Result<AtomicFile> AtomicFile::create(const QString &target, mode_t mode)
{
    const QFileInfo info(target);
    // Hidden, and short enough that the suffix fits within NAME_MAX.
    QByteArray temporary = QFile::encodeName(info.absolutePath() + QStringLiteral("/.") + info.fileName().left(200) +
                                             QStringLiteral(".sparsescope-XXXXXX"));
    temporaryfiles::beginChange();
    const int fd = ::mkostemp(temporary.data(), O_CLOEXEC); // created 0600
    const int slot = fd >= 0 ? temporaryfiles::registerPath(temporary.constData()) : -1;
    temporaryfiles::endChange();
    if (fd < 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot create a file in %1 for %2: %3")
                                                 .arg(info.absolutePath(), info.fileName(), errnoText(errno)));
    AtomicFile file(fd, temporary, target, slot);
    if (::fchmod(fd, mode) != 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot set the permissions of %1: %2").arg(target, errnoText(errno)));
    return file;
}

Status AtomicFile::commit(Durability durability)
{
    Status st = okStatus();
    if (durability != Durability::None && ::fsync(m_fd) != 0)
        st = makeError(ErrorKind::LocalIo, QStringLiteral("cannot fsync %1: %2").arg(m_target, errnoText(errno)));
    ::close(m_fd);
    m_fd = -1;
    if (st && ::rename(m_temporary.constData(), QFile::encodeName(m_target).constData()) != 0)
        st = makeError(ErrorKind::LocalIo, QStringLiteral("cannot move %1 into place: %2").arg(m_target, errnoText(errno)));
    if (!st)
        return st; // the destructor removes the temporary file
    m_temporary.clear();
    temporaryfiles::unregisterPath(std::exchange(m_slot, -1));
    if (durability == Durability::FileAndDirectory)
        return syncDirectory(QFileInfo(m_target).absolutePath());
    return okStatus();
}

} // namespace sparsescope
