// Paint cost of the coverage map for a 4 Mi-chunk object (1 TiB at 256 KiB chunks), against the
// target of issue 3 (≤ 4 ms). Three figures: a full re-render of every cell (worst case: a resize
// or a whole-object change), the re-render of a typical dirty span (what one 100 ms tick does
// during a download), and the widget's paint of its cached image. Never fails on a number.
//   QT_QPA_PLATFORM=offscreen build/tests/bench_coveragemap
#include "coveragemap.h"
#include "coveragerenderer.h"

#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QtTest>

using namespace sparsescope;

namespace {
constexpr qint64 kChunks = qint64(4) << 20;
const ChunkGeometry kGeometry{kChunks * (256 << 10), 256 << 10};
const QSize kArea(1600, 700); // device pixels, a large map

ChunkBitmap pattern()
{
    ChunkBitmap b(kChunks);
    QRandomGenerator rng(1);
    for (qint64 at = 0; at < kChunks;) {
        const qint64 run = 1 + rng.bounded(4000);
        if (rng.bounded(2))
            b.setSpan(at, std::min(kChunks - 1, at + run - 1));
        at += run;
    }
    return b;
}

double median(QList<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}
} // namespace

class BenchCoverageMap : public QObject {
    Q_OBJECT
    ChunkBitmap m_present = pattern();
    ChunkBitmap m_flying = ChunkBitmap(kChunks);

private Q_SLOTS:
    void fullRender()
    {
        CoverageRenderer r;
        r.setLayout(kGeometry, kArea, 1.0);
        QImage image(r.imageSize(), QImage::Format_RGB32);
        m_flying.setSpan(kChunks / 3, kChunks / 3 + 4000);
        QBENCHMARK { r.renderAll(image, {&m_present, &m_flying, nullptr, nullptr}); }
    }
    void dirtySpanRender()
    {
        CoverageRenderer r;
        r.setLayout(kGeometry, kArea, 1.0);
        QImage image(r.imageSize(), QImage::Format_RGB32);
        const auto [a, b] = r.cellsOfChunks(kChunks / 2, kChunks / 2 + 4096); // 1 GiB arrived in a tick
        QBENCHMARK { r.render(image, {&m_present, &m_flying, nullptr, nullptr}, a, b); }
    }
    void widgetPaint()
    {
        CoverageMap map;
        map.resize(kArea.width(), kArea.height() + CoverageMap::kLegendHeight);
        map.setSnapshot(kGeometry, m_present);
        map.show();
        QVERIFY(QTest::qWaitForWindowExposed(&map));
        QBENCHMARK { map.repaint(); }
    }
    void summary()
    {
        CoverageRenderer r;
        r.setLayout(kGeometry, kArea, 1.0);
        QImage image(r.imageSize(), QImage::Format_RGB32);
        QList<double> full, paint;
        for (int i = 0; i < 21; ++i) {
            QElapsedTimer t;
            t.start();
            r.renderAll(image, {&m_present, &m_flying, nullptr, nullptr});
            full.append(t.nsecsElapsed() / 1e6);
        }
        CoverageMap map;
        map.resize(kArea.width(), kArea.height() + CoverageMap::kLegendHeight);
        map.setSnapshot(kGeometry, m_present);
        map.show();
        QVERIFY(QTest::qWaitForWindowExposed(&map));
        for (int i = 0; i < 21; ++i) {
            QElapsedTimer t;
            t.start();
            map.repaint();
            paint.append(t.nsecsElapsed() / 1e6);
        }
        std::printf("\n%-44s %10s %10s %8s\n", "coverage map, 4 Mi chunks, 1600x700 px", "median ms", "target ms", "ratio");
        std::printf("%-44s %10.2f %10.1f %7.2fx\n", "full re-render of every cell", median(full), 4.0, median(full) / 4.0);
        std::printf("%-44s %10.2f %10.1f %7.2fx\n", "widget paint of the cached image", median(paint), 4.0, median(paint) / 4.0);
        std::printf("(cells: %lld, %d px each; ratio < 1 is within the target)\n\n", r.cellCount(), r.cellPixels());
    }
};

QTEST_MAIN(BenchCoverageMap)
#include "bench_coveragemap.moc"
