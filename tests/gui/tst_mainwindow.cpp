// The desktop app end to end against a real nginx: open a URL, select a span on the map and
// prefetch it through the real action, evict it, export, restart with objects and coverage.
#include "activitypanel.h"
#include "awaitfuture.h"
#include "cacheusagebar.h"
#include "coveragemap.h"
#include "coveragerenderer.h"
#include "iopool.h"
#include "mainwindow.h"
#include "mountmanager.h"
#include "clirunner.h"
#include "faultserver.h"
#include "nginxfixture.h"
#include "objectlibrary.h"
#include "objecttablemodel.h"

#include <QAbstractItemModelTester>
#include <QAction>
#include <QApplication>
#include <QHeaderView>
#include <QSplitter>
#include <QScreen>
#include <QLabel>
#include <QSettings>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include <unistd.h>

using namespace sparsescope;
using namespace sparsescope::test;

namespace {
constexpr qint64 kSize = 6 * 1024 * 1024 + 100;
constexpr qint64 kChunk = 64 * 1024;

QAction *actionNamed(QWidget *window, const QString &text)
{
    for (QAction *a : window->findChildren<QAction *>())
        if (a->text() == text)
            return a;
    return nullptr;
}
} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT
    NginxFixture m_nginx;
    QTemporaryDir m_tmp;
    QByteArray m_bytes;
    QString m_url;

    AppSettings settings() const
    {
        AppSettings s;
        s.cacheDir = m_tmp.filePath(QStringLiteral("cache"));
        s.chunkSize = kChunk;
        s.connections = 2;
        return s;
    }
    static QString cell(MainWindow &w, int column)
    {
        const QModelIndex i = w.table()->model()->index(w.table()->currentIndex().row(), column);
        return w.table()->model()->data(i).toString();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true); // QSettings and data paths of their own
        QVERIFY2(m_nginx.start(), qPrintable(m_nginx.errorText()));
        m_bytes = patternBytes(kSize, 3);
        m_nginx.addFile(QStringLiteral("image.bin"), m_bytes);
        m_url = m_nginx.url(QStringLiteral("image.bin"));
    }

    void selectPrefetchEvictExportRestart()
    {
        const ByteRange span{10 * kChunk, 20 * kChunk};
        QList<ByteRange> coverageBefore;
        {
            MainWindow w(settings());
            QAbstractItemModelTester tester(w.table()->model(), QAbstractItemModelTester::FailureReportingMode::Fatal);
            w.show();
            QVERIFY(QTest::qWaitForWindowExposed(&w));
            w.openSource(m_url);
            QTRY_VERIFY_WITH_TIMEOUT(w.currentRow() >= 0 && w.library()->entry(w.currentRow()).object, 10000);
            QCOMPARE(cell(w, ObjectTableModel::Name), QStringLiteral("image.bin"));
            auto object = w.library()->entry(w.currentRow()).object;

            // Select on the map, then the real toolbar/menu action.
            m_nginx.clearAccessLog();
            w.coverageMap()->setSelection(span);
            QAction *prefetch = actionNamed(&w, QStringLiteral("&Prefetch Selection"));
            QVERIFY(prefetch);
            QTRY_VERIFY(prefetch->isEnabled());
            prefetch->trigger();
            QTRY_COMPARE_WITH_TIMEOUT(object->presentRanges().ranges().value(0), span, 10000);
            // The preview of the selection is fetched too (its first 4 KiB, inside the span).
            qint64 gets = 0, bytes = 0;
            for (const AccessLogEntry &e : m_nginx.accessLog())
                if (e.method == u"GET") {
                    ++gets;
                    bytes += e.bodyBytes;
                }
            QCOMPARE(bytes, span.length());
            // The table follows: present bytes and disk blocks (refreshed every second).
            QTRY_COMPARE_WITH_TIMEOUT(cell(w, ObjectTableModel::Present), QStringLiteral("640.0 KiB (10.4%)"), 5000);
            QTRY_VERIFY_WITH_TIMEOUT(w.library()->entry(w.currentRow()).allocatedBytes >= span.length(), 5000);
            // The map shows it (without the selection's overlay on top).
            w.coverageMap()->setSelection({});
            const CoverageRenderer &r = w.coverageMap()->renderer();
            QTRY_COMPARE_WITH_TIMEOUT(QColor(w.coverageMap()->grab().toImage().pixel(r.cellRect(15).center())).name(),
                                      CoverageColors{}.presentFull.name(), 5000);

            // Evict half of it: coverage and allocated bytes drop.
            w.coverageMap()->setSelection({10 * kChunk, 15 * kChunk});
            actionNamed(&w, QStringLiteral("E&vict Selection"))->trigger();
            QTRY_COMPARE_WITH_TIMEOUT(object->presentBytes(), 5 * kChunk, 5000);
            QTRY_VERIFY_WITH_TIMEOUT(w.library()->entry(w.currentRow()).allocatedBytes < span.length(), 5000);
            QTRY_COMPARE_WITH_TIMEOUT(cell(w, ObjectTableModel::Present), QStringLiteral("320.0 KiB (5.2%)"), 5000);

            // Export writes exactly the object.
            const QString out = m_tmp.filePath(QStringLiteral("export.bin"));
            w.exportCurrent(out, ExportMode::Full);
            QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(out).size() == kSize, 15000);
            QFile f(out);
            QVERIFY(f.open(QIODevice::ReadOnly));
            QVERIFY(f.readAll() == m_bytes);
            QTRY_VERIFY(w.library()->entry(w.currentRow()).operation.isEmpty());
            // Evict the first half again so that the restart has a pattern to show.
            w.library()->evict(w.currentRow(), {{0, kSize / 2}});
            QTRY_VERIFY_WITH_TIMEOUT(object->presentBytes() < kSize, 5000);
            QTest::qWait(400); // a pending preview read of the selection may still fetch its chunk
            QTRY_VERIFY(object->inFlightChunks() == 0);
            coverageBefore = object->presentRanges().ranges();
        }
        ioPool()->waitForDone();

        // Restart: the object is listed from the cache with its coverage, before any network use.
        m_nginx.clearAccessLog();
        MainWindow again(settings());
        again.show();
        QVERIFY(QTest::qWaitForWindowExposed(&again));
        QTRY_VERIFY_WITH_TIMEOUT(again.library()->count() == 1, 5000);
        const LibraryEntry &e = again.library()->entry(0);
        QCOMPARE(e.name, QStringLiteral("image.bin"));
        QVERIFY(e.presentBytes > 0 && e.presentBytes < kSize);
        QTRY_VERIFY_WITH_TIMEOUT(again.library()->entry(0).object, 10000); // selecting it opened it
        QCOMPARE(again.library()->entry(0).object->presentRanges().ranges(), coverageBefore);
        QVERIFY(coverageBefore.last() == (ByteRange{49 * kChunk, kSize})); // chunks 0..48 touch the first half
        QCOMPARE(m_nginx.countRequests(QStringLiteral("GET")), 0);
    }

    void theTableIsSortedAToZ()
    {
        AppSettings s = settings();
        s.cacheDir = m_tmp.filePath(QStringLiteral("sorted-cache"));
        MainWindow w(s);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        for (const QString &name : {QStringLiteral("zebra.bin"), QStringLiteral("apple.bin"), QStringLiteral("mango.bin")}) {
            QFile f(m_tmp.filePath(name));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(QByteArray(4096, 'x'));
            f.close();
            w.openSource(f.fileName());
        }
        QTRY_COMPARE_WITH_TIMEOUT(w.table()->model()->rowCount(), 3, 10000);
        QAbstractItemModel *m = w.table()->model();
        QCOMPARE(m->data(m->index(0, ObjectTableModel::Name)).toString(), QStringLiteral("apple.bin"));
        QCOMPARE(m->data(m->index(2, ObjectTableModel::Name)).toString(), QStringLiteral("zebra.bin"));
        QCOMPARE(w.table()->horizontalHeader()->sortIndicatorOrder(), Qt::AscendingOrder);
    }
    void layoutIsRememberedAndFitsTheScreen()
    {
        QSettings().remove(QStringLiteral("window")); // a first launch
        QList<int> sizes;
        {
            MainWindow w(settings());
            w.show();
            QVERIFY(QTest::qWaitForWindowExposed(&w));
            const QSize screen = QGuiApplication::primaryScreen()->availableGeometry().size();
            QVERIFY2(w.width() <= screen.width() && w.height() <= screen.height(), qPrintable(QStringLiteral("%1x%2 on %3x%4, minimum %5x%6").arg(w.width()).arg(w.height()).arg(screen.width()).arg(screen.height()).arg(w.minimumSizeHint().width()).arg(w.minimumSizeHint().height())));
            w.resize(760, 560);
            QTRY_COMPARE(w.size(), QSize(760, 560));
            auto *splitter = w.findChildren<QSplitter *>().value(0);
            QVERIFY(splitter);
            sizes = splitter->sizes();
            sizes[0] += 40;
            sizes[1] -= 40;
            splitter->setSizes(sizes);
            sizes = splitter->sizes();
            w.close(); // saves
        }
        MainWindow again(settings());
        again.show();
        QVERIFY(QTest::qWaitForWindowExposed(&again));
        QCOMPARE(again.size(), QSize(760, 560));
        QCOMPARE(again.findChildren<QSplitter *>().value(0)->sizes(), sizes);
    }
    void aPrefetchShowsSpeedRemainingBytesAndEta()
    {
        m_nginx.addFile(QStringLiteral("eta.bin"), patternBytes(24 << 20, 9));
        MainWindow w(settings());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.openSource(m_nginx.url(QStringLiteral("slow/eta.bin"))); // 4 MiB/s per connection
        QTRY_VERIFY_WITH_TIMEOUT(w.currentRow() >= 0 && w.library()->entry(w.currentRow()).object, 10000);
        const int row = w.currentRow();
        w.library()->prefetch(row, {{0, 24 << 20}});
        QTRY_VERIFY_WITH_TIMEOUT(w.library()->entry(row).etaSeconds > 0 && w.library()->entry(row).bytesPerSecond > (1 << 20), 10000);
        const LibraryEntry &e = w.library()->entry(row);
        QVERIFY(e.remainingBytes > 0 && e.remainingBytes < (24 << 20));
        QVERIFY2(cell(w, ObjectTableModel::Speed).endsWith(QStringLiteral("/s")), qPrintable(cell(w, ObjectTableModel::Speed)));
        QVERIFY2(cell(w, ObjectTableModel::Eta).contains(u':'), qPrintable(cell(w, ObjectTableModel::Eta)));
        QVERIFY2(w.windowTitle().contains(QStringLiteral("% eta.bin")), qPrintable(w.windowTitle()));
        if (qEnvironmentVariableIsSet("SPARSESCOPE_SAVE_GRABS")) { // for people to look at, light and dark
            w.grab().save(qEnvironmentVariable("SPARSESCOPE_SAVE_GRABS") + QStringLiteral("/eta.png"));
            QPalette dark;
            for (auto [role, rgb] : {std::pair{QPalette::Window, 0x2a2e32}, {QPalette::Base, 0x1b1e20}, {QPalette::AlternateBase, 0x232629},
                                     {QPalette::Button, 0x31363b}, {QPalette::Text, 0xfcfcfc}, {QPalette::WindowText, 0xfcfcfc},
                                     {QPalette::ButtonText, 0xfcfcfc}, {QPalette::Mid, 0x4d4d4d}, {QPalette::Highlight, 0x3daee9}})
                dark.setColor(role, QColor::fromRgb(QRgb(rgb)));
            w.setPalette(dark);
            QTest::qWait(300);
            w.grab().save(qEnvironmentVariable("SPARSESCOPE_SAVE_GRABS") + QStringLiteral("/eta-dark.png"));
        }
        w.library()->cancel(row);
        QTRY_COMPARE_WITH_TIMEOUT(w.windowTitle(), QStringLiteral("SparseScope"), 5000);
    }
    void pauseAndResumeAnObject()
    {
        m_nginx.addFile(QStringLiteral("pause.bin"), patternBytes(16 << 20, 10));
        MainWindow w(settings());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.openSource(m_nginx.url(QStringLiteral("slow/pause.bin")));
        QTRY_VERIFY_WITH_TIMEOUT(w.currentRow() >= 0 && w.library()->entry(w.currentRow()).object, 10000);
        const int row = w.currentRow();
        auto object = w.library()->entry(row).object;
        w.library()->prefetch(row, {{0, 16 << 20}});
        QTRY_VERIFY_WITH_TIMEOUT(object->presentBytes() > 0, 10000);
        QAction *pause = actionNamed(&w, QStringLiteral("P&ause Transfers"));
        QVERIFY(pause && pause->isEnabled());
        pause->trigger();
        QVERIFY(object->isPaused());
        QTRY_VERIFY_WITH_TIMEOUT(cell(w, ObjectTableModel::State).contains(QStringLiteral("paused")), 5000);
        QCOMPARE(pause->text(), QStringLiteral("Res&ume Transfers"));
        QTRY_COMPARE_WITH_TIMEOUT(object->transferringChunkMap().count(), qint64(0), 5000); // queued again, none running
        const CoverageColors colours;
        const CoverageRenderer &r = w.coverageMap()->renderer();
        const qint64 lastCell = r.cellsOfChunks(object->geometry().chunkCount() - 1, object->geometry().chunkCount() - 1).first;
        QTRY_COMPARE_WITH_TIMEOUT(QColor(w.coverageMap()->grab().toImage().pixel(r.cellRect(lastCell).center())), colours.queued, 2000);
        QStringList legend; // however narrow the map, its legend says what the cells it shows mean
        for (const auto &entry : w.coverageMap()->legendEntries(w.coverageMap()->width()))
            legend << entry.label;
        QVERIFY2(legend.contains(QStringLiteral("Queued")) && legend.contains(QStringLiteral("Missing")), qPrintable(legend.join(u", ")));
        if (qEnvironmentVariableIsSet("SPARSESCOPE_SAVE_GRABS"))
            w.grab().save(qEnvironmentVariable("SPARSESCOPE_SAVE_GRABS") + QStringLiteral("/paused.png"));
        const qint64 present = object->presentBytes();
        QTest::qWait(1000);
        QVERIFY(object->presentBytes() <= present + (1 << 20)); // a chunk may still land as it stops
        pause->trigger(); // resume
        QVERIFY(!object->isPaused());
        QTRY_COMPARE_WITH_TIMEOUT(object->presentBytes(), qint64(16 << 20), 20000);
    }
    void aFailedPrefetchIsRetried()
    {
        const QByteArray body = patternBytes(2 << 20, 12);
        FaultServer server(body);
        QVERIFY(server.start());
        server.setRule({Fault::ServiceUnavailable, 0, -1}); // every GET: 503 until it comes back
        MainWindow w(settings());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.openSource(server.url());
        QTRY_VERIFY_WITH_TIMEOUT(w.currentRow() >= 0 && w.library()->entry(w.currentRow()).object, 10000);
        const int row = w.currentRow();
        w.library()->prefetch(row, {{0, 2 << 20}});
        // It fails (after the engine's own retries), and schedules itself again with a countdown.
        QTRY_VERIFY_WITH_TIMEOUT(w.library()->retryInSeconds(row) > 0, 20000);
        QVERIFY2(cell(w, ObjectTableModel::State).startsWith(QStringLiteral("error, retrying in")), qPrintable(cell(w, ObjectTableModel::State)));
        if (qEnvironmentVariableIsSet("SPARSESCOPE_SAVE_GRABS")) { // for people to look at
            QTest::qWait(1500);
            w.grab().save(qEnvironmentVariable("SPARSESCOPE_SAVE_GRABS") + QStringLiteral("/outage.png"));
        }
        // The server is back: the countdown runs out and the prefetch completes by itself.
        server.setRule({});
        QTRY_COMPARE_WITH_TIMEOUT(w.library()->entry(row).object->presentBytes(), qint64(2 << 20), ObjectLibrary::kFirstRetryMs + 10000);
        QTRY_VERIFY(!w.library()->canRetry(row));
        QVERIFY(*awaitFuture(w.library()->read(row, {0, 2 << 20})) == body);

        // Again, with the Retry action instead of the countdown.
        QVERIFY(awaitFuture(w.library()->evict(row, {{0, 2 << 20}})).ok());
        server.setRule({Fault::ServiceUnavailable, 0, -1});
        w.library()->prefetch(row, {{0, 2 << 20}});
        QTRY_VERIFY_WITH_TIMEOUT(w.library()->retryInSeconds(row) > 0, 20000);
        QAction *retry = actionNamed(&w, QStringLiteral("&Retry"));
        QVERIFY(retry);
        QTRY_VERIFY(retry->isEnabled());
        server.setRule({});
        retry->trigger();
        QTRY_COMPARE_WITH_TIMEOUT(w.library()->entry(row).object->presentBytes(), qint64(2 << 20), 20000);
        QTRY_COMPARE(w.library()->retryInSeconds(row), qint64(-1));
    }
    void aLongOperationEndingInTheBackgroundIsAnnounced()
    {
        MainWindow w(settings());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        QSignalSpy notified(&w, &MainWindow::notified);
        QWidget other; // another window has the focus
        other.show();
        QVERIFY(QTest::qWaitForWindowExposed(&other));
        other.activateWindow();
        QTRY_VERIFY(!w.isActiveWindow());
        Q_EMIT w.library()->operationEnded(QStringLiteral("big.iso"), QStringLiteral("exported to /tmp/big.iso"), true, 42000);
        QCOMPARE(notified.count(), 1);
        QCOMPARE(notified.first().first().toString(), QStringLiteral("big.iso: done: exported to /tmp/big.iso"));
        Q_EMIT w.library()->operationEnded(QStringLiteral("small"), QStringLiteral("prefetched 1 MiB"), true, 300); // short: no
        QCOMPARE(notified.count(), 1);
        Q_EMIT w.library()->operationEnded(QStringLiteral("big.iso"), QStringLiteral("HTTP 503"), false, 60000);
        QCOMPARE(notified.count(), 2);
        QVERIFY(notified.last().first().toString().startsWith(QStringLiteral("big.iso: failed")));
        // In front: nothing to announce.
        other.hide();
        w.activateWindow();
        QTRY_VERIFY(w.isActiveWindow());
        Q_EMIT w.library()->operationEnded(QStringLiteral("big.iso"), QStringLiteral("verified"), true, 42000);
        QCOMPARE(notified.count(), 2);
    }
    void aMountedObjectsReadsShowOnTheMap()
    {
        if (::access("/dev/fuse", R_OK | W_OK) != 0)
            QSKIP("no usable /dev/fuse here");
        const QByteArray bytes = patternBytes(6 << 20, 23);
        m_nginx.addFile(QStringLiteral("mounted.bin"), bytes);
        // The app runs sparsescope-cli beside it, else from PATH (the test binary is elsewhere).
        qputenv("PATH", (QFileInfo(cliPath()).path() + u':' + qEnvironmentVariable("PATH")).toLocal8Bit());
        MainWindow w(settings());
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.openSource(m_nginx.url(QStringLiteral("mounted.bin")));
        QTRY_VERIFY_WITH_TIMEOUT(w.currentRow() >= 0 && w.library()->entry(w.currentRow()).object, 10000);
        auto object = w.library()->entry(w.currentRow()).object;
        QTemporaryDir point;
        w.mountCurrent(point.path());
        QTRY_VERIFY_WITH_TIMEOUT(w.mountManager()->mounts().size() == 1 && w.mountManager()->mounts().front().ready, 15000);
        auto unmount = qScopeGuard([&] { QProcess::execute(QStringLiteral("fusermount3"), {QStringLiteral("-u"), point.path()}); });
        // Another program reads the file: the mount process fetches, the window shows it.
        QFile f(point.filePath(QStringLiteral("mounted.bin")));
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY(f.readAll() == bytes);
        f.close();
        QTRY_COMPARE_WITH_TIMEOUT(w.coverageMap()->presentChunkCount(), object->geometry().chunkCount(), 5000);
        // The table's Present column follows the map at once, not at its next once-a-second refresh.
        QTRY_COMPARE_WITH_TIMEOUT(w.library()->entry(w.currentRow()).presentBytes, qint64(bytes.size()), 600);
        // And the status bar's cache size within a second or so, not at its next 2 s poll.
        QTRY_VERIFY_WITH_TIMEOUT(w.usageBar()->usage().usedBytes >= bytes.size(), 1500);
        QTRY_VERIFY(!w.activityPanel()->findItems(QStringLiteral("mounted on"), Qt::MatchContains, 2).isEmpty());
        if (qEnvironmentVariableIsSet("SPARSESCOPE_SAVE_GRABS")) // for people to look at
            w.grab().save(qEnvironmentVariable("SPARSESCOPE_SAVE_GRABS") + QStringLiteral("/mounted.png"));
        w.mountManager()->unmount(point.path());
        QTRY_VERIFY_WITH_TIMEOUT(w.mountManager()->mounts().empty(), 10000);
        QVERIFY(!QFileInfo::exists(point.filePath(QStringLiteral("mounted.bin"))));
        QTRY_VERIFY(!w.activityPanel()->findItems(QStringLiteral("unmounted from"), Qt::MatchContains, 2).isEmpty());
    }
    void badUrlIsReportedInTheActivityPanel()
    {
        MainWindow w(settings());
        w.openSource(m_nginx.url(QStringLiteral("missing.bin")));
        const int row = w.library()->rowOf(m_nginx.url(QStringLiteral("missing.bin")));
        QVERIFY(row >= 0);
        QTRY_COMPARE_WITH_TIMEOUT(int(w.library()->entry(row).state), int(EntryState::Error), 10000);
        QVERIFY(w.library()->entry(row).lastError.contains(QStringLiteral("404")));
    }
};

