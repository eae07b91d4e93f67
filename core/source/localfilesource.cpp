#include "localfilesource.h"
#include "bufferpool.h"
#include "fileutil.h"
#include "handoff.h"
#include "uringreader.h"

#include <QDateTime>
#include <QFile>
#include <QPromise>

#include <condition_variable>
#include <mutex>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sparsescope {

LocalFileSource::LocalFileSource(QString path, const SourceOptions &options, std::shared_ptr<Statistics> statistics)
    : m_path(std::move(path)), m_stats(std::move(statistics))
{
    m_pool.setMaxThreadCount(std::max(1, options.connections));
}

QString LocalFileSource::backendName() const
{
    return uring::available() ? QStringLiteral("io_uring") : QStringLiteral("pread");
}

LocalFileSource::~LocalFileSource()
{
    {
        std::lock_guard l(m_mutex);
        for (quint64 i = 1; i < m_nextId; ++i)
            m_cancelled.insert(i);
    }
    m_pool.waitForDone();
}

Result<SourceInfo> LocalFileSource::stat() const
{
    struct stat st {};
    if (::stat(QFile::encodeName(m_path).constData(), &st) != 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot open %1: %2").arg(m_path, errnoText(errno)));
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        return makeError(ErrorKind::Usage, QStringLiteral("%1 is not a regular file").arg(m_path));
    SourceInfo info;
    info.size = st.st_size;
    info.validator = QStringLiteral("%1:%2:%3")
                         .arg(qint64(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec)
                         .arg(qint64(st.st_size))
                         .arg(quint64(st.st_ino));
    info.displayName = m_path;
    info.lastModified = QDateTime::fromSecsSinceEpoch(st.st_mtim.tv_sec, Qt::UTC);
    return info;
}

QFuture<Result<SourceInfo>> LocalFileSource::open(const OpenProbe &)
{
    // A local read costs no round trip: the probe is left to the first read.
    auto r = stat();
    if (r)
        m_validator = r->validator;
    return QtFuture::makeReadyFuture(r);
}

void LocalFileSource::assume(const SourceInfo &info) { m_validator = info.validator; }

namespace {
// Blocks this reader thread until `sink` takes more bytes (ReadSink::ready): local reads may wait,
// they run on the source's own threads.
void waitUntilReady(ReadSink &sink)
{
    struct Gate {
        std::mutex mutex;
        std::condition_variable opened;
        bool open = false;
    };
    auto gate = std::make_shared<Gate>();
    if (sink.ready([gate] {
            {
                std::lock_guard l(gate->mutex);
                gate->open = true;
            }
            gate->opened.notify_all();
        }))
        return;
    std::unique_lock l(gate->mutex);
    gate->opened.wait(l, [&] { return gate->open; });
}
} // namespace

quint64 LocalFileSource::read(ByteRange range, std::shared_ptr<ReadSink> sink, bool)
{
    const quint64 id = m_nextId++;
    m_stats->upstreamRequests++;
    startOnPool(&m_pool, [this, id, range, sink = std::move(sink)] {
        auto cancelled = [this, id] {
            std::lock_guard l(m_mutex);
            return m_cancelled.erase(id) > 0;
        };
        const int fd = ::open(QFile::encodeName(m_path).constData(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            sink->onFinished(makeError(ErrorKind::LocalIo, QStringLiteral("cannot open %1 for bytes %2: %3")
                                                               .arg(m_path, range.toInclusiveString(), errnoText(errno))));
            return;
        }
        Status result = okStatus();
        const auto now = stat();
        if (!now || now->validator != m_validator) {
            result = makeError(ErrorKind::Changed, QStringLiteral("%1 changed on disk since it was opened").arg(m_path));
        } else if (uring::available()) {
            // io_uring: up to 32 reads of 256 KiB in flight, delivered in order.
            result = uring::readRange(fd, range.begin, range.end, m_path, [&](const char *data, qint64 length) {
                if (cancelled())
                    return false;
                m_stats->upstreamBytes += length;
                waitUntilReady(*sink);
                return sink->onBytes(data, length);
            });
        } else {
            Buffer buf = BufferPool::shared().acquire(1 << 20);
            qint64 pos = range.begin;
            while (pos < range.end) {
                if (cancelled()) {
                    result = makeError(ErrorKind::Cancelled, QStringLiteral("cancelled"));
                    break;
                }
                const qint64 len = std::min<qint64>(range.end - pos, buf.capacity());
                if (Status st = preadAll(fd, buf.data(), len, pos, m_path); !st) {
                    result = st;
                    break;
                }
                m_stats->upstreamBytes += len;
                pos += len;
                waitUntilReady(*sink);
                if (!sink->onBytes(buf.constData(), len)) {
                    result = makeError(ErrorKind::Cancelled, QStringLiteral("cancelled"));
                    break;
                }
            }
        }
        ::close(fd);
        sink->onFinished(result);
    });
    return id;
}

void LocalFileSource::cancel(quint64 id)
{
    std::lock_guard l(m_mutex);
    m_cancelled.insert(id);
}

} // namespace sparsescope
