#include "claimtable.h"
#include "fileutil.h"

#include <QFile>

#include <cerrno>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sparsescope {

ClaimTable::~ClaimTable()
{
    if (m_map)
        ::munmap(m_map, 4096);
    if (m_fd >= 0)
        ::close(m_fd);
}

Status ClaimTable::open(const QString &directory)
{
    m_path = directory + QStringLiteral("/claims");
    m_fd = ::open(QFile::encodeName(m_path).constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (m_fd < 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot open %1: %2").arg(m_path, errnoText(errno)));
    // The shared drop counter lives in the first page (locks on its bytes are claims; they do not
    // touch the content). Growing the file never shrinks it: ftruncate only when it is short.
    struct stat st {};
    if (::fstat(m_fd, &st) != 0 || (st.st_size < 4096 && ::ftruncate(m_fd, 4096) != 0))
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot size %1: %2").arg(m_path, errnoText(errno)));
    m_map = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, m_fd, 0);
    if (m_map == MAP_FAILED) {
        m_map = nullptr;
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot map %1: %2").arg(m_path, errnoText(errno)));
    }
    return okStatus();
}

std::atomic<quint64> *ClaimTable::counter() const
{
    static_assert(std::atomic<quint64>::is_always_lock_free, "a counter shared between processes must be lock-free");
    return static_cast<std::atomic<quint64> *>(m_map);
}

quint64 ClaimTable::drops() const { return m_map ? counter()->load(std::memory_order_acquire) : 0; }

void ClaimTable::addDrop()
{
    if (m_map)
        counter()->fetch_add(1, std::memory_order_acq_rel);
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

bool ClaimTable::pin(qint64 first, qint64 last)
{
    return first > last || m_fd < 0 || lock(kPinBase + first, kPinBase + last, F_RDLCK, false);
}

void ClaimTable::unpin(qint64 first, qint64 last)
{
    if (first <= last && m_fd >= 0)
        lock(kPinBase + first, kPinBase + last, F_UNLCK, false);
}

Result<QList<std::pair<qint64, qint64>>> ClaimTable::unpinnedRuns(qint64 first, qint64 last) const
{
    // F_OFD_GETLK reports one conflicting lock of the span, not necessarily the first: split the
    // span around it and look at both sides, left first, so that the runs come out in order.
    QList<std::pair<qint64, qint64>> runs;
    QList<std::pair<qint64, qint64>> todo{{first, last}}; // a stack, the leftmost span on top
    while (!todo.isEmpty()) {
        const auto [a, b] = todo.takeLast();
        if (a > b)
            continue;
        struct flock fl {};
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        fl.l_start = off_t(kPinBase + a);
        fl.l_len = off_t(b - a + 1);
        if (::fcntl(m_fd, F_OFD_GETLK, &fl) != 0) {
            if (errno == EINTR) {
                todo.append({a, b});
                continue;
            }
            return makeError(ErrorKind::LocalIo, QStringLiteral("cannot look at the pins of %1: %2").arg(m_path, errnoText(errno)));
        }
        if (fl.l_type == F_UNLCK) {
            if (!runs.isEmpty() && runs.last().second == a - 1)
                runs.last().second = b;
            else
                runs.append({a, b});
            continue;
        }
        const qint64 lockFirst = std::max(a, qint64(fl.l_start) - kPinBase);
        const qint64 lockLast = fl.l_len == 0 ? b : std::min(b, qint64(fl.l_start) - kPinBase + qint64(fl.l_len) - 1);
        todo.append({lockLast + 1, b});
        todo.append({a, lockFirst - 1});
    }
    return runs;
}

} // namespace sparsescope
