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
    void aBatchTakesOneConnection()
    {
        RequestQueue q;
        QList<quint64> ids;
        for (int i = 0; i < 5; ++i) {
            ids.append(q.add(i * 10, i * 10 + (i == 2 ? 4 : 0), Priority::Interactive, 0));
            q.find(ids.last())->batchable = i != 3; // request 3 is a piece of a long run
            q.enqueue(ids.last());
        }
        // Up to 4 members and 7 chunks: 0, 1 and 2 (1 + 1 + 5); 3 is not batchable, 4 would pass 7.
        const QList<quint64> batch = q.startBatch(1, 0, 4, 7);
        QCOMPARE(batch, (QList<quint64>{ids[0], ids[1], ids[2]}));
        QCOMPARE(q.runningCount(), 1);
        QCOMPARE(q.runningInteractive(), 3);
        QVERIFY(q.startBatch(1, 0, 4, 7).isEmpty()); // the limit: one connection, taken by the batch
        QVERIFY(q.take(ids[0]) && q.take(ids[2]));
        QCOMPARE(q.runningCount(), 1); // its last member still runs
        QVERIFY(q.take(ids[1]));
        QCOMPARE(q.runningCount(), 0);
        QCOMPARE(q.startBatch(1, 0, 4, 7), QList<quint64>{ids[3]}); // alone: not batchable
        QCOMPARE(q.startBatch(2, 0, 4, 7), QList<quint64>{ids[4]});
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
