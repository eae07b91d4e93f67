// The coverage map's pixels reflect coverage: colours sampled at cell centres of known patterns.
#include "awaitfuture.h"
#include "coveragemap.h"
#include "coveragerenderer.h"
#include "sparselocalobject.h"
#include "sparseobject.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace sparsescope;

class TestCoverageMap : public QObject {
    Q_OBJECT
    static QRgb at(const QImage &image, const CoverageRenderer &r, qint64 cell)
    {
        return image.pixel(r.cellRect(cell).center());
    }

private Q_SLOTS:
    void oneChunkPerCell()
    {
        const ChunkGeometry g{100 * 65536 - 1000, 65536}; // 100 chunks, the last one short
        ChunkBitmap present(g.chunkCount()), flying(g.chunkCount()), errors(g.chunkCount());
        present.setSpan(0, 49);
        present.set(99);
        flying.set(70);
        errors.set(80);
        CoverageRenderer r;
        r.setLayout(g, QSize(400, 300), 1.0);
        QCOMPARE(r.cellCount(), 100);
        QCOMPARE(r.cellBytes(99), g.chunkRange(99)); // cells are chunks
        QImage image(r.imageSize(), QImage::Format_RGB32);
        CoverageRenderer::Inputs in{&present, &flying, &errors, nullptr};
        r.renderAll(image, in);
        const CoverageColors c;
        QCOMPARE(QColor(at(image, r, 10)), c.presentFull);
        QCOMPARE(QColor(at(image, r, 99)), c.presentFull); // the short last chunk is whole
        QCOMPARE(QColor(at(image, r, 60)), c.missing);
        QCOMPARE(QColor(at(image, r, 70)), c.inFlight);
        QCOMPARE(QColor(at(image, r, 80)), c.error);
        // In flight is two states: a chunk whose request runs is being transferred, the others
        // wait in the queue and are drawn lighter.
        flying.setSpan(70, 75);
        ChunkBitmap transferring(g.chunkCount());
        transferring.set(70);
        in.transferring = &transferring;
        r.renderAll(image, in);
        QCOMPARE(QColor(at(image, r, 70)), c.inFlight);
        QCOMPARE(QColor(at(image, r, 71)), c.queued);
        QCOMPARE(QColor(at(image, r, 75)), c.queued);
        QVERIFY(c.queued != c.inFlight && c.queued != c.missing);
    }
    void manyChunksAreAggregated()
    {
        const qint64 chunks = qint64(4) << 20; // 1 TiB at 256 KiB
        const ChunkGeometry g{chunks * (256 << 10), 256 << 10};
        ChunkBitmap present(chunks);
        present.setSpan(0, chunks / 2 - 1);
        // A quarter of the chunks of one cell in the second half.
        CoverageRenderer r;
        r.setLayout(g, QSize(800, 400), 1.0);
        QVERIFY(r.cellCount() < chunks);
        const qint64 probe = r.cellCount() * 3 / 4;
        const auto [c0, c1] = g.chunksTouching(r.cellBytes(probe));
        present.setSpan(c0, c0 + (c1 - c0 + 1) / 4 - 1);
        QVERIFY(std::abs(r.fraction(present, probe) - 0.25) < 0.02);
        QImage image(r.imageSize(), QImage::Format_RGB32);
        r.renderAll(image, {&present, nullptr, nullptr, nullptr});
        const CoverageColors c;
        QCOMPARE(QColor(at(image, r, 0)), c.presentFull);
        QCOMPARE(QColor(at(image, r, r.cellCount() - 1)), c.missing);
        // A partly present cell is a present shade lighter than full and not the missing colour.
        const QColor partial(at(image, r, probe));
        QVERIFY(partial != c.missing && partial != c.presentFull);
        QVERIFY(partial.lightness() > c.presentFull.lightness());
        // Cells are equal byte spans that tile the object.
        const qint64 span = r.cellBytes(0).length();
        for (qint64 cell = 0; cell + 1 < r.cellCount(); cell += 97) {
            QCOMPARE(r.cellBytes(cell).end, r.cellBytes(cell + 1).begin);
            QVERIFY(std::abs(r.cellBytes(cell).length() - span) <= 1);
        }
        QCOMPARE(r.cellBytes(0).begin, 0);
        QCOMPARE(r.cellBytes(r.cellCount() - 1).end, g.objectSize);
    }
    void widgetPixelsAndSelection()
    {
        CoverageMap map;
        map.resize(500, 300);
        const ChunkGeometry g{64 * 65536, 65536};
        ChunkBitmap present(64);
        present.setSpan(8, 15);
        map.setSnapshot(g, present);
        map.show();
        QVERIFY(QTest::qWaitForWindowExposed(&map));
        const QImage shot = map.grab().toImage();
        const qreal dpr = shot.devicePixelRatio();
        const CoverageRenderer &r = map.renderer();
        auto logicalCenter = [&](qint64 cell) { return QPoint(int(r.cellRect(cell).center().x() / dpr), int(r.cellRect(cell).center().y() / dpr)); };
        const CoverageColors c;
        QCOMPARE(QColor(shot.pixel(r.cellRect(10).center())), c.presentFull);
        QCOMPARE(QColor(shot.pixel(r.cellRect(30).center())), c.missing);
        // The legend is drawn: its band is not the map's background everywhere.
        const int legendY = int((map.height() - CoverageMap::kLegendHeight / 2) * dpr);
        QVERIFY(shot.pixel(int(12 * dpr), legendY) != shot.pixel(int(2 * dpr), legendY));
        // Click selects one cell (one chunk); drag selects a span.
        QSignalSpy spy(&map, &CoverageMap::selectionChanged);
        QTest::mouseClick(&map, Qt::LeftButton, {}, logicalCenter(20));
        QCOMPARE(map.selection(), g.chunkRange(20));
        QTest::mousePress(&map, Qt::LeftButton, {}, logicalCenter(5));
        QMouseEvent move(QEvent::MouseMove, QPointF(logicalCenter(9)), map.mapToGlobal(QPointF(logicalCenter(9))), Qt::NoButton,
                         Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&map, &move);
        QTest::mouseRelease(&map, Qt::LeftButton, {}, logicalCenter(9));
        QCOMPARE(map.selection(), (ByteRange{5 * 65536, 10 * 65536}));
        QVERIFY(spy.count() >= 2);
        // The selection is outlined, not tinted: its cells keep their true colours (an evicted
        // cell looks missing while selected), and the outline is drawn on its edge.
        const QImage selected = map.grab().toImage();
        QCOMPARE(QColor(selected.pixel(r.cellRect(7).center())), c.missing);
        QCOMPARE(QColor(selected.pixel(r.cellRect(9).center())), c.presentFull);
        QCOMPARE(QColor(selected.pixel(r.cellRect(12).center())), c.presentFull);
        QCOMPARE(QColor(selected.pixel(r.cellRect(30).center())), c.missing);
        const QRect first = r.cellRect(5);
        QVERIFY(QColor(selected.pixel(first.left(), first.center().y())) != c.missing);
    }
    void aLiveObjectOfTenMillionChunksShowsEachChange()
    {
        // 10^7 chunks: a 40 GB sparse local file at 4 KiB chunks. Reads far apart each show up
        // (the object reports each changed span; the map copies and renders only those), and
        // an eviction takes its cell back to missing.
        constexpr qint64 kChunks = 10'000'000, kChunk = 4096;
        QTemporaryDir dir;
        auto opened = test::openSparseLocalObject(dir.path(), kChunks, kChunk);
        QVERIFY2(opened, qPrintable(opened ? QString() : opened.error().message));
        std::shared_ptr<SparseObject> object = *opened;
        CoverageMap map;
        map.resize(800, 400);
        map.setObject(object);
        map.show();
        QVERIFY(QTest::qWaitForWindowExposed(&map));
        const CoverageRenderer &r = map.renderer();
        const CoverageColors c;
        auto colourOfChunk = [&](qint64 chunk) {
            return QColor(map.grab().toImage().pixel(r.cellRect(r.cellsOfChunks(chunk, chunk).first).center()));
        };
        const QList<qint64> places{12'345, 5'000'000, kChunks - 1};
        for (qint64 chunk : places)
            QCOMPARE(colourOfChunk(chunk), c.missing);
        for (qint64 chunk : places) {
            const qint64 before = map.presentChunkCount();
            const auto got = awaitFuture(object->read(ByteRange{chunk * kChunk, (chunk + 1) * kChunk}));
            QVERIFY(got);
            QTRY_COMPARE_WITH_TIMEOUT(map.presentChunkCount(), before + 1, 2000);
            QVERIFY(colourOfChunk(chunk) != c.missing);
        }
        QVERIFY(awaitFuture(object->evict({ByteRange{5'000'000 * kChunk, 5'000'001 * kChunk}})));
        QTRY_COMPARE_WITH_TIMEOUT(map.presentChunkCount(), qint64(2), 2000);
        QTRY_COMPARE_WITH_TIMEOUT(colourOfChunk(5'000'000), c.missing, 5000); // once its fade-out is over
        QVERIFY(colourOfChunk(12'345) != c.missing);
    }
    void keyboardSelects()
    {
        CoverageMap map;
        map.resize(500, 300);
        const ChunkGeometry g{64 * 65536, 65536};
        map.setSnapshot(g, ChunkBitmap(64));
        map.show();
        QVERIFY(QTest::qWaitForWindowExposed(&map));
        map.setFocus();
        QTRY_VERIFY(map.hasFocus());
        const int cols = map.renderer().columns();
        QTest::keyClick(&map, Qt::Key_Right); // the first key: the first cell
        QCOMPARE(map.selection(), g.chunkRange(0));
        QTest::keyClick(&map, Qt::Key_Right);
        QCOMPARE(map.selection(), g.chunkRange(1));
        QTest::keyClick(&map, Qt::Key_Down);
        QCOMPARE(map.selection(), g.chunkRange(1 + cols));
        QTest::keyClick(&map, Qt::Key_Right, Qt::ShiftModifier);
        QTest::keyClick(&map, Qt::Key_Right, Qt::ShiftModifier);
        QCOMPARE(map.selection(), g.chunkSpan(1 + cols, 3 + cols));
        QTest::keyClick(&map, Qt::Key_End, Qt::ShiftModifier);
        QCOMPARE(map.selection(), g.chunkSpan(1 + cols, 63));
        QTest::keyClick(&map, Qt::Key_Home);
        QCOMPARE(map.selection(), g.chunkRange(0));
        QTest::keyClick(&map, Qt::Key_Left); // stays at the start
        QCOMPARE(map.selection(), g.chunkRange(0));
        QTest::keyClick(&map, Qt::Key_PageDown);
        QVERIFY(map.selection().begin > g.chunkRange(cols).begin);
    }
    void selectionsSnapToWholeChunks()
    {
        // 200,000 chunks of 4 KiB: cells aggregate chunks, and cut across them in byte-space.
        CoverageMap map;
        map.resize(500, 300);
        const ChunkGeometry g{200000 * 4096 + 1000, 4096};
        map.setSnapshot(g, ChunkBitmap(g.chunkCount()));
        map.show();
        QVERIFY(QTest::qWaitForWindowExposed(&map));
        const CoverageRenderer &r = map.renderer();
        QVERIFY(r.cellCount() < g.chunkCount());
        const qreal dpr = map.devicePixelRatioF();
        const qint64 cell = r.cellCount() / 3;
        QVERIFY(r.cellBytes(cell).begin % 4096 != 0 || r.cellBytes(cell + 1).begin % 4096 != 0); // cells do cut chunks
        QTest::mouseClick(&map, Qt::LeftButton, {}, QPoint(int(r.cellRect(cell).center().x() / dpr), int(r.cellRect(cell).center().y() / dpr)));
        const ByteRange sel = map.selection();
        QCOMPARE(sel.begin % 4096, 0);
        QVERIFY(sel.end % 4096 == 0 || sel.end == g.objectSize);
        QVERIFY(sel.begin <= r.cellBytes(cell).begin && sel.end >= r.cellBytes(cell).end);
        QVERIFY(sel.length() < r.cellBytes(cell).length() + 2 * 4096);
    }
};

QTEST_MAIN(TestCoverageMap)
#include "tst_coveragemap.moc"