// The app as a live view of a cache that CLI processes use at the same time.
class TestLiveView : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void showsWhatACliDoesWithinASecond()
    {
        QStandardPaths::setTestModeEnabled(true);
        NginxFixture nginx;
        QVERIFY2(nginx.start(), qPrintable(nginx.errorText()));
        nginx.addFile(QStringLiteral("live.bin"), patternBytes(48 << 20, 9));
        const QString url = nginx.url(QStringLiteral("slow/live.bin")); // 4 MiB/s per connection: seconds
        QTemporaryDir tmp;
        AppSettings s;
        s.cacheDir = tmp.filePath(QStringLiteral("cache"));
        MainWindow w(s);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        // Rows come and go under the table's feet here: Qt's model contract must hold throughout.
        QAbstractItemModelTester tester(w.table()->model(), QAbstractItemModelTester::FailureReportingMode::Fatal);
        QProcess cli;
        cli.start(cliPath(), {QStringLiteral("--cache-dir"), s.cacheDir, QStringLiteral("--chunk-size"), QStringLiteral("256K"),
                              QStringLiteral("prefetch"), url});
        QVERIFY(cli.waitForStarted());
        // The object the CLI created appears in the table, and its coverage on the map, growing.
        QTRY_VERIFY_WITH_TIMEOUT(w.library()->count() == 1, 3000);
        w.selectRow(0);
        QTRY_VERIFY_WITH_TIMEOUT(w.coverageMap()->presentChunkCount() > 0, 3000);
        // While the CLI fetches (about 64 chunks a second), the map shows new chunks within 1 s, every time.
        for (int i = 0; i < 3; ++i) {
            const qint64 before = w.coverageMap()->presentChunkCount();
            QTRY_VERIFY_WITH_TIMEOUT(w.coverageMap()->presentChunkCount() > before, 1000);
        }
        QVERIFY2(cli.state() == QProcess::Running, "the CLI finished before the map could follow it");
        // Opened in the app meanwhile, it keeps following the CLI's fetches (the journal).
        w.openSource(url);
        QTRY_VERIFY_WITH_TIMEOUT(w.library()->entry(0).object, 5000);
        auto object = w.library()->entry(0).object;
        const qint64 opened = object->presentBytes();
        QTRY_VERIFY_WITH_TIMEOUT(w.coverageMap()->presentChunkCount() * (256 << 10) > opened, 1000);
        QVERIFY(cli.waitForFinished(60000));
        QCOMPARE(cli.exitCode(), 0);
        QTRY_COMPARE_WITH_TIMEOUT(object->presentBytes(), qint64(48 << 20), 2000);
        QCOMPARE(object->statistics().upstreamBytes.load(), 0); // the app fetched none of it
        // Another object, cached and then removed by the CLI, comes and goes in the table.
        nginx.addFile(QStringLiteral("other.bin"), patternBytes(1 << 20, 10));
        const QString other = nginx.url(QStringLiteral("other.bin"));
        QCOMPARE(runCli(s.cacheDir, {QStringLiteral("prefetch"), other}).exitCode, 0);
        QTRY_COMPARE_WITH_TIMEOUT(w.library()->count(), 2, 3000);
        QCOMPARE(runCli(s.cacheDir, {QStringLiteral("remove"), other}).exitCode, 0);
        QTRY_COMPARE_WITH_TIMEOUT(w.library()->count(), 1, 3000);
        QCOMPARE(w.library()->entry(0).object, object);
    }

    void packCacheDrawsPackedChunksAndShrinksTheOnDiskColumn()
    {
        QStandardPaths::setTestModeEnabled(true);
        QTemporaryDir tmp;
        AppSettings s;
        s.cacheDir = tmp.filePath(QStringLiteral("cache"));
        s.chunkSize = kChunk;
        // Text: packs compress it, so the on-disk column must fall well below the present bytes.
        QByteArray text;
        for (int i = 0; text.size() < (4 << 20); ++i)
            text += QStringLiteral("line %1: GET /api/items?id=%2 status=200\n").arg(i).arg(i % 977).toLatin1();
        const QString path = tmp.filePath(QStringLiteral("log.txt"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(text);
        f.close();
        MainWindow w(s);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.openSource(path);
        QTRY_VERIFY_WITH_TIMEOUT(w.currentRow() >= 0 && w.library()->entry(w.currentRow()).object, 10000);
        auto object = w.library()->entry(w.currentRow()).object;
        w.prefetchAll();
        QTRY_COMPARE_WITH_TIMEOUT(object->presentBytes(), qint64(text.size()), 10000);
        QSignalSpy finished(&w, &MainWindow::cacheJobFinished);
        QAction *pack = actionNamed(&w, QStringLiteral("&Pack Cache"));
        QVERIFY(pack);
        pack->trigger();
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 20000);
        QVERIFY2(finished.first().at(1).toBool(), qPrintable(finished.first().at(0).toString()));
        QVERIFY2(finished.first().at(0).toString().startsWith(QStringLiteral("packed ")), qPrintable(finished.first().at(0).toString()));
        // The open object learns of it from the journal: its chunks are packed, and drawn so.
        QTRY_COMPARE_WITH_TIMEOUT(object->packedChunks().count(), object->presentChunks().count(), 5000);
        const CoverageRenderer &r = w.coverageMap()->renderer();
        QTRY_COMPARE_WITH_TIMEOUT(QColor(w.coverageMap()->grab().toImage().pixel(r.cellRect(3).center())).name(),
                                  CoverageColors{}.packedFull.name(), 5000);
        // On disk: its share of the packs (compressed), not the present bytes.
        QTRY_VERIFY_WITH_TIMEOUT(w.library()->entry(w.currentRow()).packedDiskBytes > 0, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(w.library()->entry(w.currentRow()).allocatedBytes + w.library()->entry(w.currentRow()).packedDiskBytes <
                                     text.size() / 3, 5000);
        // Reads still serve the same bytes.
        auto read = object->read({1000, 2000}, Priority::Interactive);
        QTRY_VERIFY_WITH_TIMEOUT(read.isFinished(), 5000);
        QVERIFY(read.result());
        QCOMPARE(*read.result(), text.mid(1000, 1000));
        if (const QString dir = qEnvironmentVariable("SPARSESCOPE_SAVE_GRABS"); !dir.isEmpty())
            w.grab().save(dir + QStringLiteral("/packed.png"));
    }
};

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    TestMainWindow mainWindow;
    TestLiveView liveView;
    return QTest::qExec(&mainWindow, argc, argv) | QTest::qExec(&liveView, argc, argv);
}
#include "tst_mainwindow.moc"
