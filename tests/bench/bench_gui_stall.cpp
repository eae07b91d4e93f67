// GUI-thread stalls while the desktop app works hard (the app issue's target: p99 ≤ 20 ms): four
// objects prefetch at full speed from a loopback nginx (SIZE MiB together), a cached object of
// EXPORT MiB is exported, and meanwhile the window is resized and another object selected every
// 150 ms; next to the same window idle for the same time. A 1 ms timer on the GUI thread records
// how late each tick fires. Never fails on a number.
//   QT_QPA_PLATFORM=offscreen build/tests/bench_gui_stall [SIZE_MIB=1024] [EXPORT_MIB=1024]
#include "iopool.h"
#include "mainwindow.h"
#include "nginxfixture.h"
#include "objectlibrary.h"
#include "throughputchart.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <ctime>

using namespace sparsescope;
using namespace sparsescope::test;

namespace {
struct Stalls {
    double maxMs = 0, p99Ms = 0;
    double maxOnCpuMs = 0; // of the longest gap, the time the GUI thread was running (the rest: waiting for a core)
    int ticks = 0;
};

double threadCpuMs()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

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
    double lastCpu = threadCpuMs(), worstCpu = 0;
    QObject::connect(&probe, &QTimer::timeout, [&] {
        const qint64 now = clock.nsecsElapsed();
        const double cpu = threadCpuMs();
        gaps.append(std::max(0.0, (now - last) / 1e6 - 1.0));
        if (gaps.size() == 1 || gaps.last() > *std::max_element(gaps.begin(), gaps.end() - 1))
            worstCpu = cpu - lastCpu; // how much of the longest gap the GUI thread ran
        last = now;
        lastCpu = cpu;
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
    s.maxOnCpuMs = worstCpu;
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
    const qint64 exportMiB = argc > 2 ? QByteArray(argv[2]).toLongLong() : 1024;
    constexpr int kObjects = 4;
    NginxFixture nginx;
    if (!nginx.start()) {
        std::fprintf(stderr, "%s\n", qPrintable(nginx.errorText()));
        return 1;
    }
    QTemporaryDir tmp;
    auto writeFile = [](const QString &path, qint64 mib, quint32 seed) {
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly))
            return false;
        for (qint64 i = 0; i < mib / 64; ++i)
            f.write(patternBytes(64 << 20, seed + quint32(i)));
        return true;
    };
    for (int i = 0; i < kObjects; ++i)
        writeFile(nginx.root() + QStringLiteral("/big%1.bin").arg(i), sizeMiB / kObjects, quint32(i * 1000));
    const QString local = tmp.filePath(QStringLiteral("local.bin"));
    writeFile(local, exportMiB, 77);

    AppSettings settings;
    settings.cacheDir = tmp.filePath(QStringLiteral("cache"));
    auto window = std::make_unique<MainWindow>(settings);
    MainWindow &w = *window;
    w.resize(1280, 800);
    w.show();
    if (!QTest::qWaitForWindowExposed(&w))
        return 1;
    auto opened = [&](int row) { return row >= 0 && row < w.library()->count() && w.library()->entry(row).object != nullptr; };
    auto rowOf = [&](const QString &source) { return w.library()->rowOf(source); };
    // The object to export, cached whole first (not measured).
    w.openSource(local);
    measure([&] { return opened(rowOf(local)); }, 10000);
    if (!opened(rowOf(local))) {
        std::fprintf(stderr, "could not open %s\n", qPrintable(local));
        return 1;
    }
    auto exported = w.library()->entry(rowOf(local)).object;
    w.selectRow(rowOf(local));
    w.prefetchAll();
    measure([&] { return exported->presentBytes() == exported->geometry().objectSize; }, 600000);

