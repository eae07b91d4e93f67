#pragma once
// XzPipe: decompresses an .xz stream (the .xz file format, tukaani.org/xz/xz-file-format.txt)
// read from a SparseDevice on a thread of its own, with liblzma's multi-threaded decoder
// (lzma_stream_decoder_mt: the file's blocks in parallel), so that the tar reader parses and
// hands out one megabyte while the next ones are being decompressed — what `tar xJ` gets from
// running xz as a process of its own. At most kQueued blocks wait decompressed (memory bound).
//
// Thread affinity: next() from one reader thread (not the GUI thread: it blocks); the pipe's own
// thread reads the device. The destructor stops the thread and joins it (the device read it may
// be waiting for gives up when the device is cancelled).

#include "result.h"

#include <QByteArray>
#include <QMutex>
#include <QWaitCondition>

#include <deque>
#include <optional>
#include <thread>

namespace sparsescope {

class SparseDevice;

class XzPipe {
public:
    static constexpr int kQueued = 8;           // decompressed blocks waiting, 1 MiB each
    static constexpr qint64 kBlock = 1 << 20;

    // True if the device starts with the .xz magic bytes FD 37 7A 58 5A 00 (reads 6 bytes).
    static bool looksLikeXz(SparseDevice &device);

    explicit XzPipe(SparseDevice &device); // starts decompressing from offset 0
    ~XzPipe();
    XzPipe(const XzPipe &) = delete;
    XzPipe &operator=(const XzPipe &) = delete;

    // The next decompressed bytes, in order; empty once the stream is complete. Errors:
    // Integrity (corrupt data; the stream ends early: "truncated"), and the device's (Upstream,
    // Cancelled, ...). Bytes decompressed before an error are delivered first.
    Result<QByteArray> next();

private:
    void run();
    bool push(QByteArray block); // false: stopping

    SparseDevice &m_device;
    QMutex m_mutex;
    QWaitCondition m_changed;
    std::deque<QByteArray> m_ready;
    std::optional<Error> m_error;
    bool m_finished = false;
    bool m_stop = false;
    std::thread m_thread;
};

} // namespace sparsescope
