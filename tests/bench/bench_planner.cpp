// Planner tuning of issue 4: full materialization of an object from a loopback nginx through the
// engine, for each combination of chunk size, coalescing cap (PlannerConfig::maxRequestBytes),
// split size (minSplitBytes) and parallel connections. Median of RUNS; prints one row each.
// Never fails on a number. usage: bench_planner [SIZE_MIB=1024] [RUNS=3]
#include "awaitfuture.h"
#include "bufferpool.h"
#include "nginxfixture.h"
#include "sparseobject.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>

#include <cstdio>

using namespace sparsescope;
using namespace sparsescope::test;

namespace {
struct Setting {
    qint64 chunk;
    qint64 cap;
    qint64 split;
    int connections;
};

QString mib(qint64 bytes) { return bytes >= (1 << 20) ? QStringLiteral("%1M").arg(bytes >> 20) : QStringLiteral("%1K").arg(bytes >> 10); }

// Seconds for one full prefetch into an empty cache, durable (flush included); -1 on failure.
double fetchOnce(const QString &url, const QString &cacheDir, const Setting &s, qint64 *requests)
{
    EngineConfig c;
    c.cacheDir = cacheDir;
    c.chunkSize = s.chunk;
    c.planner.maxRequestBytes = s.cap;
    c.planner.minSplitBytes = s.split;
    c.source.connections = s.connections;
    QElapsedTimer t;
    t.start();
    auto o = awaitFuture(SparseObject::open(url, c));
    if (!o)
        return -1;
    const qint64 size = (*o)->geometry().objectSize;
    if (!awaitFuture((*o)->prefetch({{0, size}})) || !awaitFuture((*o)->flush()))
        return -1;
    const double seconds = t.nsecsElapsed() / 1e9;
    *requests = (*o)->statistics().upstreamRequests;
    return seconds;
}
} // namespace

int main(int argc, char **argv)
{
    tuneAllocatorForTransfers();
    QCoreApplication app(argc, argv);
    const qint64 sizeMib = argc > 1 ? QByteArray(argv[1]).toLongLong() : 1024;
    const int runs = argc > 2 ? QByteArray(argv[2]).toInt() : 3;
    NginxFixture nginx;
    if (!nginx.start())
        qFatal("%s", qPrintable(nginx.errorText()));
    {
        QFile f(nginx.root() + QStringLiteral("/object.bin"));
        f.open(QIODevice::WriteOnly);
        for (qint64 i = 0; i < sizeMib / 16 + 1; ++i)
            f.write(patternBytes(std::min<qint64>(16, sizeMib - i * 16) << 20, quint32(i)));
    }
    const QString url = nginx.url(QStringLiteral("object.bin"));
    QList<Setting> settings;
    const Setting base{256 << 10, 16 << 20, 2 << 20, 4};
    settings << base;
    for (qint64 cap : {qint64(4) << 20, qint64(64) << 20})
        settings << Setting{base.chunk, cap, base.split, base.connections};
    for (qint64 split : {qint64(1) << 20, qint64(8) << 20})
        settings << Setting{base.chunk, base.cap, split, base.connections};
    for (int n : {1, 2, 6})
        settings << Setting{base.chunk, base.cap, base.split, n};
    for (qint64 chunk : {qint64(64) << 10, qint64(1) << 20})
        settings << Setting{chunk, base.cap, base.split, base.connections};

    std::printf("\nfull prefetch of %lld MiB from loopback nginx, median of %d (defaults: 256K chunks, cap 16M, split 2M, 4 connections)\n\n",
                sizeMib, runs);
    std::printf("%8s %8s %8s %12s %10s %10s %10s\n", "chunk", "cap", "split", "connections", "seconds", "MiB/s", "requests");
    for (const Setting &s : settings) {
        QList<double> times;
        qint64 requests = 0;
        for (int r = 0; r < runs; ++r) {
            QTemporaryDir cache;
            ::sync();
            times << fetchOnce(url, cache.path(), s, &requests);
        }
        std::sort(times.begin(), times.end());
        const double median = times[times.size() / 2];
        std::printf("%8s %8s %8s %12d %10.2f %10.0f %10lld\n", qPrintable(mib(s.chunk)), qPrintable(mib(s.cap)), qPrintable(mib(s.split)),
                    s.connections, median, median > 0 ? sizeMib / median : 0.0, requests);
        std::fflush(stdout);
    }
    return 0;
}
