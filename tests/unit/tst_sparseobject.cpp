// The engine on a local-file source: bytes, deduplication (counted upstream requests),
// eviction, exports and restarts.
#include "awaitfuture.h"
#include "iopool.h"
#include "nginxfixture.h"
#include "sparseobject.h"

#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>

using namespace sparsescope;
using namespace sparsescope::test;

namespace {
constexpr qint64 kChunk = 64 << 10;
}

class TestSparseObject : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_path;
    QByteArray m_bytes;

    EngineConfig config() const
    {
        EngineConfig c;
        c.cacheDir = m_dir.filePath(QStringLiteral("cache"));
        c.chunkSize = kChunk;
        c.source.connections = 4;
        return c;
    }
    std::shared_ptr<SparseObject> open()
    {
        auto o = awaitFuture(SparseObject::open(m_path, config()));
        if (!o)
            qWarning() << o.error().message;
        return o ? *o : nullptr;
    }

private Q_SLOTS:
    void init()
    {
        m_bytes = patternBytes(3 * 1024 * 1024 + 12345, 99);
        m_path = m_dir.filePath(QStringLiteral("object.bin"));
        QFile f(m_path);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(m_bytes);
        f.close();
        QDir(m_dir.filePath(QStringLiteral("cache"))).removeRecursively();
    }
    void readsAlignedAndUnaligned_data()
    {
        QTest::addColumn<qint64>("begin");
        QTest::addColumn<qint64>("end");
        QTest::newRow("first byte") << qint64(0) << qint64(1);
        QTest::newRow("one chunk") << kChunk << 2 * kChunk;
        QTest::newRow("across chunks") << kChunk - 3 << 3 * kChunk + 5;
        QTest::newRow("tail") << qint64(3 * 1024 * 1024) << qint64(3 * 1024 * 1024 + 12345);
        QTest::newRow("whole") << qint64(0) << qint64(3 * 1024 * 1024 + 12345);
    }
    void readsAlignedAndUnaligned()
    {
        QFETCH(qint64, begin);
        QFETCH(qint64, end);
        auto o = open();
        QVERIFY(o);
        auto bytes = awaitFuture(o->read({begin, end}));
        QVERIFY2(bytes.ok(), qPrintable(bytes.ok() ? QString() : bytes.error().message));
        QCOMPARE(*bytes, m_bytes.mid(begin, end - begin));
        // The second read is served from the cache: no upstream request.
        const qint64 requests = o->statistics().upstreamRequests;
        QCOMPARE(*awaitFuture(o->read({begin, end})), m_bytes.mid(begin, end - begin));
        QCOMPARE(o->statistics().upstreamRequests.load(), requests);
        QCOMPARE(o->statistics().cacheHitBytes.load(), end - begin);
    }
    void concurrentReadersShareOneUpstreamRequest()
    {
        auto o = open();
        QVERIFY(o);
        QList<QFuture<Result<QByteArray>>> futures;
        for (int i = 0; i < 64; ++i)
            futures.append(o->read({5 * kChunk + 10, 5 * kChunk + 110}));
        for (auto &f : futures) {
            auto r = awaitFuture(f);
            QVERIFY(r.ok());
            QCOMPARE(*r, m_bytes.mid(5 * kChunk + 10, 100));
        }
        QCOMPARE(o->statistics().upstreamRequests.load(), 1);
        QCOMPARE(o->statistics().upstreamBytes.load(), kChunk);
    }
    void outOfRangeIsAUsageError()
    {
        auto o = open();
        auto r = awaitFuture(o->read({m_bytes.size() - 1, m_bytes.size() + 1}));
        QVERIFY(!r.ok());
        QCOMPARE(r.error().kind, ErrorKind::Usage);
        QVERIFY(r.error().message.contains(m_path));
    }
    void coverageSurvivesReopen()
    {
        {
            auto o = open();
            QVERIFY(awaitFuture(o->prefetch({{kChunk, 3 * kChunk}, {10 * kChunk, 10 * kChunk + 1}})).ok());
            QVERIFY(awaitFuture(o->flush()).ok());
        }
        ioPool()->waitForDone();
        auto o = open();
        QCOMPARE(o->presentRanges().ranges(), (QList<ByteRange>{{kChunk, 3 * kChunk}, {10 * kChunk, 11 * kChunk}}));
    }
    void evictThenReadFetchesAgain()
    {
        auto o = open();
        QVERIFY(awaitFuture(o->prefetch({{0, m_bytes.size()}})).ok());
        QCOMPARE(o->presentBytes(), m_bytes.size());
        auto dropped = awaitFuture(o->evict({{kChunk + 1, kChunk + 2}}));
        QVERIFY(dropped.ok());
        QCOMPARE(*dropped, kChunk);
        QVERIFY(!o->isPresent(1));
        const qint64 before = o->statistics().upstreamRequests;
        QCOMPARE(*awaitFuture(o->read({kChunk, 2 * kChunk})), m_bytes.mid(kChunk, kChunk));
        QCOMPARE(o->statistics().upstreamRequests.load(), before + 1);
    }
    void exportsFullAndSparse()
    {
        auto o = open();
        QVERIFY(awaitFuture(o->prefetch({{2 * kChunk, 4 * kChunk}})).ok());
        const QString sparse = m_dir.filePath(QStringLiteral("sparse.bin"));
        QVERIFY(awaitFuture(o->exportTo(sparse, ExportMode::Sparse)).ok());
        QFile s(sparse);
        QVERIFY(s.open(QIODevice::ReadOnly));
        const QByteArray got = s.readAll();
        QCOMPARE(got.size(), m_bytes.size());
        QCOMPARE(got.mid(2 * kChunk, 2 * kChunk), m_bytes.mid(2 * kChunk, 2 * kChunk));
        QCOMPARE(got.left(2 * kChunk), QByteArray(2 * kChunk, '\0'));
        struct stat st {};
        QCOMPARE(::stat(QFile::encodeName(sparse).constData(), &st), 0);
        QVERIFY2(qint64(st.st_blocks) * 512 <= 2 * kChunk + 8192, "a sparse export must keep its holes");

        const QString full = m_dir.filePath(QStringLiteral("full.bin"));
        QVERIFY(awaitFuture(o->exportTo(full, ExportMode::Full)).ok());
        QFile f(full);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), m_bytes);
        // No temporary files are left behind.
        QCOMPARE(QDir(m_dir.path()).entryList(QDir::Files | QDir::Hidden).filter(QStringLiteral(".sparsescope-")).size(), 0);
    }
    void failedExportKeepsTheOldFile()
    {
        auto o = open();
        const QString target = m_dir.filePath(QStringLiteral("nodir/keep.bin"));
        auto r = awaitFuture(o->exportTo(target, ExportMode::Sparse));
        QVERIFY(!r.ok());
        QCOMPARE(r.error().kind, ErrorKind::LocalIo);
        // An existing good file survives a failed full export (source vanished mid-way).
        const QString good = m_dir.filePath(QStringLiteral("good.bin"));
        QFile g(good);
        QVERIFY(g.open(QIODevice::WriteOnly));
        g.write("precious");
        g.close();
        QFile::remove(m_path);
        auto failed = awaitFuture(o->exportTo(good, ExportMode::Full));
        QVERIFY(!failed.ok());
        QVERIFY(g.open(QIODevice::ReadOnly));
        QCOMPARE(g.readAll(), QByteArray("precious"));
    }
    void changedLocalFileIsDetectedOnOpen()
    {
        {
            auto o = open();
            QVERIFY(awaitFuture(o->prefetch({{0, kChunk}})).ok());
        }
        ioPool()->waitForDone();
        QThread::msleep(20);
        QFile f(m_path);
        QVERIFY(f.open(QIODevice::ReadWrite));
        f.write("changed!");
        f.close();
        auto o = open();
        QCOMPARE(o->presentBytes(), 0);
        QVERIFY(!o->warnings().isEmpty());
        QCOMPARE(*awaitFuture(o->read({0, 8})), QByteArray("changed!"));
    }
};

QTEST_GUILESS_MAIN(TestSparseObject)
#include "tst_sparseobject.moc"
