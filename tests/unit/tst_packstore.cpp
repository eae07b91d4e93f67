// Packed storage in one process: the chunk codec, packing an entry and reading it back across
// loose and packed chunks, deduplication between entries, eviction and repack, damage found by
// verify, and a second store on the same entry that learns of the pack from the journal.
#include "chunkcodec.h"
#include "framecache.h"
#include "packstore.h"
#include "packwriter.h"
#include "sparsefilestore.h"

#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <sys/stat.h>
#include <thread>
#include <vector>

using namespace sparsescope;

namespace {
constexpr qint64 kChunk = 64 << 10;
constexpr qint64 kChunks = 24;
constexpr qint64 kSize = kChunks * kChunk - 1000; // last chunk short

// Chunk i: text (compressible) for i % 4 == 0, 1; random for 2; zeros for 3.
QByteArray chunkBytes(qint64 i, qint64 length, quint32 seed = 1)
{
    QByteArray b(length, '\0');
    if (i % 4 == 3)
        return b;
    if (i % 4 == 2) {
        QRandomGenerator g(seed * 1000 + quint32(i));
        for (qint64 k = 0; k < length; ++k)
            b[k] = char(g.bounded(256));
        return b;
    }
    QByteArray line;
    for (qint64 k = 0; b.size() >= 0 && k < length;) {
        line = QStringLiteral("%1 INFO request %2 served in %3 ms\n").arg(i).arg(k * 13 % 977).arg(k % 71).toLatin1();
        for (char ch : std::as_const(line))
            if (k < length)
                b[k++] = ch;
    }
    return b;
}

QByteArray objectBytes(quint32 seed = 1)
{
    QByteArray all;
    for (qint64 i = 0; i < kChunks; ++i)
        all += chunkBytes(i, std::min(kChunk, kSize - i * kChunk), seed);
    return all;
}

ObjectMeta meta(const QString &name)
{
    ObjectMeta m;
    m.source = QStringLiteral("http://example.test/") + name;
    m.size = kSize;
    m.validator = QStringLiteral("\"v1\"");
    m.chunkSize = kChunk;
    return m;
}

std::unique_ptr<SparseFileStore> filled(const QString &entry, const QString &name, const QByteArray &all)
{
    auto s = SparseFileStore::open(entry, meta(name), 1000);
    if (!s)
        return nullptr;
    for (qint64 i = 0; i < kChunks; ++i) {
        const ByteRange r = (*s)->geometry().chunkRange(i);
        if (!(*s)->writeChunk(i, QByteArrayView(all).sliced(r.begin, r.length())))
            return nullptr;
    }
    if (!(*s)->commit())
        return nullptr;
    return std::move(s).value();
}

qint64 allocated(const QString &path)
{
    struct stat st {};
    ::stat(QFile::encodeName(path).constData(), &st);
    return qint64(st.st_blocks) * 512;
}

qint64 packBytes(const QString &cache)
{
    qint64 n = 0;
    for (const QFileInfo &f : QDir(PackStore::packsDirectory(cache)).entryInfoList({QStringLiteral("pack-*")}, QDir::Files))
        n += allocated(f.absoluteFilePath());
    return n;
}
} // namespace

