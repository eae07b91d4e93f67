#include "uringwriter.h"
#include "fileutil.h"

#include <liburing.h>

#include <limits>
#include <vector>

namespace sparsescope::uring {

Status writeAll(int fd, const char *data, qint64 length, qint64 offset, const QString &what, int depth, qint64 pieceBytes)
{
    io_uring *ring = threadRing(depth);
    if (!ring)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot set up io_uring to write %1").arg(what));
    struct Piece {
        qint64 begin;  // offset in `data`
        qint64 length;
        qint64 done = 0;
    };
    std::vector<Piece> pieces;
    for (qint64 at = 0; at < length; at += pieceBytes)
        pieces.push_back({at, std::min(pieceBytes, length - at)});

    size_t next = 0;  // first piece never submitted
    int inFlight = 0;
    Status result = okStatus();
    auto prep = [&](size_t i) {
        Piece &p = pieces[i];
        io_uring_sqe *sqe = io_uring_get_sqe(ring);
        io_uring_prep_write(sqe, fd, data + p.begin + p.done, unsigned(p.length - p.done), quint64(offset + p.begin + p.done));
        io_uring_sqe_set_data64(sqe, quint64(i));
        ++inFlight;
    };
    auto submit = [&] {
        for (;;) {
            const int rc = io_uring_submit(ring);
            if (rc >= 0)
                return true;
            if (rc == -EINTR || rc == -EAGAIN || rc == -EBUSY)
                continue; // completions below free room; the SQEs stay queued
            result = makeError(ErrorKind::LocalIo, QStringLiteral("io_uring submit failed writing %1: %2").arg(what, errnoText(-rc)));
            return false;
        }
    };

    qint64 failedAt = std::numeric_limits<qint64>::max();
    int failedErrno = 0;
    while (result && (next < pieces.size() || inFlight > 0)) {
        bool queued = false;
        while (next < pieces.size() && inFlight < depth) {
            prep(next++);
            queued = true;
        }
        if (queued && !submit())
            break;
        Completion done;
        if (const int rc = waitCompletion(ring, &done); rc < 0) {
            result = makeError(ErrorKind::LocalIo, QStringLiteral("io_uring wait failed writing %1: %2").arg(what, errnoText(-rc)));
            break;
        }
        const size_t i = size_t(done.userData);
        const int res = done.result;
        --inFlight;
        Piece &p = pieces[i];
        if (res == -EINTR || res == -EAGAIN || res == -EBUSY) {
            prep(i);
            submit();
            continue;
        }
        if (res <= 0) {
            // Report the lowest failing offset: pieces complete in any order.
            const qint64 at = offset + p.begin + p.done;
            if (at < failedAt) {
                failedAt = at;
                failedErrno = res == 0 ? ENOSPC : -res;
            }
            next = pieces.size(); // submit nothing more; reap what is in flight
            continue;
        }
        p.done += res;
        if (p.done < p.length) { // short write: the rest
            prep(i);
            submit();
        }
    }
    if (result && failedErrno != 0)
        result = makeError(ErrorKind::LocalIo, QStringLiteral("cannot write %1 at offset %2: %3").arg(what).arg(failedAt).arg(errnoText(failedErrno)));
    // Reap what is still in flight before the caller's buffer may go away (after an error in the loop).
    reap(ring, inFlight);
    return result;
}

} // namespace sparsescope::uring
