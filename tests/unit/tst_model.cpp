// Model-based test of the engine: random batches of concurrent read / prefetch / evict / export
// (some reads cancelled) against an in-memory model of the object's coverage, on a local-file
// source. After every batch: every read returned the true bytes (or was cancelled), every export
// holds the true bytes (full) or true bytes and zeros (sparse), every chunk the engine calls present
// holds the true bytes, and the coverage equals the model wherever the batch's order does not
// matter; now and then the object is closed and reopened and must come back with the same coverage.
#include "awaitfuture.h"
#include "nginxfixture.h"
#include "sparseobject.h"

#include <QFutureSynchronizer>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>

#include <vector>

using namespace sparsescope;
using namespace sparsescope::test;

namespace {
constexpr qint64 kChunk = 16 << 10;
constexpr qint64 kSize = 128 * kChunk - 777; // a short last chunk
} // namespace

class TestModel : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QByteArray m_truth = patternBytes(kSize, 77);
    QString m_path;

    EngineConfig config() const
    {
        EngineConfig c;
        c.cacheDir = m_dir.filePath(QStringLiteral("cache"));
        c.chunkSize = kChunk;
        c.source.connections = 3;
        c.planner.maxRequestBytes = 8 * kChunk;
        return c;
    }

    static ByteRange randomRange(QRandomGenerator &rng)
    {
        const qint64 begin = rng.bounded(quint32(kSize));
        const qint64 length = 1 + rng.bounded(quint32(std::min<qint64>(kSize - begin, rng.bounded(4) == 0 ? kSize : 5 * kChunk)));
        return {begin, begin + length};
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_path = m_dir.filePath(QStringLiteral("object.bin"));
        QFile f(m_path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(m_truth);
    }

    void randomConcurrentOperations_data()
    {
        QTest::addColumn<quint32>("seed");
        if (qEnvironmentVariableIsSet("MODEL_SEED")) { // repeat one sequence
            QTest::newRow("MODEL_SEED") << quint32(qEnvironmentVariableIntValue("MODEL_SEED"));
            return;
        }
        for (quint32 seed = 1; seed <= 6; ++seed)
            QTest::addRow("seed %u", seed) << seed;
    }
    void randomConcurrentOperations()
    {
        QFETCH(quint32, seed);
        QDir(config().cacheDir).removeRecursively();
        QRandomGenerator rng(seed);
        auto opened = awaitFuture(SparseObject::open(m_path, config()));
        QVERIFY(opened.ok());
        std::shared_ptr<SparseObject> o = std::move(opened).value(); // the only owner: reopening needs it gone
        const ChunkGeometry g = o->geometry();
        std::vector<bool> model(size_t(g.chunkCount()), false);
        // Chunks a cancelled read touched: its request may still land them in a later batch, so
        // they are either until they are no longer in flight.
        std::vector<bool> uncertain(size_t(g.chunkCount()), false);
        int exports = 0;

        for (int step = 0; step < 150; ++step) {
            struct Op {
                int kind; // 0 read, 1 prefetch, 2 evict, 3 export full, 4 export sparse
                ByteRange range;
                bool cancel = false;
                QString path;
                QFuture<Result<QByteArray>> read;
                QFuture<Result<qint64>> other;
            };
            // Chunks still in flight from an earlier batch (a cancelled read's request) are left
            // alone by evictions and may land during this one: either outcome is right for them.
            const ChunkBitmap inFlightBefore = o->inFlightChunkMap();
            for (qint64 c = inFlightBefore.nextSet(0); c < inFlightBefore.size(); c = inFlightBefore.nextSet(c + 1))
                uncertain[size_t(c)] = true;
            std::vector<Op> ops(1 + rng.bounded(4));
            std::vector<int> fetched(size_t(g.chunkCount()), 0), evicted(size_t(g.chunkCount()), 0), maybe(size_t(g.chunkCount()), 0);
            bool anyEvict = false;
            for (Op &op : ops) {
                const quint32 r = rng.bounded(100);
                op.kind = r < 45 ? 0 : r < 70 ? 1 : r < 90 ? 2 : r < 95 ? 3 : 4;
                op.range = op.kind >= 3 ? ByteRange{0, kSize} : randomRange(rng);
                op.cancel = op.kind == 0 && rng.bounded(8) == 0;
                anyEvict = anyEvict || op.kind == 2;
                const auto [first, last] = g.chunksTouching(op.range);
                for (qint64 c = first; c <= last; ++c) {
                    if (op.cancel) { // a cancelled read may or may not have fetched its chunks
                        ++maybe[size_t(c)];
                        uncertain[size_t(c)] = true;
                    }
                    else if (op.kind == 0 || op.kind == 1 || op.kind == 3)
                        ++fetched[size_t(c)];
                    else if (op.kind == 2)
                        ++evicted[size_t(c)];
                }
                switch (op.kind) {
                case 0: op.read = o->read(op.range); break;
                case 1: op.other = o->prefetch({op.range}); break;
                case 2: op.other = o->evict({op.range}); break;
                default:
                    op.path = m_dir.filePath(QStringLiteral("export%1").arg(++exports));
                    op.other = o->exportTo(op.path, op.kind == 3 ? ExportMode::Full : ExportMode::Sparse);
                }
                if (op.cancel)
                    op.read.cancel();
                if (qEnvironmentVariableIsSet("MODEL_TRACE"))
                    qInfo("step %d: op %d bytes %s%s", step, op.kind, qPrintable(op.range.toInclusiveString()), op.cancel ? " (cancelled)" : "");
            }
            for (Op &op : ops) {
                if (op.kind == 0) {
                    const Result<QByteArray> got = awaitFuture(op.read);
                    if (op.cancel && !got.ok())
                        continue;
                    QVERIFY2(got.ok(), qPrintable(QStringLiteral("step %1: %2").arg(step).arg(got.ok() ? QString() : got.error().message)));
                    QVERIFY2(got.value() == m_truth.mid(op.range.begin, op.range.length()), qPrintable(QStringLiteral("step %1: wrong bytes").arg(step)));
                    continue;
                }
                const Result<qint64> done = awaitFuture(op.other);
                if (op.kind == 3 && anyEvict && !done.ok() && done.error().kind == ErrorKind::Integrity &&
                    done.error().message.contains(QStringLiteral("evicted"))) {
                    QVERIFY(!QFile::exists(op.path)); // the race with an evict is reported, nothing half-written
                    continue;
                }
                QVERIFY2(done.ok(), qPrintable(QStringLiteral("step %1 op %2: %3").arg(step).arg(op.kind).arg(done.ok() ? QString() : done.error().message)));
                if (op.kind >= 3) {
                    QFile f(op.path);
                    QVERIFY(f.open(QIODevice::ReadOnly));
                    const QByteArray bytes = f.readAll();
                    QCOMPARE(bytes.size(), kSize);
                    for (qint64 c = 0; c < g.chunkCount(); ++c) {
                        const ByteRange r = g.chunkRange(c);
                        const QByteArray part = bytes.mid(r.begin, r.length());
                        const bool right = part == m_truth.mid(r.begin, r.length());
                        QVERIFY2(right || (op.kind == 4 && part == QByteArray(r.length(), '\0')),
                                 qPrintable(QStringLiteral("step %1: export chunk %2 wrong").arg(step).arg(c)));
                    }
                    f.remove();
                }
            }
            // The model: fetched chunks are present, evicted ones absent, untouched ones unchanged;
            // where a fetch and an evict raced, or only a cancelled read touched a chunk, either
            // outcome is right.
            const ChunkBitmap inFlight = o->inFlightChunkMap(); // first: what is not in flight now stays put
            const ChunkBitmap present = o->presentChunks();
            for (qint64 c = 0; c < g.chunkCount(); ++c) {
                const size_t i = size_t(c);
                if ((evicted[i] && (fetched[i] || maybe[i])) || (maybe[i] && !fetched[i] && !evicted[i]) || uncertain[i])
                    model[i] = present.test(c);
                else if (fetched[i])
                    model[i] = true;
                else if (evicted[i])
                    model[i] = false;
                QVERIFY2(present.test(c) == model[i], qPrintable(QStringLiteral("step %1: chunk %2 is %3, the model says %4 (in flight before: %5, after: %6)")
                                                                     .arg(step).arg(c).arg(present.test(c)).arg(model[i])
                                                                     .arg(inFlightBefore.test(c)).arg(inFlight.test(c))));
                if (!inFlight.test(c))
                    uncertain[i] = false;
                if (present.test(c)) {
                    const auto bytes = o->readPresent(g.chunkRange(c));
                    QVERIFY(bytes && bytes->ok());
                    QVERIFY2(bytes->value() == m_truth.mid(g.chunkRange(c).begin, g.chunkRange(c).length()),
                             qPrintable(QStringLiteral("step %1: present chunk %2 holds wrong bytes (%3 of them zero)")
                                            .arg(step).arg(c).arg(bytes->value().count('\0'))));
                }
            }
            if (step % 25 == 24) { // close and reopen: the durable coverage is the model
                QVERIFY(awaitFuture(o->flush()).ok());
                o.reset();
                EngineConfig c = config();
                c.lockWaitMs = 3000;
                auto again = awaitFuture(SparseObject::open(m_path, c));
                QVERIFY2(again.ok(), qPrintable(again.ok() ? QString() : again.error().message));
                o = std::move(again).value();
                const ChunkBitmap reopened = o->presentChunks();
                for (qint64 c = 0; c < g.chunkCount(); ++c) {
                    if (uncertain[size_t(c)]) // cancelled on close, or landed just before it
                        model[size_t(c)] = reopened.test(c);
                    QVERIFY2(reopened.test(c) == model[size_t(c)], qPrintable(QStringLiteral("after reopen: chunk %1").arg(c)));
                    uncertain[size_t(c)] = false;
                }
            }
        }
    }
};

QTEST_GUILESS_MAIN(TestModel)
#include "tst_model.moc"
