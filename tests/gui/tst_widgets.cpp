// The app's small parts: a cache directory given for one run (--cache-dir) never becomes the
// default of later launches, one chosen in Preferences does; the Open URL dialog takes host/path
// as a browser does; the preview shows text as text; the activity panel groups a burst of errors;
// the S3 browser lists prefixes and objects with what the cache holds, steps in and opens.
#include "activitypanel.h"
#include "appsettings.h"
#include "awaitfuture.h"
#include "bucketbrowser.h"
#include "cache.h"
#include "coveragemap.h"
#include "nginxfixture.h"
#include "s3serverfixture.h"
#include "previewpane.h"
#include "settingsdialog.h"
#include "throughputchart.h"

#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSettings>
#include <QTemporaryDir>
#include <QSpinBox>
#include <QTreeWidget>
#include <QtTest>

using namespace sparsescope;
using namespace sparsescope::test;

class TestWidgets : public QObject {
    Q_OBJECT
    QTemporaryDir m_home;
private Q_SLOTS:
    void initTestCase()
    {
        QSettings::setDefaultFormat(QSettings::IniFormat);
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_home.path());
        QCoreApplication::setOrganizationName(QStringLiteral("sparsescope-test"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_appsettings"));
    }
    void aCacheDirectoryForOneRunIsNotSaved()
    {
        AppSettings a = AppSettings::load();
        a.cacheDir = QStringLiteral("/srv/default-cache");
        a.save();
        AppSettings run = AppSettings::load();
        run.cacheDir = QStringLiteral("/tmp/one-run");
        run.cacheDirForThisRun = true;
        run.addRecent(QStringLiteral("https://example.org/a.zip"));
        run.save();
        const AppSettings later = AppSettings::load();
        QCOMPARE(later.cacheDir, QStringLiteral("/srv/default-cache"));
        QCOMPARE(later.recent.value(0), QStringLiteral("https://example.org/a.zip")); // the rest is saved

        // Chosen in Preferences: saved.
        SettingsDialog dialog(run, CacheSettings{});
        for (QLineEdit *e : dialog.findChildren<QLineEdit *>())
            if (e->text() == run.cacheDir)
                e->setText(QStringLiteral("/srv/chosen"));
        for (QSpinBox *box : dialog.findChildren<QSpinBox *>())
            if (box->specialValueText() == u"always ask the server")
                box->setValue(600);
        AppSettings chosen = dialog.settings();
        QVERIFY(!chosen.cacheDirForThisRun);
        QCOMPARE(chosen.maxAgeSeconds, 600);
        chosen.save();
        QCOMPARE(AppSettings::load().cacheDir, QStringLiteral("/srv/chosen"));
        QCOMPARE(AppSettings::load().engineConfig().maxAgeSeconds, 600); // what objects are opened with
    }
    void urlsWithoutASchemeAreTakenAsABrowserWould()
    {
        QCOMPARE(OpenUrlDialog::withScheme(QStringLiteral(" example.org/a.zip ")), QStringLiteral("https://example.org/a.zip"));
        QCOMPARE(OpenUrlDialog::withScheme(QStringLiteral("localhost:8080/data/x.tar")), QStringLiteral("http://localhost:8080/data/x.tar"));
        QCOMPARE(OpenUrlDialog::withScheme(QStringLiteral("127.0.0.1:9000/x")), QStringLiteral("http://127.0.0.1:9000/x"));
        QCOMPARE(OpenUrlDialog::withScheme(QStringLiteral("http://example.org/a")), QStringLiteral("http://example.org/a"));
        QCOMPARE(OpenUrlDialog::withScheme(QStringLiteral("/home/me/a.zip")), QStringLiteral("/home/me/a.zip"));
        QCOMPARE(OpenUrlDialog::withScheme(QStringLiteral("notes/a.zip")), QStringLiteral("notes/a.zip")); // no host: not a URL
        QString why;
        QVERIFY(OpenUrlDialog::isAcceptable(QStringLiteral("example.org/a.zip"), &why));
        QVERIFY2(why.contains(QStringLiteral("https://example.org/a.zip")), qPrintable(why));
        QVERIFY(!OpenUrlDialog::isAcceptable(QStringLiteral("notes/a.zip"), &why));
        QVERIFY(!OpenUrlDialog::isAcceptable(QStringLiteral("example.org"), &why)); // no object named
        QVERIFY(OpenUrlDialog::isAcceptable(QStringLiteral("s3://bucket/dir/a b é.zip"), &why));
        QCOMPARE(OpenUrlDialog::withScheme(QStringLiteral("s3://bucket/a b")), QStringLiteral("s3://bucket/a b"));
        QVERIFY(!OpenUrlDialog::isAcceptable(QStringLiteral("s3://bucket"), &why));
        QVERIFY(!OpenUrlDialog::isAcceptable(QStringLiteral("s3://bucket/dir/"), &why));
    }
    void thePreviewShowsTextAsText()
    {
        QVERIFY(PreviewPane::isText("plain\ttext\r\nwith lines"));
        QVERIFY(PreviewPane::isText("caf\xc3\xa9 na\xc3\xafve"));
        QVERIFY(PreviewPane::isText("cut in the middle: \xc3")); // a character cut by the range's end
        QVERIFY(!PreviewPane::isText(QByteArray("bin\0ary", 7)));
        QVERIFY(!PreviewPane::isText("\xff\xfe not utf-8 at all, long enough"));
        PreviewPane pane;
        pane.setBytes(100, "hello\nworld\n");
        QCOMPARE(pane.text()->toPlainText(), QStringLiteral("hello\nworld\n"));
        pane.setBytes(0, QByteArray("\x7f" "ELF\x02\x01\x01\0", 8));
        QVERIFY(pane.text()->toPlainText().contains(QStringLiteral("not UTF-8 text")));
    }
    void activityGroupsABurstOfErrors()
    {
        ActivityPanel panel;
        panel.addEvent(QStringLiteral("a.bin"), QStringLiteral("opened"), false);
        for (int i = 0; i < 105; ++i)
            panel.addEvent(QStringLiteral("a.bin"), QStringLiteral("bytes %1: connection refused").arg(i), true);
        panel.addEvent(QStringLiteral("b.bin"), QStringLiteral("bytes 0: connection refused"), true);
        QCOMPARE(panel.topLevelItemCount(), 3); // opened, the group, b.bin's error
        QTreeWidgetItem *group = panel.topLevelItem(1);
        QCOMPARE(group->text(1), QStringLiteral("a.bin"));
        QCOMPARE(group->text(2), QStringLiteral("bytes 0: connection refused (and 104 more)"));
        QCOMPARE(group->childCount(), 104);
        QCOMPARE(panel.topLevelItem(0)->text(1), QStringLiteral("b.bin"));
        // An event that is not an error is its own line.
        panel.addEvent(QStringLiteral("b.bin"), QStringLiteral("retrying"), false);
        QCOMPARE(panel.topLevelItemCount(), 4);
    }

    void aDarkPaletteIsRespected()
    {
        // A dark palette (as Breeze Dark or a Fusion dark scheme sets): the chart, the map and the
        // activity panel draw on dark backgrounds with colours that stay readable.
        QPalette dark;
        dark.setColor(QPalette::Window, QColor(0x2a, 0x2e, 0x32));
        dark.setColor(QPalette::Base, QColor(0x1b, 0x1e, 0x20));
        dark.setColor(QPalette::Text, QColor(0xfc, 0xfc, 0xfc));
        dark.setColor(QPalette::WindowText, QColor(0xfc, 0xfc, 0xfc));
        dark.setColor(QPalette::Mid, QColor(0x4d, 0x4d, 0x4d));
        auto lightness = [](const QImage &image, QPoint at) { return QColor(image.pixel(at)).lightness(); };

        ThroughputChart chart;
        chart.resize(400, 200);
        chart.setPalette(dark);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        chart.addSample(5.0 * (1 << 20), 0.5);
        const QImage chartShot = chart.grab().toImage();
        const qreal dpr = chartShot.devicePixelRatio();
        QVERIFY2(lightness(chartShot, QPoint(int(200 * dpr), int(100 * dpr))) < 100, "the chart's plot area stays light in a dark palette");
        QVERIFY(lightness(chartShot, QPoint(int(2 * dpr), int(2 * dpr))) < 100);

        CoverageMap map;
        map.resize(300, 200);
        const ChunkGeometry g{64 * 65536, 65536};
        ChunkBitmap present(64);
        present.setSpan(0, 7);
        map.setSnapshot(g, present);
        map.setPalette(dark);
        map.show();
        QVERIFY(QTest::qWaitForWindowExposed(&map));
        QTRY_VERIFY(lightness(map.grab().toImage(), map.renderer().cellRect(40).center()) < 100); // a missing cell
        const QImage mapShot = map.grab().toImage();
        QVERIFY(lightness(mapShot, map.renderer().cellRect(2).center()) > lightness(mapShot, map.renderer().cellRect(40).center()));

        ActivityPanel panel;
        panel.setPalette(dark);
        panel.addEvent(QStringLiteral("x.bin"), QStringLiteral("the server answered 503"), true);
        QVERIFY(panel.topLevelItem(0));
        QVERIFY2(panel.topLevelItem(0)->foreground(2).color().lightness() > 128, "an error line must be readable on a dark base");
        QVERIFY(panel.topLevelItem(0)->foreground(2).color().red() > panel.topLevelItem(0)->foreground(2).color().blue());
    }
    void bucketBrowserStepsInShowsCachedAndOpens()
    {
        S3ServerFixture s3;
        QVERIFY2(s3.start(), qPrintable(s3.errorText()));
        s3.exportEnvironment();
        s3.put(QStringLiteral("bkt"), QStringLiteral("top.bin"), patternBytes(1 << 20, 3));
        s3.put(QStringLiteral("bkt"), QStringLiteral("dir/inner.bin"), patternBytes(10, 4));
        const QString cache = m_home.filePath(QStringLiteral("browser-cache"));
        { // half of top.bin is in the cache
            EngineConfig c;
            c.cacheDir = cache;
            auto o = awaitFuture(Cache(cache).open(QStringLiteral("s3://bkt/top.bin"), c));
            QVERIFY(o.ok());
            QVERIFY(awaitFuture((*o)->prefetch({{0, 512 << 10}})).ok());
            QVERIFY(awaitFuture((*o)->flush()).ok());
        }
        BucketBrowser browser(cache, QStringLiteral("s3://bkt"));
        browser.show();
        QTRY_COMPARE(browser.rowCount(), 2);
        auto *tree = browser.findChild<QTreeWidget *>();
        QVERIFY(tree);
        QCOMPARE(tree->topLevelItem(0)->text(0), QStringLiteral("dir/")); // prefixes first
        QCOMPARE(tree->topLevelItem(1)->text(0), QStringLiteral("top.bin"));
        QCOMPARE(tree->topLevelItem(1)->text(1), QStringLiteral("1.0 MiB"));
        QVERIFY2(tree->topLevelItem(1)->text(3).contains(QStringLiteral("50 %")), qPrintable(tree->topLevelItem(1)->text(3)));
        if (qEnvironmentVariableIsSet("SPARSESCOPE_SAVE_GRABS"))
            browser.grab().save(qEnvironmentVariable("SPARSESCOPE_SAVE_GRABS") + QStringLiteral("/bucket-browser.png"));
        Q_EMIT tree->itemActivated(tree->topLevelItem(0), 0); // into dir/
        QTRY_COMPARE(browser.location(), QStringLiteral("s3://bkt/dir/"));
        QTRY_COMPARE(browser.rowCount(), 1);
        QCOMPARE(tree->topLevelItem(0)->text(0), QStringLiteral("inner.bin"));
        QCOMPARE(tree->topLevelItem(0)->text(3), QString()); // not cached
        QSignalSpy opened(&browser, &BucketBrowser::openRequested);
        Q_EMIT tree->itemActivated(tree->topLevelItem(0), 0);
        QCOMPARE(opened.size(), 1);
        QCOMPARE(opened.first().first().toString(), QStringLiteral("s3://bkt/dir/inner.bin"));
    }
};

QTEST_MAIN(TestWidgets)
#include "tst_widgets.moc"
