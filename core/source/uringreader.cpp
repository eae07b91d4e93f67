#include "uringreader.h"
#include "bufferpool.h"
#include "fileutil.h"
#include "uringring.h"

#include <QtGlobal>

#include <algorithm>
#include <deque>
#include <liburing.h>
#include <vector>

namespace sparsescope::uring {

namespace {
struct Slot {
    Buffer buffer;      // from BufferPool::shared(), taken on first use
    qint64 offset = 0;  // where this block starts in the file
    qint64 length = 0;  // bytes wanted
    qint64 done = 0;    // bytes read so far
    bool inFlight = false;
};
} // namespace

Status readRange(int fd, qint64 begin, qint64 end, const QString &what,
                 const std::function<bool(const char *, qint64)> &deliver, int depth, qint64 blockBytes)
{
    io_uring *ring = threadRing(depth);
    if (!ring)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot set up io_uring for %1").arg(what));
    std::vector<Slot> slots(static_cast<size_t>(depth));
    std::deque<int> order; // slots in file order, oldest first
    qint64 next = begin;

    auto submit = [&](int i) {
        Slot &s = slots[size_t(i)];
        io_uring_sqe *sqe = io_uring_get_sqe(ring);
        io_uring_prep_read(sqe, fd, s.buffer.data() + s.done, unsigned(s.length - s.done), quint64(s.offset + s.done));
        io_uring_sqe_set_data64(sqe, quint64(i));
        s.inFlight = true;
    };
    // Fill the queue: every free slot gets the next block; one io_uring_submit for the batch.
    auto refill = [&] {
        bool any = false;
        for (int i = 0; i < depth && next < end; ++i) {
            Slot &s = slots[size_t(i)];
            if (s.inFlight || std::find(order.begin(), order.end(), i) != order.end())
                continue;
            s.offset = next;
            s.length = std::min(blockBytes, end - next);
            s.done = 0;
            if (s.buffer.capacity() < s.length)
                s.buffer = BufferPool::shared().acquire(blockBytes);
            next += s.length;
            order.push_back(i);
            submit(i);
            any = true;
        }
        if (any)
            io_uring_submit(ring);
    };

    Status result = okStatus();
    refill();
    while (!order.empty()) {
        Completion done;
        if (const int rc = waitCompletion(ring, &done); rc < 0) {
            result = makeError(ErrorKind::LocalIo, QStringLiteral("io_uring wait failed for %1: %2").arg(what, errnoText(-rc)));
            break;
        }
        const int i = int(done.userData);
        const int res = done.result;
        Slot &s = slots[size_t(i)];
        s.inFlight = false;
        if (res == -EINTR || res == -EAGAIN) {
            submit(i); // try again
            io_uring_submit(ring);
            continue;
        }
        if (res < 0) {
            result = makeError(ErrorKind::LocalIo, QStringLiteral("cannot read %1 at offset %2: %3").arg(what).arg(s.offset + s.done).arg(errnoText(-res)));
            break;
        }
        if (res == 0) {
            result = makeError(ErrorKind::Integrity, QStringLiteral("%1 ends unexpectedly at offset %2 (truncated?)").arg(what).arg(s.offset + s.done));
            break;
        }
        s.done += res;
        if (s.done < s.length) { // short read: ask for the rest
            submit(i);
            io_uring_submit(ring);
            continue;
        }
        // Deliver every completed block at the head, in file order.
        bool stop = false;
        while (!order.empty()) {
            Slot &head = slots[size_t(order.front())];
            if (head.inFlight || head.done < head.length)
                break;
            if (!deliver(head.buffer.constData(), head.length)) {
                stop = true;
                break;
            }
            order.pop_front();
        }
        if (stop) {
            result = makeError(ErrorKind::Cancelled, QStringLiteral("cancelled"));
            break;
        }
        refill();
    }
    // Reap whatever is still in flight before the buffers go away.
    reap(ring, int(std::count_if(slots.begin(), slots.end(), [](const Slot &s) { return s.inFlight; })));
    return result;
}

} // namespace sparsescope::uring
