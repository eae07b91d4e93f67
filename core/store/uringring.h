#pragma once
// io_uring plumbing shared by the io_uring reader (source/uringreader.h) and the store's writes
// (uringwriter.h): whether io_uring may be used in this process, and one ring per thread.
//
// available() is false when ring setup is refused (EPERM, ENOSYS, io_uring_disabled, seccomp) or
// when SPARSESCOPE_IO=pread; the reason is logged once, and callers use pread(2)/pwrite(2) instead.
// See io_uring_setup(2), io_uring_enter(2).

#include <QString>

struct io_uring;

namespace sparsescope::uring {

bool available();
QString unavailableReason(); // empty when available

// The calling thread's ring with at least `depth` entries, created on first use and torn down
// with the thread; nullptr if it cannot be set up (then fall back to the synchronous calls).
io_uring *threadRing(int depth);

} // namespace sparsescope::uring