    QStringList urls;
    for (int i = 0; i < kObjects; ++i) {
        urls << nginx.url(QStringLiteral("big%1.bin").arg(i));
        w.openSource(urls.last());
    }
    measure([&]() -> bool { return std::all_of(urls.begin(), urls.end(), [&](const QString &u) { return opened(rowOf(u)); }); }, 20000);
    std::vector<std::shared_ptr<SparseObject>> objects;
    for (const QString &u : std::as_const(urls)) {
        if (!opened(rowOf(u))) {
            std::fprintf(stderr, "could not open %s\n", qPrintable(u));
            return 1;
        }
        objects.push_back(w.library()->entry(rowOf(u)).object);
    }

    // Everything at once: four prefetches, the export, and a user resizing the window and going
    // from object to object (the map lays out and renders everything each time).
    QElapsedTimer t;
    t.start();
    for (const QString &u : std::as_const(urls)) {
        w.selectRow(rowOf(u));
        w.prefetchAll();
    }
    const QString target = tmp.filePath(QStringLiteral("exported.bin"));
    w.selectRow(rowOf(local));
    w.exportCurrent(target, ExportMode::Full);
    int step = 0;
    QTimer user;
    user.setInterval(150);
    QObject::connect(&user, &QTimer::timeout, [&] {
        ++step;
        w.resize(step % 2 ? 1100 : 1280, step % 2 ? 700 : 800);
        w.selectRow(rowOf(urls[step % kObjects]));
    });
    user.start();
    auto allDone = [&] {
        const bool fetched = std::all_of(objects.begin(), objects.end(), [](const auto &o) { return o->presentBytes() == o->geometry().objectSize; });
        return fetched && QFileInfo(target).size() == exportMiB << 20;
    };
    const Stalls busy = measure(allDone, 900000);
    user.stop();
    const double seconds = t.elapsed() / 1000.0;
    const Stalls idle = measure([] { return false; }, int(seconds * 1000));
    if (!allDone()) {
        std::fprintf(stderr, "the prefetches or the export did not finish\n");
        return 1;
    }

    std::printf("\n%-58s %10s %10s %8s\n", "GUI thread (1 ms probe)", "max ms", "p99 ms", "ticks");
    std::printf("%-58s %10.2f %10.2f %8d\n", "idle window (baseline, same duration)", idle.maxMs, idle.p99Ms, idle.ticks);
    std::printf("%-58s %10.2f %10.2f %8d\n",
                qPrintable(QStringLiteral("%1 prefetches (%2 MiB) + %3 MiB export + resizes").arg(kObjects).arg(sizeMiB).arg(exportMiB)),
                busy.maxMs, busy.p99Ms, busy.ticks);
    std::printf("p99 stall vs target 20 ms: %.2fx (longest %.2fx, of which the GUI thread ran %.1f ms: the rest it waited for one of "
                "the %d cores); %d resizes and object switches; %.2f s (%.0f MiB/s fetched), chart peak %.0f MiB/s\n\n",
                busy.p99Ms / 20.0, busy.maxMs / 20.0, busy.maxOnCpuMs, QThread::idealThreadCount(), step, seconds,
                double(sizeMiB) / seconds, w.chart()->peakMiBps());

    // Quitting while four prefetches run: the window closed and destroyed (every object closed,
    // its transfers stopped and what arrived committed).
    for (const QString &u : std::as_const(urls)) {
        w.selectRow(rowOf(u));
        w.evictAll();
    }
    measure([&] { return std::all_of(objects.begin(), objects.end(), [](const auto &o) { return o->presentBytes() == 0; }); }, 30000);
    for (const QString &u : std::as_const(urls)) {
        w.selectRow(rowOf(u));
        w.prefetchAll();
    }
    measure([&] { return std::all_of(objects.begin(), objects.end(), [](const auto &o) { return o->presentBytes() > 0; }); }, 30000);
    objects.clear();
    exported.reset();
    QElapsedTimer quit;
    quit.start();
    w.close();
    window.reset();
    std::printf("quitting during four prefetches: %.0f ms (close and destroy the window)\n\n", quit.nsecsElapsed() / 1e6);
    return 0;
}
