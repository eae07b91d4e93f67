// IndexBlock, the packed form of the archive index's entries: every field survives a round trip
// (negative, large and absent values, links, non-ASCII paths); a lookup by names selects each
// name and what lies below it, as `extract` names entries; and damaged bytes are refused, never
// read past or turned into entries that were not stored.
#include "indexblock.h"

#include <QtTest>

using namespace sparsescope;

namespace {
ArchiveEntry entry(int index, const QString &path)
{
    ArchiveEntry e;
    e.index = index;
    e.path = path;
    e.size = 1000 + index;
    e.mtime = 1700000000 + index;
    e.mode = 0644;
    e.span = ByteRange{512 * qint64(index), 512 * qint64(index) + 1536};
    return e;
}

bool sameEntry(const ArchiveEntry &a, const ArchiveEntry &b)
{
    return a.index == b.index && a.path == b.path && a.type == b.type && a.size == b.size &&
           a.compressedSize == b.compressedSize && a.mtime == b.mtime && a.mode == b.mode && a.linkTarget == b.linkTarget &&
           a.span.has_value() == b.span.has_value() && (!a.span || *a.span == *b.span) && a.complete == b.complete &&
           a.method == b.method && a.crc32 == b.crc32;
}

QStringList pathsOf(const QList<ArchiveEntry> &entries)
{
    QStringList paths;
    for (const ArchiveEntry &e : entries)
        paths << e.path;
    return paths;
}
} // namespace

