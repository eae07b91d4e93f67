#include "accesstimes.h"
#include "fileutil.h"

#include <QFile>

#include <cerrno>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sparsescope {

namespace {
qint64 pageRounded(qint64 bytes) { return std::max<qint64>(4096, blockRounded(bytes)); }
} // namespace

AccessTimes::~AccessTimes()
{
    unmap();
    if (m_fd >= 0)
        ::close(m_fd);
}

Status AccessTimes::open(const QString &directory, qint64 chunkCount)
{
    m_path = directory + QStringLiteral("/access");
    m_fd = ::open(QFile::encodeName(m_path).constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (m_fd < 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot open %1: %2").arg(m_path, errnoText(errno)));
    return map(chunkCount);
}

Status AccessTimes::map(qint64 chunkCount)
{
    static_assert(std::atomic<quint32>::is_always_lock_free && sizeof(std::atomic<quint32>) == 4);
    unmap();
    const qint64 bytes = pageRounded(chunkCount * 4);
    struct stat st {};
    // Grow only: another process may have the entry open with the same size.
    if (::fstat(m_fd, &st) != 0 || (st.st_size < bytes && ::ftruncate(m_fd, off_t(bytes)) != 0))
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot size %1: %2").arg(m_path, errnoText(errno)));
    void *m = ::mmap(nullptr, size_t(bytes), PROT_READ | PROT_WRITE, MAP_SHARED, m_fd, 0);
    if (m == MAP_FAILED)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot map %1: %2").arg(m_path, errnoText(errno)));
    m_map = m;
    m_mapBytes = bytes;
    m_count = chunkCount;
    return okStatus();
}

void AccessTimes::unmap()
{
    if (m_map)
        ::munmap(m_map, size_t(m_mapBytes));
    m_map = nullptr;
    m_mapBytes = 0;
    m_count = 0;
}

Status AccessTimes::reset(qint64 chunkCount)
{
    if (m_fd < 0)
        return okStatus();
    // Never shrink the file: another process may have it mapped (a page past the end of a mapped
    // file is SIGBUS). Zero the table instead: the old version's stamps mean nothing now.
    if (Status st = map(chunkCount); !st)
        return st;
    for (qint64 c = 0; c < m_count; ++c)
        slots()[c].store(0, std::memory_order_relaxed);
    return okStatus();
}

void AccessTimes::stamp(qint64 first, qint64 last, quint32 tick)
{
    if (!m_map)
        return;
    first = std::max<qint64>(first, 0);
    last = std::min(last, m_count - 1);
    std::atomic<quint32> *s = slots();
    for (qint64 c = first; c <= last; ++c)
        if (s[c].load(std::memory_order_relaxed) != tick)
            s[c].store(tick, std::memory_order_relaxed);
}

quint32 AccessTimes::at(qint64 chunk) const
{
    return m_map && chunk >= 0 && chunk < m_count ? slots()[chunk].load(std::memory_order_relaxed) : 0;
}

std::vector<quint32> AccessTimes::read(const QString &directory, qint64 chunkCount)
{
    std::vector<quint32> out(size_t(std::max<qint64>(chunkCount, 0)), 0);
    QFile f(directory + QStringLiteral("/access"));
    if (!f.open(QIODevice::ReadOnly))
        return out;
    const qint64 want = chunkCount * 4;
    const qint64 got = f.read(reinterpret_cast<char *>(out.data()), std::min(want, f.size()));
    (void)got; // short: the rest stays 0 (never used)
    return out;
}

} // namespace sparsescope
