#include "chunkbitmap.h"
#include "chunkgeometry.h"

#include <QRandomGenerator>
#include <QtTest>

#include <vector>

using namespace sparsescope;

class TestChunkBitmap : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void spansAndRuns()
    {
        ChunkBitmap b(200);
        b.setSpan(3, 130);
        QCOMPARE(b.count(), 128);
        QCOMPARE(b.countInSpan(0, 63), 61);
        QCOMPARE(b.nextSet(0), 3);
        QCOMPARE(b.nextClear(3), 131);
        b.resetSpan(64, 64);
        QCOMPARE(b.setRuns(0, 199), (QList<std::pair<qint64, qint64>>{{3, 63}, {65, 130}}));
        QCOMPARE(b.clearRuns(0, 199), (QList<std::pair<qint64, qint64>>{{0, 2}, {64, 64}, {131, 199}}));
        QCOMPARE(b.setRuns(10, 20), (QList<std::pair<qint64, qint64>>{{10, 20}}));
    }
    void matchesModel()
    {
        QRandomGenerator rng(7);
        constexpr qint64 N = 1000;
        std::vector<bool> model(N, false);
        ChunkBitmap b(N);
        for (int step = 0; step < 3000; ++step) {
            const qint64 a = rng.bounded(int(N));
            const qint64 z = std::min<qint64>(N - 1, a + rng.bounded(150));
            const bool set = rng.bounded(2);
            set ? b.setSpan(a, z) : b.resetSpan(a, z);
            for (qint64 i = a; i <= z; ++i)
                model[size_t(i)] = set;
            const qint64 q0 = rng.bounded(int(N)), q1 = std::min<qint64>(N - 1, q0 + rng.bounded(300));
            qint64 expect = 0;
            for (qint64 i = q0; i <= q1; ++i)
                expect += model[size_t(i)];
            QCOMPARE(b.countInSpan(q0, q1), expect);
        }
        qint64 total = 0;
        for (qint64 i = 0; i < N; ++i) {
            QCOMPARE(b.test(i), bool(model[size_t(i)]));
            total += model[size_t(i)];
        }
        QCOMPARE(b.count(), total);
    }
    void copySpanTakesOnlyThatSpan()
    {
        QRandomGenerator rng(11);
        constexpr qint64 N = 1000;
        ChunkBitmap from(N), into(N);
        for (int i = 0; i < 200; ++i) {
            const qint64 a = rng.bounded(int(N));
            from.setSpan(a, std::min<qint64>(N - 1, a + rng.bounded(20)));
            const qint64 b = rng.bounded(int(N));
            into.setSpan(b, std::min<qint64>(N - 1, b + rng.bounded(20)));
        }
        for (int step = 0; step < 500; ++step) {
            const ChunkBitmap before = into;
            const qint64 a = rng.bounded(int(N));
            const qint64 z = std::min<qint64>(N - 1, a + rng.bounded(200));
            into.copySpan(from, a, z);
            qint64 total = 0;
            for (qint64 i = 0; i < N; ++i) {
                QCOMPARE(into.test(i), i >= a && i <= z ? from.test(i) : before.test(i));
                total += into.test(i);
            }
            QCOMPARE(into.count(), total);
            if (step % 7 == 0) // and the source changes meanwhile
                from.resetSpan(rng.bounded(int(N)), N - 1);
        }
    }
    void mergeSpanKeepsSortedDisjointSpans()
    {
        using Spans = QList<std::pair<qint64, qint64>>;
        Spans s;
        mergeSpan(s, 10, 20);
        mergeSpan(s, 30, 40);
        mergeSpan(s, 0, 5);
        QCOMPARE(s, (Spans{{0, 5}, {10, 20}, {30, 40}}));
        mergeSpan(s, 21, 29); // touches both neighbours
        QCOMPARE(s, (Spans{{0, 5}, {10, 40}}));
        mergeSpan(s, 3, 12);
        QCOMPARE(s, (Spans{{0, 40}}));
        Spans few;
        for (qint64 i = 0; i < 10; ++i)
            mergeSpan(few, i * 100, i * 100 + (i == 4 ? 90 : 10), 5); // 4's span is closest to 5's
        QCOMPARE(few.size(), 5);
        QVERIFY(std::is_sorted(few.begin(), few.end()));
        for (qint64 i = 0; i < 10; ++i) // every span is still covered
            QVERIFY(std::any_of(few.begin(), few.end(), [&](auto p) { return p.first <= i * 100 && i * 100 + 10 <= p.second; }));
        QVERIFY(std::any_of(few.begin(), few.end(), [](auto p) { return p.first <= 400 && p.second >= 510; }));
    }
    // The budget: a 1 TiB object at 256 KiB chunks keeps its coverage in a few MiB.
    void terabyteIsSmall()
    {
        const ChunkGeometry g{qint64(1) << 40, 256 << 10};
        ChunkBitmap b(g.chunkCount());
        b.setSpan(0, g.chunkCount() - 1);
        QCOMPARE(b.count(), qint64(4) << 20);
        QVERIFY2(b.memoryBytes() <= 1 << 20, qPrintable(QString::number(b.memoryBytes())));
    }
    void geometry()
    {
        const ChunkGeometry g{1000, 256};
        QCOMPARE(g.chunkCount(), 4);
        QCOMPARE(g.chunkRange(3), (ByteRange{768, 1000}));
        QCOMPARE(g.chunksTouching({255, 257}), (std::pair<qint64, qint64>{0, 1}));
        QCOMPARE(g.chunksTouching({999, 1000}), (std::pair<qint64, qint64>{3, 3}));
        QCOMPARE(g.chunkSpan(1, 3), (ByteRange{256, 1000}));
    }
    void gapsBetweenRuns()
    {
        using Runs = QList<std::pair<qint64, qint64>>;
        QCOMPARE(gapsBetween(0, 9, Runs{{2, 3}, {6, 6}}), (Runs{{0, 1}, {4, 5}, {7, 9}}));
        QCOMPARE(gapsBetween(0, 9, Runs{}), (Runs{{0, 9}}));
        QCOMPARE(gapsBetween(0, 9, Runs{{0, 9}}), Runs{});
        QCOMPARE(gapsBetween(3, 7, Runs{{3, 4}, {7, 7}}), (Runs{{5, 6}}));
    }
};

QTEST_GUILESS_MAIN(TestChunkBitmap)
#include "tst_chunkbitmap.moc"
