#include "outputwriter.h"
#include "fileutil.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QThread>

#include <cerrno>
#include <unistd.h>

namespace sparsescope::cli {

OutputWriter::OutputWriter(int fd, QString what, qint64 maxQueuedBytes)
    : m_fd(fd), m_what(std::move(what)), m_max(maxQueuedBytes), m_thread([this] { run(); })
{
}

OutputWriter::~OutputWriter()
{
    finish();
    {
        std::lock_guard lock(m_mutex);
        m_done = true;
    }
    m_changed.notify_all();
    m_thread.join();
}

bool OutputWriter::push(QByteArray bytes)
{
    // Wait for room with the event loop running: the engine lives on this thread.
    while (true) {
        {
            std::lock_guard lock(m_mutex);
            if (!m_error.isEmpty())
                return false;
            if (m_queued == 0 || m_queued + bytes.size() <= m_max) {
                m_queued += bytes.size();
                m_queue.push_back(std::move(bytes));
                break;
            }
        }
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
        QThread::msleep(1);
    }
    m_changed.notify_all();
    return true;
}

bool OutputWriter::finish()
{
    while (true) {
        {
            std::lock_guard lock(m_mutex);
            if (!m_error.isEmpty())
                return false;
            if (m_queue.empty() && !m_busy)
                return true;
        }
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
        QThread::msleep(1);
    }
}

QString OutputWriter::error() const
{
    std::lock_guard lock(m_mutex);
    return m_error;
}

void OutputWriter::run()
{
    while (true) {
        QByteArray bytes;
        {
            std::unique_lock lock(m_mutex);
            m_changed.wait(lock, [&] { return m_done || !m_queue.empty(); });
            if (m_queue.empty())
                return;
            bytes = std::move(m_queue.front());
            m_queue.pop_front();
            m_busy = true;
        }
        qint64 done = 0;
        QString failure;
        while (done < bytes.size()) {
            const ssize_t n = ::write(m_fd, bytes.constData() + done, size_t(bytes.size() - done));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                failure = QStringLiteral("cannot write %1: %2").arg(m_what, errnoText(errno));
                break;
            }
            done += n;
        }
        std::lock_guard lock(m_mutex);
        m_busy = false;
        m_queued -= bytes.size();
        if (!failure.isEmpty() && m_error.isEmpty())
            m_error = failure;
    }
}

} // namespace sparsescope::cli
