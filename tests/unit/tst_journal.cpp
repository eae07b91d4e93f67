#include "journal.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace sparsescope;

class TestJournal : public QObject {
    Q_OBJECT
    static constexpr qint64 kChunks = 100;
    static constexpr qint64 kChunkSize = 4096;

    static QByteArray sample()
    {
        QByteArray j = journal::encode({JournalRecord::Header, 1, quint64(kChunkSize)});
        for (quint64 i = 0; i < 10; ++i)
            j += journal::encode({JournalRecord::Present, i, 1000 + i});
        j += journal::encode({JournalRecord::Evict, 3, 2}); // drops 3 and 4
        j += journal::encode({JournalRecord::Present, 50, 7});
        return j;
    }

private Q_SLOTS:
    void replaysRecords()
    {
        const JournalState s = journal::replay(sample(), kChunks, kChunkSize);
        QCOMPARE(s.droppedBytes, 0);
        QCOMPARE(s.present.count(), 9);
        QVERIFY(!s.present.test(3) && !s.present.test(4) && s.present.test(50));
        QCOMPARE(s.checksums.get(7), quint64(1007));
    }
    // A crash can cut the journal at any byte: every prefix must replay to exactly the records
    // that were completely written, never more, and a repaired file must end at a record boundary.
    void tornTailAtEveryByte()
    {
        const QByteArray full = sample();
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("journal"));
        for (qint64 cut = 0; cut <= full.size(); ++cut) {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write(full.left(cut));
            f.close();
            auto s = journal::load(path, kChunks, kChunkSize, /*repair=*/true);
            QVERIFY(s.ok());
            const qint64 whole = cut / journal::kRecordSize;
            const JournalState expect = journal::replay(full.left(whole * journal::kRecordSize), kChunks, kChunkSize);
            QCOMPARE(s->present.count(), expect.present.count());
            for (qint64 i = 0; i < kChunks; ++i)
                QCOMPARE(s->present.test(i), expect.present.test(i));
            QCOMPARE(QFileInfo(path).size() % journal::kRecordSize, 0);
            QVERIFY(QFileInfo(path).size() >= journal::kRecordSize); // a header always survives repair
        }
    }
    // A flipped bit anywhere ends the trusted prefix at the damaged record.
    void bitFlipEndsPrefix()
    {
        const QByteArray full = sample();
        for (qint64 byte = 0; byte < full.size(); byte += 7) {
            QByteArray damaged = full;
            damaged[byte] = char(damaged[byte] ^ 0x10);
            const JournalState s = journal::replay(damaged, kChunks, kChunkSize);
            const qint64 record = byte / journal::kRecordSize;
            QCOMPARE(s.validRecords, record);
        }
    }
    void rejectsForeignChunkSizeAndRange()
    {
        QCOMPARE(journal::replay(sample(), kChunks, 8192).validRecords, 0);
        QByteArray j = journal::encode({JournalRecord::Header, 1, quint64(kChunkSize)});
        j += journal::encode({JournalRecord::Present, 5000, 1}); // outside the object
        QCOMPARE(journal::replay(j, kChunks, kChunkSize).validRecords, 1);
    }
};

QTEST_GUILESS_MAIN(TestJournal)
#include "tst_journal.moc"
