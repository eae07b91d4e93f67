#include "claimtable.h"
#include "fileutil.h"

#include <QFile>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace sparsescope {

ClaimTable::~ClaimTable()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

Status ClaimTable::open(const QString &directory)
{
    m_path = directory + QStringLiteral("/claims");
    m_fd = ::open(QFile::encodeName(m_path).constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (m_fd < 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot open %1: %2").arg(m_path, errnoText(errno)));
    return okStatus();
}

bool ClaimTable::lock(qint64 first, qint64 last, short type, bool wait)
{
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = off_t(first);
    fl.l_len = off_t(last - first + 1);
    while (::fcntl(m_fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) != 0) {
        if (errno != EINTR)
            return false;
    }
    return true;
}

Result<QList<std::pair<qint64, qint64>>> ClaimTable::tryClaim(qint64 first, qint64 last)
{
    QList<std::pair<qint64, qint64>> runs;
    if (first > last)
        return runs;
    if (lock(first, last, F_WRLCK, false)) {
        runs.append({first, last});
        return runs;
    }
    if (errno != EAGAIN && errno != EACCES)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot claim chunks %1-%2 in %3: %4").arg(first).arg(last).arg(m_path, errnoText(errno)));
    // Some chunk is claimed elsewhere: chunk by chunk, keeping runs.
    for (qint64 c = first; c <= last; ++c) {
        if (!lock(c, c, F_WRLCK, false))
            continue;
        if (!runs.isEmpty() && runs.last().second == c - 1)
            runs.last().second = c;
        else
            runs.append({c, c});
    }
    return runs;
}

Status ClaimTable::claimWaiting(qint64 first, qint64 last)
{
    if (first > last || lock(first, last, F_WRLCK, true))
        return okStatus();
    return makeError(ErrorKind::LocalIo, QStringLiteral("cannot claim chunks %1-%2 in %3: %4").arg(first).arg(last).arg(m_path, errnoText(errno)));
}

void ClaimTable::release(qint64 first, qint64 last)
{
    if (first <= last && m_fd >= 0)
        lock(first, last, F_UNLCK, false);
}

bool ClaimTable::claimedElsewhere(qint64 first, qint64 last) const
{
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = off_t(first);
    fl.l_len = off_t(last - first + 1);
    if (::fcntl(m_fd, F_OFD_GETLK, &fl) != 0)
        return false;
    return fl.l_type != F_UNLCK;
}

} // namespace sparsescope
