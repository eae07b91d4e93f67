// Upstream request bookkeeping: start order and the interactive lane, carving a user's chunks out
// of queued prefetch work, dropping unwanted requests, and the running counts.
#include "requestqueue.h"

#include <QtTest>

using namespace sparsescope;

class TestRequestQueue : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void interactiveFirstAndItsLane()
    {
        RequestQueue q;
        for (int i = 0; i < 4; ++i)
            q.enqueue(q.add(i * 10, i * 10 + 9, Priority::Prefetch, 0));
        const quint64 user = q.add(100, 100, Priority::Interactive, 0);
        q.enqueue(user);
        QCOMPARE(q.startNext(2, 1), std::optional<quint64>(user)); // overtakes queued prefetch
        QVERIFY(q.startNext(2, 1).has_value());
        QVERIFY(!q.startNext(2, 1).has_value()); // prefetch stops at the limit...
        const quint64 user2 = q.add(200, 200, Priority::Interactive, 0);
        q.enqueue(user2);
        QCOMPARE(q.startNext(2, 1), std::optional<quint64>(user2)); // ...interactive may use the lane
        QCOMPARE(q.runningCount(), 3);
        QCOMPARE(q.runningInteractive(), 2);
        QVERIFY(q.take(user).has_value());
        QCOMPARE(q.runningInteractive(), 1);
        QCOMPARE(q.runningCount(), 2);
    }
    void promoteCarvesOutOnlyTheUsersChunks()
    {
        RequestQueue q;
        const quint64 big = q.add(0, 63, Priority::Prefetch, 0);
        q.enqueue(big);
        q.enqueue(q.add(64, 127, Priority::Prefetch, 0));
        q.promote(40, 41);
        QVERIFY(!q.find(big)); // replaced by its pieces
        QList<std::pair<qint64, qint64>> order;
        while (auto id = q.startNext(10, 0)) {
            const UpstreamRequest *r = q.find(*id);
            order.append({r->firstChunk, r->lastChunk});
        }
        QCOMPARE(order, (QList<std::pair<qint64, qint64>>{{40, 41}, {0, 39}, {42, 63}, {64, 127}}));
    }
    void dropQueuedLeavesRunningAlone()
    {
        RequestQueue q;
        const quint64 a = q.add(0, 9, Priority::Prefetch, 0), b = q.add(10, 19, Priority::Prefetch, 0);
        q.enqueue(a);
        q.enqueue(b);
        QCOMPARE(q.startNext(1, 0), std::optional<quint64>(a));
        const auto dropped = q.dropQueued([](qint64, qint64) { return true; });
        QCOMPARE(dropped, (QList<std::pair<qint64, qint64>>{{10, 19}}));
        QCOMPARE(q.running().size(), 1);
        QVERIFY(!q.startNext(5, 0).has_value());
    }
};

QTEST_GUILESS_MAIN(TestRequestQueue)
#include "tst_requestqueue.moc"
