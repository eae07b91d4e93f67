#pragma once
// io_uring plumbing shared by the io_uring reader (source/uringreader.h) and the store's writes
// (uringwriter.h): whether io_uring may be used in this process, and one ring per thread.
//
// available() is false when ring setup is refused (EPERM, ENOSYS, io_uring_disabled, seccomp) or
// when SPARSESCOPE_IO=pread; the reason is logged once, and callers use pread(2)/pwrite(2) instead.
// See io_uring_setup(2), io_uring_enter(2).

#include <QString>
#include <QtGlobal>

struct io_uring;

namespace sparsescope::uring {

bool available();
QString unavailableReason(); // empty when available

// Whether the store writes chunks with io_uring (uringwriter.h) rather than pwrite(2): only when
// available() and SPARSESCOPE_STORE_IO=uring. Off by default because it measured no faster and
// cost more CPU here (ext4 punts buffered io_uring writes to io-wq worker threads: +6% CPU on a
// 1 GiB HTTP prefetch, +16% on a local one, same wall time; docs/PERFORMANCE.md).
bool storeWrites();

// The calling thread's ring with at least `depth` entries, created on first use and torn down
// with the thread; nullptr if it cannot be set up (then fall back to the synchronous calls).
io_uring *threadRing(int depth);

struct Completion {
    quint64 userData = 0; // what the submission carried (io_uring_sqe_set_data64)
    int result = 0;       // cqe->res: bytes done, or -errno
};
// Waits for the next completion on `ring` (EINTR and EAGAIN retried) and marks it seen.
// Returns 0, or the -errno of io_uring_wait_cqe(3).
int waitCompletion(io_uring *ring, Completion *out);
// Waits for and discards `count` completions: call before the buffers they point into go away.
void reap(io_uring *ring, int count);

} // namespace sparsescope::uring
