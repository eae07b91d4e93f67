#include "uringring.h"
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
            qWarning("sparsescope: using pread/pwrite instead of io_uring (%s)", qPrintable(r.why));
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

} // namespace sparsescope::uring
