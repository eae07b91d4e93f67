#pragma once
// OutputWriter: writes `read`'s bytes to stdout or a file on a thread of its own, so that the
// main thread, which runs the engine, never blocks in write(2). A reader that stops reading our
// stdout (a pipe into a pager nobody scrolls) would otherwise stop the engine too: no commits,
// so the chunks this process claimed would stay claimed and other processes on the cache would
// wait for them forever. push() waits while more than `maxQueuedBytes` are queued, running the
// event loop meanwhile (the engine keeps committing).
//
// Thread affinity: push(), finish() and error() on the main thread.

#include <QByteArray>
#include <QString>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace sparsescope::cli {

class OutputWriter {
public:
    OutputWriter(int fd, QString what, qint64 maxQueuedBytes = 64 << 20);
    ~OutputWriter(); // finish()es

    // Queues `bytes`; false once a write failed (see error()).
    bool push(QByteArray bytes);
    // Waits until everything queued is written; false if a write failed.
    bool finish();
    QString error() const;

private:
    void run();
    const int m_fd;
    const QString m_what;
    const qint64 m_max;
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<QByteArray> m_queue;
    qint64 m_queued = 0;
    bool m_done = false;
    bool m_busy = false;
    QString m_error;
    std::thread m_thread;
};

} // namespace sparsescope::cli
