// BufferPool: buffers are aligned, reused once released (no allocation in steady state), and
// the pool keeps no more idle memory than its limit.
#include "bufferpool.h"

#include <QtTest>

#include <cstdint>
#include <thread>
#include <vector>

using namespace sparsescope;

class TestBufferPool : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void alignedAndRoundedUp()
    {
        BufferPool pool;
        Buffer b = pool.acquire(5000);
        QCOMPARE(b.capacity(), 8192);
        QCOMPARE(b.size(), 0);
        QCOMPARE(reinterpret_cast<std::uintptr_t>(b.constData()) % 4096, 0u);
        b.append("hello", 5);
        QCOMPARE(b.view(), QByteArrayView("hello"));
    }

    void steadyStateAllocatesNothing()
    {
        BufferPool pool;
        for (int round = 0; round < 100; ++round) {
            std::vector<Buffer> inUse;
            for (int i = 0; i < 8; ++i)
                inUse.push_back(pool.acquire(256 << 10));
        } // all released
        QCOMPARE(pool.allocations(), 8);
        QCOMPARE(pool.idleBytes(), 8 * (256 << 10));
    }

    void movedBufferReturnsOnce()
    {
        BufferPool pool;
        {
            Buffer a = pool.acquire(4096);
            Buffer b = std::move(a);
            QVERIFY(a.isNull());
            Buffer c;
            c = std::move(b);
            QVERIFY(b.isNull());
            QVERIFY(!c.isNull());
        }
        QCOMPARE(pool.idleBytes(), 4096);
        Buffer again = pool.acquire(4096);
        QCOMPARE(pool.allocations(), 1);
        QCOMPARE(pool.idleBytes(), 0);
    }

    void idleLimitFreesTheRest()
    {
        BufferPool pool(1 << 20);
        {
            std::vector<Buffer> many;
            for (int i = 0; i < 8; ++i)
                many.push_back(pool.acquire(256 << 10));
        }
        QCOMPARE(pool.idleBytes(), 1 << 20); // four kept, four freed
    }

    void releasedFromOtherThreads()
    {
        BufferPool pool;
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&pool] {
                for (int i = 0; i < 1000; ++i) {
                    Buffer b = pool.acquire(64 << 10);
                    b.append("x", 1);
                }
            });
        for (auto &t : threads)
            t.join();
        QVERIFY(pool.allocations() <= 4);
        QCOMPARE(pool.idleBytes(), pool.allocations() * (64 << 10));
    }
};

QTEST_GUILESS_MAIN(TestBufferPool)
#include "tst_bufferpool.moc"
