// The engine against nginx (and its paced /slow/: 4 MiB/s per connection): priorities,
// cancellation, pause, backpressure from the disk queue, and one network stack per process,
// observed in nginx's access log.
#include "awaitfuture.h"
#include "iopool.h"
#include "nginxfixture.h"
#include "sparseobject.h"

#include <QDir>
#include <QElapsedTimer>
#include <QSemaphore>
#include <QTemporaryDir>
#include <QtTest>

using namespace sparsescope;
using namespace sparsescope::test;

class TestEngineHttp : public QObject {
    Q_OBJECT
    NginxFixture m_nginx;
    QTemporaryDir m_tmp;
    QByteArray m_bytes;
    static constexpr qint64 kSize = 8 << 20;
    static constexpr qint64 kChunk = 64 << 10;

    std::shared_ptr<SparseObject> open(const QString &cacheName)
    {
        EngineConfig c;
        c.cacheDir = m_tmp.filePath(cacheName);
        c.chunkSize = kChunk;
        c.source.connections = 1;
        c.planner.maxRequestBytes = 512 << 10; // 16 queued requests of 512 KiB
        auto o = awaitFuture(SparseObject::open(m_nginx.url(QStringLiteral("slow/object.bin")), c));
        return o ? *o : nullptr;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_nginx.start(), qPrintable(m_nginx.errorText()));
        m_bytes = patternBytes(kSize, 5);
        m_nginx.addFile(QStringLiteral("object.bin"), m_bytes);
    }
    void init() { m_nginx.clearAccessLog(); }

    void interactiveReadOvertakesQueuedPrefetch()
    {
        auto o = open(QStringLiteral("priority"));
        QVERIFY(o);
        auto prefetch = o->prefetch({{0, kSize}}, Priority::Prefetch);
        const ByteRange tail{kSize - 100, kSize};
        QElapsedTimer t;
        t.start();
        auto bytes = awaitFuture(o->read(tail, Priority::Interactive));
        const qint64 readMs = t.elapsed();
        QVERIFY(bytes.ok());
        QCOMPARE(*bytes, m_bytes.mid(tail.begin, 100));
        QVERIFY2(!prefetch.isFinished(), "the read must not wait for the whole prefetch");
        QVERIFY2(o->presentBytes() < kSize / 2, qPrintable(QString::number(o->presentBytes())));
        // The tail was fetched by a request of its own (carved out of the queued prefetch work) that
        // did not wait for the running prefetch request: nginx logged it first.
        QList<AccessLogEntry> gets;
        for (const AccessLogEntry &e : m_nginx.accessLog())
            if (e.method == u"GET")
                gets.append(e);
        QVERIFY(!gets.isEmpty());
        QCOMPARE(gets.first().range, QStringLiteral("bytes=%1-%2").arg(kSize - kChunk).arg(kSize - 1));
        qInfo("tail read served after %lld ms while the prefetch had %lld of %lld bytes", readMs, o->presentBytes(), kSize);
        QVERIFY(awaitFuture(prefetch).ok());
        QCOMPARE(o->presentBytes(), kSize);
    }
    void aUsersReadStopsRunningPrefetches()
    {
        // A user's request stops the running prefetch (on two cores its stream kept a cold read at
        // twice its idle time), which goes on once the read is done: nginx logs the prefetch's GET
        // cut short and its rest asked for again; every byte arrives right.
        auto o = open(QStringLiteral("yield"));
        QVERIFY(o);
        auto prefetch = o->prefetch({{0, kSize}}, Priority::Prefetch);
        QTRY_VERIFY_WITH_TIMEOUT(o->presentBytes() >= 2 * kChunk, 10000); // its first 512 KiB GET is running
        const ByteRange tail{kSize - 100, kSize};
        auto bytes = awaitFuture(o->read(tail, Priority::Interactive));
        QVERIFY(bytes.ok());
        QCOMPARE(*bytes, m_bytes.mid(tail.begin, 100));
        QVERIFY(awaitFuture(prefetch).ok());
        QCOMPARE(o->presentBytes(), kSize);
        QCOMPARE(*awaitFuture(o->read({0, kSize})), m_bytes);
        int cutShort = 0;
        for (const AccessLogEntry &e : m_nginx.accessLog()) {
            const QStringList ends = e.range.mid(QStringLiteral("bytes=").size()).split(u'-');
            if (e.method == u"GET" && ends.size() == 2 && e.bodyBytes < ends[1].toLongLong() - ends[0].toLongLong() + 1)
                ++cutShort;
        }
        QCOMPARE(cutShort, 1);
    }
    void cancelledPrefetchStopsUpstreamTraffic()
    {
        auto o = open(QStringLiteral("cancel"));
        QVERIFY(o);
        auto prefetch = o->prefetch({{0, kSize}}, Priority::Prefetch);
        QTest::qWait(300);
        prefetch.cancel();
        QTest::qWait(1500); // the engine notices within its prune interval and aborts the transfer
        QCOMPARE(o->inFlightChunks(), 0);
        const qint64 fetched = m_nginx.bodyBytes();
        QTest::qWait(500);
        QCOMPARE(m_nginx.bodyBytes(), fetched); // nothing more is asked for
        QVERIFY2(fetched < kSize / 2, qPrintable(QString::number(fetched)));
        // What did arrive is correct and usable.
        for (const ByteRange &r : o->presentRanges().ranges())
            QCOMPARE(*awaitFuture(o->read(r)), m_bytes.mid(r.begin, r.length()));
    }
    void pauseStopsTransfersAndResumeFinishes()
    {
        auto o = open(QStringLiteral("pause"));
        QVERIFY(o);
        auto prefetch = o->prefetch({{0, kSize}}, Priority::Prefetch);
        QTRY_VERIFY_WITH_TIMEOUT(o->presentBytes() >= 4 * kChunk, 10000);
        o->setPaused(true);
        QVERIFY(o->isPaused());
        // The running request stops; nothing more is asked for or stored; the prefetch waits.
        QTRY_COMPARE_WITH_TIMEOUT(o->transferringChunkMap().count(), 0, 5000);
        QTest::qWait(300);
        const qint64 present = o->presentBytes(), fetched = m_nginx.bodyBytes();
        QTest::qWait(800);
        QCOMPARE(o->presentBytes(), present);
        QCOMPARE(m_nginx.bodyBytes(), fetched);
        QVERIFY(!prefetch.isFinished());
        QVERIFY(o->inFlightChunks() > 0); // queued, not forgotten
        // A user's read still goes through while paused.
        const ByteRange tail{kSize - 100, kSize};
        auto bytes = awaitFuture(o->read(tail, Priority::Interactive));
        QVERIFY(bytes.ok());
        QCOMPARE(*bytes, m_bytes.mid(tail.begin, 100));
        // Resume: the prefetch completes, every byte right.
        o->setPaused(false);
        QVERIFY(awaitFuture(prefetch).ok());
        QCOMPARE(o->presentBytes(), kSize);
        QCOMPARE(*awaitFuture(o->read({0, kSize})), m_bytes);
    }
    void fullDiskQueueHoldsTheStreamBack()
    {
        // Two chunks may wait for the disk. With the disk stalled (every I/O thread held), the
        // transfer stops reading its body after them and what one read takes (1 MiB): it does
        // not pull the whole object into memory. Once the disk moves, every byte arrives right,
        // once.
        EngineConfig c;
        c.cacheDir = m_tmp.filePath(QStringLiteral("backpressure"));
        c.chunkSize = kChunk;
        c.maxQueuedWrites = 2;
        auto o = awaitFuture(SparseObject::open(m_nginx.url(QStringLiteral("object.bin")), c));
        QVERIFY(o.ok());
        const qint64 before = (*o)->statistics().upstreamBytes;
        QSemaphore held, disk;
        const int threads = ioPool()->maxThreadCount();
        for (int i = 0; i < threads; ++i)
            ioPool()->start([&held, &disk] {
                held.release();
                disk.acquire();
            });
        auto unstall = qScopeGuard([&disk, threads] { disk.release(threads); }); // also when a check fails
        QVERIFY(held.tryAcquire(threads, 5000)); // every I/O thread is stalled
        auto prefetch = (*o)->prefetch({{0, kSize}});
        QTRY_VERIFY((*o)->statistics().upstreamBytes - before >= 2 * kChunk);
        QTest::qWait(500); // time enough for the other 7 MiB to arrive over loopback, were they read
        const qint64 taken = (*o)->statistics().upstreamBytes - before;
        QVERIFY2(taken <= 3 * kChunk + (1 << 20), qPrintable(QStringLiteral("%1 bytes read with the disk stalled").arg(taken)));
        QVERIFY(!prefetch.isFinished());
        unstall.dismiss();
        disk.release(threads);
        QVERIFY(awaitFuture(prefetch).ok());
        QCOMPARE(*awaitFuture((*o)->read({0, kSize})), m_bytes);
        QCOMPARE(m_nginx.bodyBytes(), kSize);
    }

    void objectsShareOneNetworkStack()
    {
        // Two objects of one process: one network thread, and the second object's requests go
        // over the connection the first one left open (nginx's connection serial numbers).
        m_nginx.addFile(QStringLiteral("other.bin"), patternBytes(kSize, 6));
        EngineConfig c;
        c.cacheDir = m_tmp.filePath(QStringLiteral("shared-stack"));
        c.chunkSize = kChunk;
        OpenOptions firstBytes;
        firstBytes.firstRead = ByteRange{0, 100};
        auto a = awaitFuture(SparseObject::open(m_nginx.url(QStringLiteral("object.bin")), c, firstBytes));
        QVERIFY(a.ok());
        QCOMPARE(*awaitFuture((*a)->read({kSize - 100, kSize})), m_bytes.mid(kSize - 100));
        auto b = awaitFuture(SparseObject::open(m_nginx.url(QStringLiteral("other.bin")), c, firstBytes));
        QVERIFY(b.ok());
        QCOMPARE(*awaitFuture((*b)->read({0, 100})), patternBytes(kSize, 6).left(100));
        const QList<AccessLogEntry> log = m_nginx.accessLog();
        QSet<qint64> connections;
        for (const AccessLogEntry &e : log)
            connections.insert(e.connection);
        QVERIFY2(log.size() >= 3, qPrintable(QString::number(log.size())));
        QCOMPARE(connections.size(), 1);
        int networkThreads = 0;
        for (const QString &task : QDir(QStringLiteral("/proc/self/task")).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
            QFile comm(QStringLiteral("/proc/self/task/%1/comm").arg(task));
            if (comm.open(QIODevice::ReadOnly) && comm.readAll().trimmed() == "sparsescope-net")
                ++networkThreads; // comm holds 15 bytes of "sparsescope-network"
        }
        QCOMPARE(networkThreads, 1);
    }
};

QTEST_GUILESS_MAIN(TestEngineHttp)
#include "tst_engine_http.moc"
