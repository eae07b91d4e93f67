#include "uringring.h"
#include "logging.h"
#include "fileutil.h"

#include <QtGlobal>

#include <liburing.h>

namespace sparsescope::uring {

namespace {
struct Probe {
    bool ok = false;
    QString why;
};

const Probe &probe()
{
    static const Probe p = [] {
        Probe r;
        if (qgetenv("SPARSESCOPE_IO") == "pread") {
            r.why = QStringLiteral("SPARSESCOPE_IO=pread");
            return r;
        }
        io_uring ring;
        const int rc = io_uring_queue_init(8, &ring, 0);
        if (rc < 0) {
            r.why = QStringLiteral("io_uring setup refused: %1").arg(errnoText(-rc));
            qCWarning(lcIo, "sparsescope: using pread/pwrite instead of io_uring (%s)", qPrintable(r.why));
            return r;
        }
        io_uring_queue_exit(&ring);
        r.ok = true;
        return r;
    }();
    return p;
}

struct ThreadRing {
    io_uring ring{};
    bool ready = false;
    int depth = 0;
    ~ThreadRing()
    {
        if (ready)
            io_uring_queue_exit(&ring);
    }
    io_uring *ensure(int wanted)
    {
        if (ready && depth >= wanted)
            return &ring;
        if (ready)
            io_uring_queue_exit(&ring);
        ready = io_uring_queue_init(unsigned(wanted), &ring, 0) == 0;
        depth = ready ? wanted : 0;
        return ready ? &ring : nullptr;
    }
};
thread_local ThreadRing t_ring;
} // namespace

bool available() { return probe().ok; }
QString unavailableReason() { return probe().why; }

bool storeWrites()
{
    static const bool on = qgetenv("SPARSESCOPE_STORE_IO") == "uring" && available();
    return on;
}

io_uring *threadRing(int depth) { return available() ? t_ring.ensure(depth) : nullptr; }

int waitCompletion(io_uring *ring, Completion *out)
{
    io_uring_cqe *cqe = nullptr;
    int rc = 0;
    do {
        rc = io_uring_wait_cqe(ring, &cqe);
    } while (rc == -EINTR || rc == -EAGAIN);
    if (rc < 0)
        return rc;
    out->userData = io_uring_cqe_get_data64(cqe);
    out->result = cqe->res;
    io_uring_cqe_seen(ring, cqe);
    return 0;
}

void reap(io_uring *ring, int count)
{
    Completion ignored;
    for (int i = 0; i < count; ++i)
        if (waitCompletion(ring, &ignored) < 0)
            return;
}

} // namespace sparsescope::uring
