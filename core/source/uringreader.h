#pragma once
// UringReader: reads a byte range of a file with io_uring (liburing), keeping up to `depth` reads
// of `blockBytes` in flight and delivering the bytes in order, on the calling thread's ring
// (uringring.h). Short reads are resubmitted for the rest; EINTR and EAGAIN are retried.
// Use only when uring::available(); otherwise pread(2).

#include "result.h"
#include "uringring.h"

#include <QString>

#include <functional>

namespace sparsescope::uring {

// Reads [begin, end) of `fd`, calling `deliver` with consecutive pieces in order; `deliver`
// returns false to stop. Errors: LocalIo (the read failed; names `what` and the offset),
// Integrity (the file ended early), Cancelled (deliver said stop).
Status readRange(int fd, qint64 begin, qint64 end, const QString &what,
                 const std::function<bool(const char *data, qint64 length)> &deliver,
                 int depth = 32, qint64 blockBytes = 256 << 10);

} // namespace sparsescope::uring
