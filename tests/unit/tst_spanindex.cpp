// SpanIndex against a brute-force list: random inserts and erases of overlapping spans, every
// query compared; and the index shrinks back to nothing when every span is gone.
#include "spanindex.h"

#include <QRandomGenerator>
#include <QtTest>

#include <map>

using namespace sparsescope;

class TestSpanIndex : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void matchesBruteForce()
    {
        QRandomGenerator rng(42);
        SpanIndex index;
        std::map<quint64, std::pair<qint64, qint64>> model;
        quint64 nextId = 1;
        for (int step = 0; step < 20000; ++step) {
            if (model.empty() || rng.bounded(100) < 55) {
                const qint64 a = rng.bounded(200);
                const qint64 b = a + (rng.bounded(10) == 0 ? rng.bounded(200) : rng.bounded(4));
                index.insert(nextId, a, b);
                model[nextId++] = {a, b};
            } else {
                auto it = model.begin();
                std::advance(it, rng.bounded(int(model.size())));
                index.erase(it->first, it->second.first, it->second.second);
                model.erase(it);
            }
            const qint64 qa = rng.bounded(420);
            const qint64 qb = qa + rng.bounded(3) * rng.bounded(30);
            std::vector<quint64> want;
            for (const auto &[id, span] : model)
                if (span.first <= qb && span.second >= qa)
                    want.push_back(id);
            QCOMPARE(index.overlapping(qa, qb), want);
            QCOMPARE(index.anyOverlapping(qa, qb), !want.empty());
        }
        for (const auto &[id, span] : model)
            index.erase(id, span.first, span.second);
        QVERIFY(index.empty());
    }

    void oneChunkQueries()
    {
        SpanIndex index;
        index.insert(1, 0, 99);   // a whole-object prefetch
        index.insert(2, 10, 10);  // a read of chunk 10
        index.insert(3, 10, 20);
        QCOMPARE(index.overlapping(10, 10), (std::vector<quint64>{1, 2, 3}));
        QCOMPARE(index.overlapping(21, 21), (std::vector<quint64>{1}));
        QCOMPARE(index.overlapping(100, 100), std::vector<quint64>{});
        index.erase(2, 10, 10);
        index.erase(3, 10, 20);
        QCOMPARE(index.segmentCount(), size_t(2)); // [0, 100) and the end mark
    }
};

QTEST_GUILESS_MAIN(TestSpanIndex)
#include "tst_spanindex.moc"
