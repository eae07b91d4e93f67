// The longest GUI-thread stall while the desktop app prefetches a 1 GiB object at full speed from
// a loopback nginx (target of issue 3: ≤ 20 ms), next to the same window idle for the same time.
// A 1 ms timer on the GUI thread records how late each tick fires. Never fails on a number.
//   QT_QPA_PLATFORM=offscreen build/tests/bench_gui_stall [SIZE_MIB=1024]
#include "iopool.h"
#include "mainwindow.h"
#include "nginxfixture.h"
#include "objectlibrary.h"
#include "throughputchart.h"

#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace sparsescope;
using namespace sparsescope::test;

namespace {
struct Stalls {
    double maxMs = 0, p99Ms = 0;
    int ticks = 0;
};

// Runs the event loop until `done` or `timeoutMs`, measuring how late a 1 ms timer fires.
Stalls measure(const std::function<bool()> &done, int timeoutMs)
{
    QList<double> gaps;
    QElapsedTimer clock;
    clock.start();
    qint64 last = clock.nsecsElapsed();
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(1);
    QObject::connect(&probe, &QTimer::timeout, [&] {
        const qint64 now = clock.nsecsElapsed();
        gaps.append(std::max(0.0, (now - last) / 1e6 - 1.0));
        last = now;
    });
    probe.start();
    QEventLoop loop;
    QTimer poll;
    poll.setInterval(10);
    QObject::connect(&poll, &QTimer::timeout, [&] {
        if (done() || clock.elapsed() > timeoutMs)
            loop.quit();
    });
    poll.start();
    loop.exec();
    Stalls s;
    std::sort(gaps.begin(), gaps.end());
    s.ticks = int(gaps.size());
    if (!gaps.isEmpty()) {
        s.maxMs = gaps.last();
        s.p99Ms = gaps[qsizetype(gaps.size() * 0.99)];
    }
    return s;
}
} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QStandardPaths::setTestModeEnabled(true);
    const qint64 sizeMiB = argc > 1 ? QByteArray(argv[1]).toLongLong() : 1024;
    NginxFixture nginx;
    if (!nginx.start()) {
        std::fprintf(stderr, "%s\n", qPrintable(nginx.errorText()));
        return 1;
    }
    {
        QFile f(nginx.root() + QStringLiteral("/big.bin"));
        f.open(QIODevice::WriteOnly);
        for (qint64 i = 0; i < sizeMiB / 64; ++i)
            f.write(patternBytes(64 << 20, quint32(i)));
    }
    QTemporaryDir tmp;
    AppSettings settings;
    settings.cacheDir = tmp.filePath(QStringLiteral("cache"));
    MainWindow w(settings);
    w.show();
    if (!QTest::qWaitForWindowExposed(&w))
        return 1;
    w.openSource(nginx.url(QStringLiteral("big.bin")));
    measure([&] { return w.currentRow() >= 0 && w.library()->entry(w.currentRow()).object != nullptr; }, 10000);
    if (w.currentRow() < 0 || !w.library()->entry(w.currentRow()).object) {
        std::fprintf(stderr, "could not open the object\n");
        return 1;
    }
    auto object = w.library()->entry(w.currentRow()).object;

    QElapsedTimer t;
    t.start();
    w.prefetchAll();
    const Stalls busy = measure([&] { return object->presentBytes() == object->geometry().objectSize; }, 600000);
    const double seconds = t.elapsed() / 1000.0;
    const Stalls idle = measure([] { return false; }, int(seconds * 1000));

    std::printf("\n%-48s %10s %10s %8s\n", "GUI thread during a full-speed prefetch", "max ms", "p99 ms", "ticks");
    std::printf("%-48s %10.2f %10.2f %8d\n", "idle window (baseline, same duration)", idle.maxMs, idle.p99Ms, idle.ticks);
    std::printf("%-48s %10.2f %10.2f %8d\n", qPrintable(QStringLiteral("prefetch of %1 MiB").arg(sizeMiB)), busy.maxMs, busy.p99Ms, busy.ticks);
    std::printf("longest stall vs target 20 ms: %.2fx; vs idle: %.1fx; prefetch took %.2f s (%.0f MiB/s), chart peak %.0f MiB/s\n\n",
                busy.maxMs / 20.0, idle.maxMs > 0 ? busy.maxMs / idle.maxMs : 0.0, seconds, double(sizeMiB) / seconds,
                w.chart()->peakMiBps());
    return 0;
}
