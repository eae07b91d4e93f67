#pragma once
// UringReader: reads a byte range of a file with io_uring (liburing), keeping up to `depth` reads
// of `blockBytes` in flight and delivering the bytes in order. One ring per thread (created on
// first use, freed when the thread ends). Short reads are resubmitted for the rest; EINTR and
// EAGAIN are retried. See io_uring_setup(2), io_uring_enter(2).
//
// available() is false when ring setup is refused (EPERM, ENOSYS, io_uring_disabled, seccomp) or
// when SPARSESCOPE_IO=pread; the reason is logged once, and callers use pread(2) instead.

#include "result.h"

#include <QString>

#include <functional>

namespace sparsescope::uring {

bool available();
QString unavailableReason(); // empty when available

// Reads [begin, end) of `fd`, calling `deliver` with consecutive pieces in order; `deliver`
// returns false to stop. Errors: LocalIo (the read failed; names `what` and the offset),
// Integrity (the file ended early), Cancelled (deliver said stop).
Status readRange(int fd, qint64 begin, qint64 end, const QString &what,
                 const std::function<bool(const char *data, qint64 length)> &deliver,
                 int depth = 32, qint64 blockBytes = 256 << 10);

} // namespace sparsescope::uring
