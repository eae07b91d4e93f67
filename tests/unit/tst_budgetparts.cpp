// The budget's parts on their own: settings as `config` reads and writes them, access ticks that
// survive closing, and pins as the evictor sees them from another open file description; then
// two objects of one process filling a small budget at once (eviction passes on I/O threads while
// others write: also run under ThreadSanitizer).
#include "accesstimes.h"
#include "cache.h"
#include "cachesettings.h"
#include "claimtable.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace sparsescope;
using Runs = QList<std::pair<qint64, qint64>>;

class TestBudgetParts : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void settingsParseSaveAndLoad()
    {
        QTemporaryDir tmp;
        auto fresh = CacheSettings::load(tmp.path());
        QVERIFY(fresh.ok());
        QCOMPARE(fresh->maxSize, std::nullopt);
        QCOMPARE(fresh->minFreeSpace, qint64(1) << 30);
        CacheSettings s;
        QVERIFY(s.set(QStringLiteral("max-size"), QStringLiteral("1T")).ok());
        QCOMPARE(*s.maxSize, qint64(1) << 40);
        QVERIFY(s.set(QStringLiteral("min-free-space"), QStringLiteral("0")).ok());
        QCOMPARE(s.minFreeSpace, 0);
        QCOMPARE(s.set(QStringLiteral("max-size"), QStringLiteral("-5M")).error().kind, ErrorKind::Usage);
        QCOMPARE(s.set(QStringLiteral("max-size"), QStringLiteral("0")).error().kind, ErrorKind::Usage);
        QCOMPARE(s.set(QStringLiteral("size"), QStringLiteral("1G")).error().kind, ErrorKind::Usage);
        QVERIFY(s.save(tmp.path()).ok());
        QCOMPARE(*CacheSettings::load(tmp.path()), s);
        QCOMPARE(*s.value(QStringLiteral("max-size")), QStringLiteral("1099511627776"));
        QVERIFY(s.set(QStringLiteral("max-size"), QStringLiteral("NONE")).ok());
        QCOMPARE(*s.value(QStringLiteral("max-size")), QStringLiteral("none"));
        // What the app shows reads back exactly.
        for (qint64 v : {qint64(256) << 20, qint64(3) << 30, qint64(1536) << 10, qint64(1000)}) {
            CacheSettings t;
            QVERIFY(t.set(QStringLiteral("max-size"), CacheSettings::sizeText(v)).ok());
            QCOMPARE(*t.maxSize, v);
        }
        // A damaged file says which and what to do.
        QFile f(CacheSettings::path(tmp.path()));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{\"max-size\": \"lots\"}");
        f.close();
        auto bad = CacheSettings::load(tmp.path());
        QCOMPARE(bad.error().kind, ErrorKind::Integrity);
        QVERIFY(bad.error().message.contains(f.fileName()));
    }

    void accessTicksSurviveClosing()
    {
        QTemporaryDir tmp;
        {
            AccessTimes a;
            QVERIFY(a.open(tmp.path(), 1 << 20).ok());
            a.stamp(10, 19, 7);
            a.stamp((1 << 20) - 1, 1 << 21, 9); // clipped to the table
        }
        const std::vector<quint32> ticks = AccessTimes::read(tmp.path(), 1 << 20);
        QCOMPARE(ticks[9], 0u);
        QCOMPARE(ticks[10], 7u);
        QCOMPARE(ticks[19], 7u);
        QCOMPARE(ticks[20], 0u);
        QCOMPARE(ticks[(1 << 20) - 1], 9u);
        AccessTimes again;
        QVERIFY(again.open(tmp.path(), 1 << 20).ok());
        QCOMPARE(again.at(15), 7u);
        QVERIFY(again.reset(100).ok()); // a new version of the object: no stamps
        QCOMPARE(again.at(15), 0u);
    }

    void pinsAreSeenFromAnotherDescription()
    {
        QTemporaryDir tmp;
        ClaimTable reader, evictor;
        QVERIFY(reader.open(tmp.path()).ok() && evictor.open(tmp.path()).ok());
        QCOMPARE(*evictor.unpinnedRuns(0, 99), (Runs{{0, 99}}));
        QVERIFY(reader.pin(10, 19));
        QVERIFY(reader.pin(50, 59));
        QVERIFY(reader.pin(55, 70)); // overlapping pins merge in the kernel
        QCOMPARE(*evictor.unpinnedRuns(0, 99), (Runs{{0, 9}, {20, 49}, {71, 99}}));
        QCOMPARE(*reader.unpinnedRuns(0, 99), (Runs{{0, 99}})); // its own pins never stop itself
        reader.unpin(10, 19);
        QCOMPARE(*evictor.unpinnedRuns(0, 99), (Runs{{0, 49}, {71, 99}}));
        // Pins and claims do not meet: a fetch may claim a pinned chunk (pins live at 2^61 + chunk).
        QCOMPARE(*evictor.tryClaim(50, 59), (Runs{{50, 59}}));
    }

    void twoObjectsOfOneProcessFillASmallBudget()
    {
        QTemporaryDir tmp;
        const QString cache = tmp.filePath(QStringLiteral("cache"));
        CacheSettings s;
        s.maxSize = 24 << 20;
        QVERIFY(Cache(cache).saveSettings(s).ok());
        QList<QByteArray> contents;
        QList<std::shared_ptr<SparseObject>> objects;
        EngineConfig config;
        config.cacheDir = cache;
        config.chunkSize = 64 << 10;
        for (int i = 0; i < 2; ++i) {
            QByteArray bytes(16 << 20, Qt::Uninitialized);
            for (qsizetype k = 0; k < bytes.size(); ++k)
                bytes[k] = char((k * 131 + i * 7 + (k >> 12)) & 0xff);
            const QString file = tmp.filePath(QStringLiteral("object%1.bin").arg(i));
            QFile f(file);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(bytes);
            f.close();
            contents << bytes;
            auto opened = Cache(cache).open(file, config);
            QTRY_VERIFY_WITH_TIMEOUT(opened.isFinished(), 20000);
            QVERIFY(opened.result().ok());
            objects << *opened.result();
        }
        auto a = objects[0]->prefetch({ByteRange{0, 16 << 20}});
        auto b = objects[1]->prefetch({ByteRange{0, 16 << 20}});
        QTRY_VERIFY_WITH_TIMEOUT(a.isFinished() && b.isFinished(), 60000);
        QVERIFY(a.result().ok() && b.result().ok());
        for (auto &o : objects) {
            auto f = o->flush();
            QTRY_VERIFY_WITH_TIMEOUT(f.isFinished(), 20000);
        }
        // 32 MiB fetched into 24: the budget evicted while both wrote; what is left is right.
        QVERIFY(Cache(cache).usage()->usedBytes <= 24 << 20);
        for (int i = 0; i < 2; ++i) {
            objects[i]->followOtherProcesses(); // learn what the budget's passes dropped
            QTest::qWait(100);
            for (const auto &[first, last] : objects[i]->presentChunks().setRuns(0, objects[i]->geometry().chunkCount() - 1)) {
                const ByteRange r = objects[i]->geometry().chunkSpan(first, last);
                auto bytes = objects[i]->read(r);
                QTRY_VERIFY_WITH_TIMEOUT(bytes.isFinished(), 20000);
                QVERIFY(bytes.result().ok());
                QVERIFY(*bytes.result() == contents[i].mid(r.begin, r.length()));
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestBudgetParts)
#include "tst_budgetparts.moc"
