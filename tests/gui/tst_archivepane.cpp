// The archive pane in the window: the demo archive lists, selecting an entry highlights its span
// on the map and previews its content, and Extract writes the entry's exact bytes; the tree is
// sorted with folders first; a folder (one the archive only implies) extracts its subtree with
// progress; a large unindexed tar waits to be asked; switching objects during listings never
// freezes the window.
#include "archivepane.h"
#include "coveragemap.h"
#include "demoarchive.h"
#include "hexpreview.h"
#include "iopool.h"
#include "mainwindow.h"
#include "objectlibrary.h"

#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

using namespace sparsescope;

class TestArchivePane : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void listSelectPreviewExtract()
    {
        QStandardPaths::setTestModeEnabled(true);
        QTemporaryDir tmp;
        const QString tar = tmp.filePath(QStringLiteral("demo.tar"));
        QVERIFY(demo::ensureArchive(tar).ok());
        QFile f(tar);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray archive = f.readAll();
        const QList<demo::Entry> expected = demo::entries();

        AppSettings settings;
        settings.cacheDir = tmp.filePath(QStringLiteral("cache"));
        MainWindow w(settings);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        w.openSource(tar);
        ArchivePane *pane = w.archivePane();
        QTRY_COMPARE_WITH_TIMEOUT(pane->entries().size(), expected.size(), 10000);
        const ArchiveEntry e = pane->entries().at(9);
        QCOMPARE(e.path, expected[9].name);
        QCOMPARE(e.size, expected[9].size);
        QCOMPARE(e.span->begin, expected[9].headerOffset);
        // Listing a tar reads headers, not bodies: far from all of it is present.
        auto object = w.library()->entry(w.currentRow()).object;
        QVERIFY(object->presentBytes() < archive.size() / 2);

        pane->selectEntry(9);
        QCOMPARE(w.coverageMap()->selection(), *e.span);
        const QByteArray content = archive.mid(e.span->begin + 512, e.size);
        QTRY_COMPARE_WITH_TIMEOUT(w.preview()->bytes(), content.left(64 << 10), 10000);

        const QString out = tmp.filePath(QStringLiteral("out"));
        pane->extractTo(out);
        const QString written = out + u'/' + e.path;
        QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(written) && !pane->isListing(), 10000);
        QFile x(written);
        QVERIFY(x.open(QIODevice::ReadOnly));
        QVERIFY(x.readAll() == content);
        QCOMPARE(QFileInfo(written).lastModified().toSecsSinceEpoch(), e.mtime);

        // Sorted: folders first, then by name (the archive's order is docs, logs, data, images).
        QTreeWidget *tree = pane->findChild<QTreeWidget *>();
        QVERIFY(tree);
        QTreeWidgetItem *top = tree->topLevelItem(0);
        QCOMPARE(top->text(0), QStringLiteral("sparsescope-demo"));
        QStringList children;
        for (int i = 0; i < top->childCount(); ++i)
            children << top->child(i)->text(0);
        QCOMPARE(children, (QStringList{QStringLiteral("data"), QStringLiteral("docs"), QStringLiteral("images"), QStringLiteral("logs")}));

        // A folder the archive only implies extracts its whole subtree, and nothing else.
        QVERIFY(pane->selectPath(QStringLiteral("sparsescope-demo/logs")));
        const QString folderOut = tmp.filePath(QStringLiteral("folder"));
        pane->extractTo(folderOut);
        QVERIFY(pane->isListing());
        QTRY_VERIFY_WITH_TIMEOUT(!pane->isListing(), 20000);
        int logs = 0;
        for (const demo::Entry &d : expected) {
            const bool isLog = d.name.startsWith(QStringLiteral("sparsescope-demo/logs/"));
            logs += isLog;
            QCOMPARE(QFileInfo::exists(folderOut + u'/' + d.name), isLog);
        }
        QVERIFY(logs > 0);
        QVERIFY2(pane->statusText().contains(QStringLiteral("extracted %1 files").arg(logs)), qPrintable(pane->statusText()));
    }
    void largeTarWaitsToBeAsked()
    {
        QStandardPaths::setTestModeEnabled(true);
        QTemporaryDir tmp;
        QFile big(tmp.filePath(QStringLiteral("big.tar")));
        QVERIFY(big.open(QIODevice::WriteOnly));
        QVERIFY(big.resize(ArchivePane::kAskBeforeListingAbove + (1 << 20))); // sparse: costs no disk
        big.close();
        AppSettings settings;
        settings.cacheDir = tmp.filePath(QStringLiteral("cache"));
        MainWindow w(settings);
        w.show();
        w.openSource(big.fileName());
        ArchivePane *pane = w.archivePane();
        QTRY_VERIFY_WITH_TIMEOUT(pane->statusText().contains(QStringLiteral("header of every entry")), 10000);
        QVERIFY(pane->entries().isEmpty());
        auto object = w.library()->entry(w.currentRow()).object;
        QCOMPARE(object->presentBytes(), qint64(0)); // nothing was read to ask
    }
    void switchingDuringListingsNeverFreezes()
    {
        QStandardPaths::setTestModeEnabled(true);
        QTemporaryDir tmp;
        QStringList tars;
        for (int i = 0; i < 3; ++i) {
            tars << tmp.filePath(QStringLiteral("demo%1.tar").arg(i));
            QVERIFY(demo::ensureArchive(tars.last()).ok());
        }
        AppSettings settings;
        settings.cacheDir = tmp.filePath(QStringLiteral("cache"));
        MainWindow w(settings);
        w.show();
        for (const QString &t : tars)
            w.openSource(t);
        QTRY_COMPARE_WITH_TIMEOUT(w.library()->count(), 3, 10000);
        // The event loop keeps ticking while the selection changes under running listings.
        QElapsedTimer sinceTick;
        qint64 longestGap = 0;
        QTimer ticker;
        ticker.setInterval(5);
        connect(&ticker, &QTimer::timeout, this, [&] {
            longestGap = std::max(longestGap, sinceTick.restart());
        });
        sinceTick.start();
        ticker.start();
        for (int i = 0; i < 100; ++i) {
            w.selectRow(i % 3);
            QTest::qWait(i % 10); // sometimes before the listing ends, sometimes after
        }
        const int last = 99 % 3;
        QTRY_VERIFY_WITH_TIMEOUT(!w.archivePane()->isListing() && !w.archivePane()->entries().isEmpty(), 20000);
        QCOMPARE(w.currentRow(), last);
        qInfo("longest event-loop gap while switching 100 times: %lld ms", longestGap);
        QVERIFY2(longestGap < 1000, qPrintable(QString::number(longestGap)));
    }
};

QTEST_MAIN(TestArchivePane)
#include "tst_archivepane.moc"