class TestPackStore : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void codecChoosesRawZstdOrZero()
    {
        const QByteArray zeros(kChunk, '\0');
        QCOMPARE(chunkcodec::encode(zeros)->kind, chunkcodec::Encoded::Kind::Zero);
        const QByteArray random = chunkBytes(2, kChunk);
        auto raw = chunkcodec::encode(random);
        QCOMPARE(raw->kind, chunkcodec::Encoded::Kind::Raw);
        QCOMPARE(raw->data, random);
        const QByteArray text = chunkBytes(0, kChunk);
        auto z = chunkcodec::encode(text);
        QCOMPARE(z->kind, chunkcodec::Encoded::Kind::Zstd);
        QCOMPARE(z->frames.size(), qsizetype(kChunk / chunkcodec::kFrameSize));
        QVERIFY(z->data.size() < text.size() / 4);
        // Each frame decompresses on its own; a damaged one is refused.
        QByteArray second(chunkcodec::kFrameSize, Qt::Uninitialized);
        QVERIFY(chunkcodec::decompressFrame(z->data.constData() + z->frames[0], z->frames[1], second.data(), second.size(), QStringLiteral("t")));
        QCOMPARE(second, text.mid(chunkcodec::kFrameSize, chunkcodec::kFrameSize));
        QByteArray damaged = z->data;
        damaged[z->frames[0] + 20] = char(damaged[z->frames[0] + 20] ^ 0x55);
        const Status bad = chunkcodec::decompressFrame(damaged.constData() + z->frames[0], z->frames[1], second.data(), second.size(), QStringLiteral("t"));
        QVERIFY(!bad);
        QCOMPARE(bad.error().kind, ErrorKind::Integrity);
        QCOMPARE(chunkcodec::framesFromBlob(chunkcodec::framesToBlob(z->frames)), z->frames);
    }

    void packedChunksReadAsBefore()
    {
        QTemporaryDir cache;
        const QString entry = cache.filePath(QStringLiteral("objects/aaaa"));
        const QByteArray all = objectBytes();
        auto s = filled(entry, QStringLiteral("a"), all);
        QVERIFY(s);
        // Chunks 5-8 are evicted before the pack: they stay missing; the rest moves.
        QVERIFY(s->evict(5, 8));
        auto writer = PackWriter::begin(cache.path(), 1000);
        QVERIFY2(writer, qPrintable(writer ? QString() : writer.error().message));
        auto packed = s->packInto(**writer);
        QVERIFY2(packed, qPrintable(packed ? QString() : packed.error().message));
        QCOMPARE(packed->chunks, kChunks - 4);
        QVERIFY(packed->storedBytes < packed->bytes / 2); // zeros take nothing, text compresses
        QCOMPARE(s->allocatedBytes(), qint64(0));          // the loose copies were punched out
        QCOMPARE(s->packedChunks().count(), kChunks - 4);
        // Reads across chunk and frame boundaries, and the short last chunk.
        for (const ByteRange r : {ByteRange{0, 100}, ByteRange{kChunk - 10, kChunk + 40000}, ByteRange{30000, 40000},
                                  ByteRange{9 * kChunk, kSize}, ByteRange{kSize - 1, kSize}}) {
            auto got = s->read(r);
            QVERIFY2(got, qPrintable(got ? QString() : got.error().message));
            QCOMPARE(*got, all.mid(r.begin, r.length()));
        }
        QVERIFY(!s->read({5 * kChunk, 5 * kChunk + 10})); // evicted ones stay missing
        // A chunk fetched again after packing lands loose; packed and loose mix in one read.
        QVERIFY(s->writeChunk(6, QByteArrayView(all).sliced(6 * kChunk, kChunk)));
        QVERIFY(s->commit());
        auto mixed = s->read({4 * kChunk + 5, 7 * kChunk - 5});
        QVERIFY(!mixed); // chunk 5 and 7 still missing
        auto loose = s->read({6 * kChunk - 0, 7 * kChunk});
        QVERIFY(loose);
        QCOMPARE(*loose, all.mid(6 * kChunk, kChunk));
        auto across = s->read({10 * kChunk - 7, 10 * kChunk + 7});
        QVERIFY(across);
        QCOMPARE(*across, all.mid(10 * kChunk - 7, 14));
        // Verify re-reads packed chunks from the packs.
        auto v = s->verify();
        QVERIFY(v);
        QCOMPARE(v->checkedChunks, kChunks - 3);
        QVERIFY(v->badChunks.isEmpty());
        s.reset();
        writer.value().reset();

        // Reopened alone (the journal replayed and compacted): packed chunks stay present, not
        // dropped as holes of the data file.
        auto again = SparseFileStore::open(entry, meta(QStringLiteral("a")), 1000);
        QVERIFY(again);
        QVERIFY((*again)->openWarnings().isEmpty());
        QCOMPARE((*again)->presentChunks().count(), kChunks - 3);
        QCOMPARE((*again)->packedChunks().count(), kChunks - 4);
        auto whole = (*again)->read({0, 5 * kChunk});
        QVERIFY(whole);
        QCOMPARE(*whole, all.left(5 * kChunk));
        // A sparse export takes packed chunks from the packs.
        QTemporaryFile out;
        QVERIFY(out.open());
        QVERIFY((*again)->copyPresentTo(out.handle(), {0, kSize}, false));
        out.seek(0);
        const QByteArray exported = out.readAll();
        QCOMPARE(exported.left(5 * kChunk), all.left(5 * kChunk));
        QCOMPARE(exported.mid(9 * kChunk), all.mid(9 * kChunk));
    }

    void sameContentIsStoredOnceAndRepackGivesSpaceBack()
    {
        QTemporaryDir cache;
        const QByteArray all = objectBytes();
        auto a = filled(cache.filePath(QStringLiteral("objects/aaaa")), QStringLiteral("a"), all);
        auto b = filled(cache.filePath(QStringLiteral("objects/bbbb")), QStringLiteral("b"), all);
        const QByteArray other = objectBytes(7); // different random chunks
        auto c = filled(cache.filePath(QStringLiteral("objects/cccc")), QStringLiteral("c"), other);
        QVERIFY(a && b && c);
        auto writer = PackWriter::begin(cache.path(), 1000);
        QVERIFY(writer);
        auto pa = a->packInto(**writer);
        auto pb = b->packInto(**writer);
        auto pc = c->packInto(**writer);
        QVERIFY(pa && pb && pc);
        QVERIFY(pa->storedBytes > 0);
        QCOMPARE(pb->storedBytes, qint64(0)); // every content of b is a's
        QVERIFY(pc->storedBytes > 0 && pc->storedBytes < pa->storedBytes); // only its random chunks are new
        QCOMPARE(*b->read({0, kSize}), all);
        QCOMPARE(*c->read({0, kSize}), other);
        auto stats = PackStore::stats(cache.path());
        QVERIFY(stats);
        QCOMPARE(stats->totals.chunkRows, 3 * kChunks);
        QVERIFY(stats->storedBytesByObject.value(QStringLiteral("aaaa")) * 2 <= pa->storedBytes + 2);

        // Evicting a: its contents are still b's, nothing to give back.
        QVERIFY(a->evict(0, kChunks - 1));
        auto r1 = (*writer)->repack();
        QVERIFY(r1);
        QCOMPARE(r1->forgottenChunks, kChunks);
        QCOMPARE(r1->droppedContents, qint64(0));
        // Evicting c too: its random contents go, and the pack shrinks to a's (b's) size.
        const qint64 before = packBytes(cache.path());
        QVERIFY(c->evict(0, kChunks - 1));
        auto r2 = (*writer)->repack();
        QVERIFY2(r2, qPrintable(r2 ? QString() : r2.error().message));
        QVERIFY(r2->droppedContents > 0);
        QCOMPARE(r2->rewrittenPacks, qint64(1));
        QVERIFY(packBytes(cache.path()) < before);
        QVERIFY(packBytes(cache.path()) <= (pa->storedBytes + 8191) / 4096 * 4096 + 4096);
        // b reads right from the rewritten pack, here and in a store opened afresh.
        QCOMPARE(*b->read({0, kSize}), all);
        b.reset();
        auto b2 = SparseFileStore::open(cache.filePath(QStringLiteral("objects/bbbb")), meta(QStringLiteral("b")), 1000);
        QVERIFY(b2);
        QCOMPARE(*(*b2)->read({0, kSize}), all);
    }

    void anotherStoreLearnsOfThePackFromTheJournal()
    {
        QTemporaryDir cache;
        const QString entry = cache.filePath(QStringLiteral("objects/aaaa"));
        const QByteArray all = objectBytes();
        auto writerStore = filled(entry, QStringLiteral("a"), all);
        QVERIFY(writerStore);
        // Another process's view of the entry (its own store, tag and descriptors).
        auto reader = SparseFileStore::open(entry, meta(QStringLiteral("a")), 1000);
        QVERIFY(reader);
        QCOMPARE(*(*reader)->read({0, kSize}), all);
        auto writer = PackWriter::begin(cache.path(), 1000);
        QVERIFY(writer);
        QVERIFY(writerStore->packInto(**writer));
        // Its next read sees the drop counter move, follows the journal and reads the packs.
        auto got = (*reader)->read({0, kSize});
        QVERIFY2(got, qPrintable(got ? QString() : got.error().message));
        QCOMPARE(*got, all);
        QCOMPARE((*reader)->packedChunks().count(), kChunks);
    }

    void verifyDropsDamagedPackedChunksAndPackStoresThemAgain()
    {
        QTemporaryDir cache;
        const QString entry = cache.filePath(QStringLiteral("objects/aaaa"));
        const QByteArray all = objectBytes();
        auto s = filled(entry, QStringLiteral("a"), all);
        QVERIFY(s);
        {
            auto writer = PackWriter::begin(cache.path(), 1000);
            QVERIFY(writer && s->packInto(**writer));
        }
        // Damage chunk 1 (text, compressed) in the pack file.
        auto where = PackStore::forCache(cache.path())->locate(QStringLiteral("aaaa"), 1);
        QVERIFY(where);
        QCOMPARE(where->kind, chunkcodec::Encoded::Kind::Zstd);
        QFile pack(PackStore::packPath(cache.path(), where->pack));
        QVERIFY(pack.open(QIODevice::ReadWrite));
        pack.seek(where->offset + where->length / 2);
        const char flipped = char(pack.read(1).at(0) ^ 0x40);
        pack.seek(where->offset + where->length / 2);
        pack.write(&flipped, 1);
        pack.close();
        auto v = s->verify();
        QVERIFY(v);
        QCOMPARE(v->badChunks, QList<qint64>{1});
        QVERIFY(!s->isPresent(1));
        // Fetched again, packed again: a good copy replaces the damaged content.
        QVERIFY(s->writeChunk(1, QByteArrayView(all).sliced(kChunk, kChunk)));
        QVERIFY(s->commit());
        {
            auto writer = PackWriter::begin(cache.path(), 1000);
            QVERIFY(writer);
            auto again = s->packInto(**writer);
            QVERIFY(again);
            QCOMPARE(again->chunks, qint64(1));
            QVERIFY(again->storedBytes > 0);
            auto bad = (*writer)->verifyContents();
            QVERIFY(bad);
            QVERIFY(bad->isEmpty());
        }
        auto v2 = s->verify();
        QVERIFY(v2 && v2->badChunks.isEmpty());
        QCOMPARE(*s->read({0, kSize}), all);
    }

    void readersInThreadsWhileAnotherStorePacksEvictsAndRepacks()
    {
        // Four reader threads on one store; on another store of the entry (another process's
        // view), rounds of pack, evict of a span, fetch again, repack. Every read either returns
        // the right bytes or fails (evicted meanwhile, or not yet known present: the engine would
        // claim and learn it); it never returns wrong ones. (Also under TSan.)
        QTemporaryDir cache;
        const QString entry = cache.filePath(QStringLiteral("objects/aaaa"));
        const QByteArray all = objectBytes();
        auto owner = filled(entry, QStringLiteral("a"), all);
        QVERIFY(owner);
        auto readerStore = SparseFileStore::open(entry, meta(QStringLiteral("a")), 1000);
        QVERIFY(readerStore);
        SparseFileStore &reader = **readerStore;
        std::atomic<bool> stop{false};
        std::atomic<qint64> good{0}, evicted{0}, wrong{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&, t] {
                QRandomGenerator rng(quint32(t + 1));
                while (!stop.load()) {
                    const qint64 at = rng.bounded(kSize - 1);
                    const qint64 len = std::min<qint64>(kSize - at, 1 + rng.bounded(3 * kChunk));
                    auto got = reader.read({at, at + len});
                    if (!got)
                        ++evicted;
                    else if (*got == all.mid(at, len))
                        ++good;
                    else
                        ++wrong;
                }
            });
        for (int round = 0; round < 6; ++round) {
            {
                auto writer = PackWriter::begin(cache.path(), 5000);
                QVERIFY(writer);
                QVERIFY(owner->packInto(**writer));
            }
            const qint64 a = round % 5, b = a + 3;
            QVERIFY(owner->evict(a, b));
            for (qint64 c = a; c <= b; ++c) {
                const ByteRange r = owner->geometry().chunkRange(c);
                QVERIFY(owner->writeChunk(c, QByteArrayView(all).sliced(r.begin, r.length())));
            }
            QVERIFY(owner->commit());
            auto writer = PackWriter::begin(cache.path(), 5000);
            QVERIFY(writer);
            QVERIFY((*writer)->repack());
        }
        stop = true;
        for (auto &t : threads)
            t.join();
        qInfo("%lld reads right, %lld refused as evicted meanwhile, %lld wrong", good.load(), evicted.load(), wrong.load());
        QCOMPARE(wrong.load(), qint64(0));
        QVERIFY(good.load() > 0);
        QVERIFY(reader.refresh()); // the chunks fetched again are learnt from the journal (the engine's claim does it)
        auto last = reader.read({0, kSize});
        QVERIFY2(last, qPrintable(last ? QString() : last.error().message));
        QCOMPARE(*last, all);
    }

    void onePackerAtATime()
    {
        QTemporaryDir cache;
        auto first = PackWriter::begin(cache.path(), 1000);
        QVERIFY(first);
        QString told;
        auto second = PackWriter::begin(cache.path(), 200, [&](const QString &why) { told = why; });
        QVERIFY(!second);
        QVERIFY2(second.error().message.contains(QStringLiteral("another pack")), qPrintable(second.error().message));
        QVERIFY2(told.contains(QStringLiteral("waiting")), qPrintable(told));
        first.value().reset();
        QVERIFY(PackWriter::begin(cache.path(), 200));
    }

    void frameCacheKeepsRecentFramesWithinItsSize()
    {
        constexpr qint64 frame = chunkcodec::kFrameSize;
        FrameCache frames(64 * frame); // 4 frames per shard
        auto plainOf = [](qint64 i) { return QByteArray(frame, char('a' + i % 26)); };
        for (qint64 i = 0; i < 1000; ++i)
            frames.insert({7, i * 9000}, plainOf(i));
        qint64 kept = 0;
        for (qint64 i = 0; i < 1000; ++i) {
            const QByteArray f = frames.find({7, i * 9000});
            if (!f.isNull()) {
                QCOMPARE(f, plainOf(i));
                ++kept;
            }
        }
        QVERIFY2(kept > 0 && kept <= 64, qPrintable(QString::number(kept)));
        QCOMPARE(frames.find({7, 999 * 9000}), plainOf(999)); // the last one is kept
        QVERIFY(frames.find({8, 999 * 9000}).isNull());       // another pack's frame is not
        // A frame found stays readable after the cache lets it go (readers copy outside locks).
        const QByteArray held = frames.find({7, 999 * 9000});
        frames.clear();
        QVERIFY(frames.find({7, 999 * 9000}).isNull());
        QCOMPARE(held, plainOf(999));

        // Readers on two threads, inserting and finding the same frames.
        std::atomic<int> wrong{0};
        auto reader = [&](int seed) {
            for (qint64 i = 0; i < 20000; ++i) {
                const qint64 n = (i * 7 + seed) % 200;
                const QByteArray f = frames.find({1, n});
                if (f.isNull())
                    frames.insert({1, n}, plainOf(n));
                else if (f != plainOf(n))
                    ++wrong;
            }
        };
        std::thread other(reader, 3);
        reader(5);
        other.join();
        QCOMPARE(wrong.load(), 0);

        QVERIFY(FrameCache::defaultBytes() >= FrameCache::kMinBytes && FrameCache::defaultBytes() <= FrameCache::kMaxBytes);
        qputenv("SPARSESCOPE_PACK_CACHE_MB", "3");
        QCOMPARE(FrameCache::configuredBytes(), qint64(3) << 20);
        qunsetenv("SPARSESCOPE_PACK_CACHE_MB");
        QCOMPARE(FrameCache::configuredBytes(), FrameCache::defaultBytes());
    }
};

QTEST_GUILESS_MAIN(TestPackStore)
#include "tst_packstore.moc"
