#pragma once
// ExtractionWriter: a thread of its own that creates, writes and renames the files of an
// extraction in the order they are queued, so that the thread reading (and decompressing) the
// archive and the file system work at the same time, as `xz -d | tar x` do in two processes.
// Each file is an AtomicFile: written under a temporary name, given its mode and mtime, and renamed
// into place (Durability::None: the extraction makes everything durable at the end). At most
// `maxQueuedBytes` of file data wait in the queue; write() blocks the producer beyond that.
//
// Thread affinity: one producer thread calls every method; the writer thread is internal. The
// first error stops the writer: later operations are dropped and error() returns it.

#include "result.h"

#include <QByteArray>
#include <QString>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <sys/types.h>

namespace sparsescope {

class ExtractionWriter {
public:
    explicit ExtractionWriter(qint64 maxQueuedBytes = 64 << 20);
    ~ExtractionWriter(); // abandons a file not finished, waits for the thread

    void begin(const QString &target);           // starts a new file (created 0600)
    void write(QByteArray bytes);                // appends to it
    void finish(mode_t mode, qint64 mtime);      // mode bits, mtime (seconds), then rename
    void abandon();                              // the file is not wanted: its temporary goes
    Status drain();                              // waits until everything queued is done; the first error
    bool failed() const;                         // an error happened (cheap; see drain())

private:
    struct Op {
        enum Kind { Begin, Write, Finish, Abandon } kind;
        QString target;
        QByteArray bytes;
        mode_t mode = 0;
        qint64 mtime = 0;
    };
    void push(Op op);
    void run();

    const qint64 m_maxQueuedBytes;
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<Op> m_queue;
    qint64 m_queuedBytes = 0;
    bool m_busy = false;   // the writer is working on an op taken from the queue
    bool m_stop = false;
    Status m_error = okStatus();
    bool m_failed = false;
    std::thread m_thread;
};

} // namespace sparsescope
