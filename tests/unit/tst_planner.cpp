#include "requestplanner.h"

#include <QtTest>

using namespace sparsescope;
using Spans = QList<std::pair<qint64, qint64>>;

class TestPlanner : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void coalescesAdjacentChunks()
    {
        const ChunkGeometry g{qint64(1) << 30, 256 << 10};
        PlannerConfig c{16 << 20, 2 << 20, 4};
        // Three small runs stay three requests of their own size.
        QCOMPARE(planRequests({{0, 1}, {10, 10}, {20, 23}}, g, c), (Spans{{0, 1}, {10, 10}, {20, 23}}));
    }
    void capsAndSplits()
    {
        const ChunkGeometry g{qint64(1) << 30, 256 << 10};
        PlannerConfig c{16 << 20, 2 << 20, 4};
        // 4096 chunks (1 GiB): pieces of at most 64 chunks (16 MiB), covering everything once.
        const Spans plan = planRequests({{0, 4095}}, g, c);
        QCOMPARE(plan.size(), 64);
        qint64 next = 0;
        for (const auto &[a, b] : plan) {
            QCOMPARE(a, next);
            QVERIFY(b - a + 1 <= 64);
            next = b + 1;
        }
        QCOMPARE(next, 4096);
        // 32 chunks (8 MiB) fit one request, but are shared by the 4 connections (2 MiB each).
        QCOMPARE(planRequests({{0, 31}}, g, c), (Spans{{0, 7}, {8, 15}, {16, 23}, {24, 31}}));
        // 6 chunks (1.5 MiB) are below the split threshold: one request.
        QCOMPARE(planRequests({{0, 5}}, g, c), (Spans{{0, 5}}));
    }
};

QTEST_GUILESS_MAIN(TestPlanner)
#include "tst_planner.moc"
