#pragma once
// UringWriter: the store's positioned writes on io_uring (liburing). A write is cut into pieces
// of `pieceBytes`, up to `depth` of them submitted with one io_uring_enter(2) on the calling
// thread's ring (uringring.h); short writes are resubmitted for the rest, and EINTR, EAGAIN and
// EBUSY (completion queue full) are retried. SparseFileStore uses it when uring::storeWrites(),
// and pwrite(2) (fileutil.h pwriteAll) otherwise.

#include "result.h"
#include "uringring.h"

#include <QString>

namespace sparsescope::uring {

// Writes `length` bytes of `data` at `offset` of `fd`; returns once all are written.
// Errors: LocalIo naming `what` and the offset where it failed (ENOSPC, EIO, EFBIG, ...;
// a zero-byte completion counts as ENOSPC, as in write(2)). Bytes before that offset may have
// been written — the caller punches them out again.
Status writeAll(int fd, const char *data, qint64 length, qint64 offset, const QString &what,
                int depth = 32, qint64 pieceBytes = 1 << 20);

} // namespace sparsescope::uring
