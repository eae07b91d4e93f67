#include "rangeset.h"

#include <QRandomGenerator>
#include <QtTest>

#include <vector>

using namespace sparsescope;

class TestRangeSet : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void mergesTouchingAndOverlapping()
    {
        RangeSet s;
        s.add({10, 20});
        s.add({20, 30}); // touching
        s.add({25, 40}); // overlapping
        s.add({50, 60});
        QCOMPARE(s.ranges(), (QList<ByteRange>{{10, 40}, {50, 60}}));
        QCOMPARE(s.totalBytes(), 40);
        s.add({0, 100});
        QCOMPARE(s.ranges(), (QList<ByteRange>{{0, 100}}));
    }
    void removeSplits()
    {
        RangeSet s;
        s.add({0, 100});
        s.remove({40, 60});
        QCOMPARE(s.ranges(), (QList<ByteRange>{{0, 40}, {60, 100}}));
        QCOMPARE(s.totalBytes(), 80);
        QVERIFY(s.contains({0, 40}));
        QVERIFY(!s.contains({30, 70}));
        QVERIFY(s.intersects({39, 41}));
        QVERIFY(!s.intersects({40, 60}));
        QCOMPARE(s.gaps({0, 100}), (QList<ByteRange>{{40, 60}}));
        QCOMPARE(s.intersection({30, 70}), (QList<ByteRange>{{30, 40}, {60, 70}}));
        QCOMPARE(s.bytesIn({30, 70}), 20);
        QCOMPARE(s.bytesIn({40, 60}), 0);
    }
    // Random operations against a byte-per-bit model.
    void matchesModel()
    {
        QRandomGenerator rng(42);
        constexpr int N = 2000;
        std::vector<bool> model(N, false);
        RangeSet s;
        for (int step = 0; step < 5000; ++step) {
            const qint64 a = rng.bounded(N);
            const qint64 b = std::min<qint64>(N, a + rng.bounded(200));
            const bool add = rng.bounded(2);
            add ? s.add({a, b}) : s.remove({a, b});
            for (qint64 i = a; i < b; ++i)
                model[size_t(i)] = add;
        }
        qint64 total = 0;
        QList<ByteRange> expected;
        for (int i = 0; i < N; ++i) {
            if (!model[size_t(i)])
                continue;
            ++total;
            if (!expected.isEmpty() && expected.last().end == i)
                expected.last().end = i + 1;
            else
                expected.append({i, i + 1});
        }
        QCOMPARE(s.totalBytes(), total);
        QCOMPARE(s.ranges(), expected);
    }
};

QTEST_GUILESS_MAIN(TestRangeSet)
#include "tst_rangeset.moc"
