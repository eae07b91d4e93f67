#include "extractionwriter.h"
#include "atomicfile.h"
#include "fileutil.h"

#include <optional>
#include <sys/stat.h>

namespace sparsescope {

ExtractionWriter::ExtractionWriter(qint64 maxQueuedBytes) : m_maxQueuedBytes(maxQueuedBytes), m_thread([this] { run(); }) {}

ExtractionWriter::~ExtractionWriter()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_changed.notify_all();
    m_thread.join();
}

void ExtractionWriter::push(Op op)
{
    std::unique_lock lock(m_mutex);
    const qint64 size = op.bytes.size();
    m_changed.wait(lock, [&] { return m_failed || m_queuedBytes == 0 || m_queuedBytes + size <= m_maxQueuedBytes; });
    if (m_failed)
        return;
    m_queuedBytes += size;
    m_queue.push_back(std::move(op));
    lock.unlock();
    m_changed.notify_all();
}

void ExtractionWriter::begin(const QString &target) { push({Op::Begin, target, {}, 0, 0}); }
void ExtractionWriter::write(QByteArray bytes) { push({Op::Write, {}, std::move(bytes), 0, 0}); }
void ExtractionWriter::finish(mode_t mode, qint64 mtime) { push({Op::Finish, {}, {}, mode, mtime}); }
void ExtractionWriter::abandon() { push({Op::Abandon, {}, {}, 0, 0}); }

bool ExtractionWriter::failed() const
{
    std::lock_guard lock(m_mutex);
    return m_failed;
}

Status ExtractionWriter::drain()
{
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [&] { return m_failed || (m_queue.empty() && !m_busy); });
    return m_error;
}

void ExtractionWriter::run()
{
    std::optional<AtomicFile> file;
    qint64 at = 0;
    while (true) {
        std::unique_lock lock(m_mutex);
        m_changed.wait(lock, [&] { return m_stop || !m_queue.empty(); });
        if (m_queue.empty() || m_failed)
            break; // stopping, or an error: whatever is left is dropped
        Op op = std::move(m_queue.front());
        m_queue.pop_front();
        m_busy = true;
        lock.unlock();

        Status st = okStatus();
        switch (op.kind) {
        case Op::Begin: {
            file.reset();
            at = 0;
            auto created = AtomicFile::create(op.target, 0600);
            if (created)
                file.emplace(std::move(created).value());
            else
                st = created.error();
            break;
        }
        case Op::Write:
            if (file) {
                st = pwriteAll(file->fd(), op.bytes.constData(), op.bytes.size(), at, file->target());
                at += op.bytes.size();
            }
            break;
        case Op::Finish:
            if (file) {
                const struct timespec times[2] = {{op.mtime, 0}, {op.mtime, 0}};
                if (::fchmod(file->fd(), op.mode) != 0 || ::futimens(file->fd(), times) != 0)
                    st = makeError(ErrorKind::LocalIo, QStringLiteral("cannot set the mode or time of %1: %2").arg(file->target(), errnoText(errno)));
                else
                    st = file->commit(AtomicFile::Durability::None);
                file.reset();
            }
            break;
        case Op::Abandon:
            file.reset(); // removes the temporary file
            break;
        }

        lock.lock();
        m_busy = false;
        m_queuedBytes -= op.bytes.size();
        if (!st && !m_failed) {
            m_error = st;
            m_failed = true;
        }
        lock.unlock();
        m_changed.notify_all();
    }
    std::lock_guard lock(m_mutex);
    m_busy = false;
    m_changed.notify_all();
}

} // namespace sparsescope
