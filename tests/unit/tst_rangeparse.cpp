#include "rangeparse.h"

#include <QtTest>

using namespace sparsescope;

class TestRangeParse : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void ranges_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<qint64>("size");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<qint64>("begin");
        QTest::addColumn<qint64>("end");
        QTest::newRow("inclusive") << "0-99" << qint64(1000) << true << qint64(0) << qint64(100);
        QTest::newRow("single byte") << "5-5" << qint64(10) << true << qint64(5) << qint64(6);
        QTest::newRow("open end") << "900-" << qint64(1000) << true << qint64(900) << qint64(1000);
        QTest::newRow("last byte") << "999-999" << qint64(1000) << true << qint64(999) << qint64(1000);
        QTest::newRow("unknown size") << "10-" << qint64(-1) << true << qint64(10) << qint64(-1);
        QTest::newRow("end before start") << "10-5" << qint64(1000) << false << qint64(0) << qint64(0);
        QTest::newRow("past end") << "0-1000" << qint64(1000) << false << qint64(0) << qint64(0);
        QTest::newRow("start past end") << "1000-" << qint64(1000) << false << qint64(0) << qint64(0);
        QTest::newRow("no dash") << "100" << qint64(1000) << false << qint64(0) << qint64(0);
        QTest::newRow("negative") << "-5" << qint64(1000) << false << qint64(0) << qint64(0);
        QTest::newRow("garbage") << "a-b" << qint64(1000) << false << qint64(0) << qint64(0);
        QTest::newRow("overflow") << "0-99999999999999999999" << qint64(-1) << false << qint64(0) << qint64(0);
        QTest::newRow("max end") << "0-9223372036854775807" << qint64(-1) << false << qint64(0) << qint64(0);
    }
    void ranges()
    {
        QFETCH(QString, text);
        QFETCH(qint64, size);
        QFETCH(bool, ok);
        auto r = parseInclusiveRange(text, size);
        QCOMPARE(r.ok(), ok);
        if (ok) {
            QFETCH(qint64, begin);
            QFETCH(qint64, end);
            QCOMPARE(r->begin, begin);
            QCOMPARE(r->end, end);
        } else {
            QVERIFY(r.error().message.contains(text));
            QCOMPARE(r.error().kind, ErrorKind::Usage);
        }
    }
    void sizes_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<qint64>("bytes");
        QTest::newRow("plain") << "4096" << qint64(4096);
        QTest::newRow("K") << "64K" << qint64(65536);
        QTest::newRow("KiB") << "64KiB" << qint64(65536);
        QTest::newRow("m lower") << "1m" << qint64(1 << 20);
        QTest::newRow("G") << "2G" << (qint64(2) << 30);
        QTest::newRow("zero") << "0" << qint64(-1);
        QTest::newRow("empty") << "" << qint64(-1);
        QTest::newRow("junk") << "12Q" << qint64(-1);
        QTest::newRow("overflow") << "99999999999G" << qint64(-1);
    }
    void sizes()
    {
        QFETCH(QString, text);
        QFETCH(qint64, bytes);
        auto r = parseSize(text);
        QCOMPARE(r.ok(), bytes > 0);
        if (bytes > 0)
            QCOMPARE(*r, bytes);
    }
    void toInclusive()
    {
        QCOMPARE(ByteRange({0, 100}).toInclusiveString(), QStringLiteral("0-99"));
        QCOMPARE(ByteRange({7, 7}).toInclusiveString(), QStringLiteral("empty"));
    }
};

QTEST_GUILESS_MAIN(TestRangeParse)
#include "tst_rangeparse.moc"