class TestIndexBlock : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void everyFieldSurvives()
    {
        QList<ArchiveEntry> in;
        in << entry(0, QStringLiteral("plain.txt"));
        ArchiveEntry odd = entry(1, QStringLiteral("ünïcode/日本語 name"));
        odd.type = ArchiveEntry::Type::Symlink;
        odd.linkTarget = QStringLiteral("../target ✓");
        odd.size = 0;
        odd.compressedSize = -1;
        odd.mtime = -86400 * 365; // before the epoch
        odd.mode = -1;
        odd.span.reset();
        odd.complete = false;
        in << odd;
        ArchiveEntry zip = entry(70000, QStringLiteral("big.bin"));
        zip.size = qint64(1) << 40;
        zip.compressedSize = (qint64(1) << 40) - 12345;
        zip.method = 8;
        zip.crc32 = 0xfedcba98;
        zip.span = ByteRange{(qint64(1) << 41), (qint64(1) << 41) + zip.compressedSize + 80};
        in << zip;
        ArchiveEntry dir = entry(70001, QStringLiteral("dir/"));
        dir.type = ArchiveEntry::Type::Directory;
        in << dir;

        IndexBlock block;
        for (const ArchiveEntry &e : in)
            block.add(e);
        QCOMPARE(block.count(), int(in.size()));
        QList<ArchiveEntry> out;
        QVERIFY(IndexBlock::decode(block.bytes(), out));
        QCOMPARE(out.size(), in.size());
        for (int i = 0; i < in.size(); ++i)
            QVERIFY2(sameEntry(out[i], in[i]), qPrintable(in[i].path));

        block.clear();
        QCOMPARE(block.count(), 0);
        out.clear();
        QVERIFY(IndexBlock::decode(block.bytes(), out));
        QVERIFY(out.isEmpty());
    }

    void namesSelectThemselvesAndWhatIsBelow()
    {
        const QStringList paths = {QStringLiteral("./a/"), QStringLiteral("./a/b.txt"), QStringLiteral("a/c/d"),
                                   QStringLiteral("ab"), QStringLiteral("ab/x"), QStringLiteral("b"), QStringLiteral("x/a"),
                                   QStringLiteral("a0")};
        IndexBlock block;
        for (int i = 0; i < paths.size(); ++i)
            block.add(entry(i, paths[i]));
        // The block's names tell whether decoding it can select anything, as decode() then does.
        auto select = [&](QSet<QByteArray> names) {
            QList<ArchiveEntry> out;
            if (!IndexBlock::decode(block.bytes(), out, &names))
                return QStringList{QStringLiteral("<damaged>")};
            if (IndexBlock::mayHold(block.names(), names) != !out.isEmpty())
                return QStringList{QStringLiteral("<names disagree>")};
            return pathsOf(out);
        };
        QCOMPARE(select({"a"}), (QStringList{QStringLiteral("./a/"), QStringLiteral("./a/b.txt"), QStringLiteral("a/c/d")}));
        QCOMPARE(select({"a/c"}), QStringList{QStringLiteral("a/c/d")});
        QCOMPARE(select({"ab", "b"}), (QStringList{QStringLiteral("ab"), QStringLiteral("ab/x"), QStringLiteral("b")}));
        QCOMPARE(select({"nothing"}), QStringList{});
        QCOMPARE(select({"a/b"}), QStringList{}); // a/b.txt is not below a/b
        QCOMPARE(select({"x"}), QStringList{QStringLiteral("x/a")});
        QCOMPARE(select({"a/b.txt"}), QStringList{QStringLiteral("./a/b.txt")});
        // Many names are looked up by hashing each path's ancestors instead: the same answers.
        QSet<QByteArray> many = {"a/c", "b", "n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8"};
        QCOMPARE(select(many), (QStringList{QStringLiteral("a/c/d"), QStringLiteral("b")}));
        many.insert("a");
        QCOMPARE(select(many), (QStringList{QStringLiteral("./a/"), QStringLiteral("./a/b.txt"), QStringLiteral("a/c/d"), QStringLiteral("b")}));
    }

    void damagedBytesAreRefused()
    {
        IndexBlock block;
        for (int i = 0; i < 50; ++i)
            block.add(entry(i, QStringLiteral("dir/file-%1").arg(i)));
        const QByteArray whole = block.bytes();
        // Cut short anywhere inside the last record: refused (a cut between records is a shorter
        // block, which the index's entry count catches).
        QList<ArchiveEntry> all;
        QVERIFY(IndexBlock::decode(whole, all));
        QByteArray upToLast;
        {
            IndexBlock first49;
            for (int i = 0; i < 49; ++i)
                first49.add(entry(i, QStringLiteral("dir/file-%1").arg(i)));
            upToLast = first49.bytes();
        }
        QVERIFY(whole.startsWith(upToLast));
        for (qsizetype cut = upToLast.size() + 1; cut < whole.size(); ++cut) {
            QList<ArchiveEntry> out;
            QVERIFY2(!IndexBlock::decode(QByteArrayView(whole).first(cut), out), qPrintable(QString::number(cut)));
            QVERIFY(out.size() <= 49);
        }
        // Flipped bytes: never a crash (ASan and UBSan watch in CI), and a block that still
        // decodes holds entries as add() writes them: written again, they decode the same.
        QRandomGenerator rng(7);
        int refused = 0;
        for (int trial = 0; trial < 2000; ++trial) {
            QByteArray bad = whole;
            for (int k = 0; k < 1 + int(rng.bounded(4)); ++k)
                bad[rng.bounded(int(bad.size()))] = char(rng.bounded(256));
            QList<ArchiveEntry> out;
            if (!IndexBlock::decode(bad, out)) {
                ++refused;
                continue;
            }
            IndexBlock again;
            for (const ArchiveEntry &e : out)
                again.add(e);
            QList<ArchiveEntry> twice;
            QVERIFY(IndexBlock::decode(again.bytes(), twice));
            QCOMPARE(twice.size(), out.size());
            for (qsizetype i = 0; i < out.size(); ++i)
                QVERIFY(sameEntry(twice[i], out[i]));
        }
        QVERIFY(refused > 0); // most damage is caught by the lengths and flags
        // A varint that never ends and a length past the end.
        QList<ArchiveEntry> out;
        QVERIFY(!IndexBlock::decode(QByteArray(12, char(0xff)), out));
        QVERIFY(!IndexBlock::decode(QByteArray("\x05" "ab", 3), out));
        QVERIFY(out.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestIndexBlock)
#include "tst_indexblock.moc"
