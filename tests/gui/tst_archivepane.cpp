// The archive pane in the window: the demo archive lists, selecting an entry highlights its span
// on the map and previews its content, and Extract writes the entry's exact bytes.
#include "archivepane.h"
#include "coveragemap.h"
#include "demoarchive.h"
#include "hexpreview.h"
#include "iopool.h"
#include "mainwindow.h"
#include "objectlibrary.h"

#include <QTemporaryDir>
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
    }
};

QTEST_MAIN(TestArchivePane)
#include "tst_archivepane.moc"
