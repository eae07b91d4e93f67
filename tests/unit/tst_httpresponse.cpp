#include "httpresponse.h"

#include <QtTest>

using namespace sparsescope;
using namespace sparsescope::http;

class TestHttpResponse : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void contentRange_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<bool>("ok");
        QTest::newRow("full") << QByteArray("bytes 0-99/1000") << true;
        QTest::newRow("unknown total") << QByteArray("bytes 5-9/*") << true;
        QTest::newRow("unsatisfied form") << QByteArray("bytes */1000") << false;
        QTest::newRow("last before first") << QByteArray("bytes 10-5/1000") << false;
        QTest::newRow("last past total") << QByteArray("bytes 0-1000/1000") << false;
        QTest::newRow("wrong unit") << QByteArray("items 0-1/2") << false;
        QTest::newRow("negative") << QByteArray("bytes -1-5/10") << false;
        QTest::newRow("empty") << QByteArray() << false;
        QTest::newRow("huge") << QByteArray("bytes 0-1/99999999999999999999999") << false;
    }
    void contentRange()
    {
        QFETCH(QByteArray, value);
        QFETCH(bool, ok);
        QCOMPARE(parseContentRange(value).ok(), ok);
    }
    void check_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("contentRange");
        QTest::addColumn<QByteArray>("contentLength");
        QTest::addColumn<QByteArray>("encoding");
        QTest::addColumn<QByteArray>("type");
        QTest::addColumn<int>("expect"); // -1 ok, else ErrorKind
        // Asked: bytes 100-199 of a 1000-byte object.
        QTest::newRow("good") << 206 << QByteArray("bytes 100-199/1000") << QByteArray("100") << QByteArray() << QByteArray("application/octet-stream") << -1;
        QTest::newRow("identity ok") << 206 << QByteArray("bytes 100-199/1000") << QByteArray() << QByteArray("identity") << QByteArray() << -1;
        QTest::newRow("200 whole") << 200 << QByteArray() << QByteArray("1000") << QByteArray() << QByteArray() << int(ErrorKind::Changed);
        QTest::newRow("shifted start") << 206 << QByteArray("bytes 0-99/1000") << QByteArray("100") << QByteArray() << QByteArray() << int(ErrorKind::Upstream);
        QTest::newRow("short end") << 206 << QByteArray("bytes 100-150/1000") << QByteArray("51") << QByteArray() << QByteArray() << int(ErrorKind::Upstream);
        QTest::newRow("other total") << 206 << QByteArray("bytes 100-199/2000") << QByteArray("100") << QByteArray() << QByteArray() << int(ErrorKind::Changed);
        QTest::newRow("length mismatch") << 206 << QByteArray("bytes 100-199/1000") << QByteArray("99") << QByteArray() << QByteArray() << int(ErrorKind::Upstream);
        QTest::newRow("malformed length") << 206 << QByteArray("bytes 100-199/1000") << QByteArray("1e2") << QByteArray() << QByteArray() << int(ErrorKind::Upstream);
        QTest::newRow("gzip") << 206 << QByteArray("bytes 100-199/1000") << QByteArray("100") << QByteArray("gzip") << QByteArray() << int(ErrorKind::Upstream);
        QTest::newRow("multipart") << 206 << QByteArray("bytes 100-199/1000") << QByteArray() << QByteArray() << QByteArray("multipart/byteranges; boundary=x") << int(ErrorKind::Upstream);
        QTest::newRow("malformed range") << 206 << QByteArray("bytes 100-") << QByteArray("100") << QByteArray() << QByteArray() << int(ErrorKind::Upstream);
        QTest::newRow("416") << 416 << QByteArray("bytes */1000") << QByteArray() << QByteArray() << QByteArray() << int(ErrorKind::Upstream);
    }
    void check()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, contentRange);
        QFETCH(QByteArray, contentLength);
        QFETCH(QByteArray, encoding);
        QFETCH(QByteArray, type);
        QFETCH(int, expect);
        RangeResponse r{status, contentRange, contentLength, encoding, type};
        const Status st = checkRangeResponse(QStringLiteral("http://h/o"), {100, 200}, 1000, r);
        if (expect < 0) {
            QVERIFY2(st.ok(), qPrintable(st.ok() ? QString() : st.error().message));
        } else {
            QVERIFY(!st.ok());
            QCOMPARE(int(st.error().kind), expect);
            QVERIFY2(st.error().message.contains(QStringLiteral("http://h/o bytes 100-199")), qPrintable(st.error().message));
        }
    }
    void clampedAtEnd()
    {
        // Asked past the end is never planned, but a server clamping the last range at the end is fine.
        RangeResponse r{206, "bytes 900-999/1000", "100", {}, {}};
        QVERIFY(checkRangeResponse(QStringLiteral("o"), {900, 1000}, 1000, r).ok());
    }
    void ifRange()
    {
        const QByteArray date("Mon, 01 Jan 2024 00:00:00 GMT");
        QCOMPARE(validatorOf("\"abc\"", date), QStringLiteral("\"abc\""));
        QCOMPARE(validatorOf("W/\"abc\"", date), QStringLiteral("W/\"abc\""));
        QCOMPARE(validatorOf("", date), QString::fromLatin1(date));
        QCOMPARE(ifRangeFor(QStringLiteral("\"abc\"")), QByteArray("\"abc\""));
        QCOMPARE(ifRangeFor(QString::fromLatin1(date)), date);
        // RFC 9110 §13.1.5: a weak ETag must not be used in If-Range (nor the date beside it: Apache
        // answers 200 to a date less than a second old).
        QCOMPARE(ifRangeFor(QStringLiteral("W/\"abc\"")), QByteArray());
        // §8.8.3.2 weak comparison: Apache's W/"x" of a fresh file and its later "x" are the same.
        QVERIFY(sameValidator(QStringLiteral("W/\"abc\""), QStringLiteral("\"abc\"")));
        QVERIFY(sameValidator(QStringLiteral("\"abc\""), QStringLiteral("W/\"abc\"")));
        QVERIFY(!sameValidator(QStringLiteral("W/\"abc\""), QStringLiteral("W/\"abd\"")));
        QVERIFY(sameValidator(QString::fromLatin1(date), QString::fromLatin1(date)));
        QVERIFY(!sameValidator(QString::fromLatin1(date), QStringLiteral("Tue, 02 Jan 2024 00:00:00 GMT")));
        // A weak ETag's strong form may replace it; nothing else does.
        QVERIFY(strengthens(QStringLiteral("W/\"abc\""), QStringLiteral("\"abc\"")));
        QVERIFY(!strengthens(QStringLiteral("\"abc\""), QStringLiteral("W/\"abc\"")));
        QVERIFY(!strengthens(QStringLiteral("W/\"abc\""), QStringLiteral("\"abd\"")));
        QVERIFY(!strengthens(QStringLiteral("W/\"abc\""), QStringLiteral("W/\"abc\"")));
        QVERIFY(!strengthens(QString::fromLatin1(date), QStringLiteral("\"abc\"")));
        QCOMPARE(rangeHeader({10, 20}), QByteArray("bytes=10-19"));
    }
    void contentLengthAfterARedirect()
    {
        QCOMPARE(finalContentLength("145, 262144"), QByteArray("262144")); // as Qt 6.4 joins them
        QCOMPARE(finalContentLength("262144"), QByteArray("262144"));
        QCOMPARE(finalContentLength(""), QByteArray());
        RangeResponse r{206, "bytes 0-99/1000", finalContentLength("145, 100"), {}, {}};
        QVERIFY(checkRangeResponse(QStringLiteral("o"), {0, 100}, 1000, r).ok());
        r.contentLength = finalContentLength("100, 145");
        QVERIFY(!checkRangeResponse(QStringLiteral("o"), {0, 100}, 1000, r).ok());
    }
    void multipartByteranges()
    {
        QCOMPARE(multipartBoundary("multipart/byteranges; boundary=00000000000000000001"), QByteArray("00000000000000000001"));
        QCOMPARE(multipartBoundary("Multipart/Byteranges;boundary=\"a b\""), QByteArray("a b"));
        QCOMPARE(multipartBoundary("application/octet-stream"), QByteArray());
        // As nginx sends it, with binary bytes that contain the boundary itself.
        const QByteArray b = "XYZ";
        const QByteArray one = "ab--XYZ\r\ncd", two("\0\r\n--XYZ--", 10);
        const QByteArray body = "\r\n--XYZ\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 10-20/100\r\n\r\n" + one +
                                "\r\n--XYZ\r\nContent-Range: bytes 50-59/100\r\n\r\n" + two + "\r\n--XYZ--\r\n";
        auto parts = parseMultipartByteranges(b, body);
        QVERIFY2(parts.ok(), parts.ok() ? "" : qPrintable(parts.error().message));
        QCOMPARE(parts->size(), 2);
        QCOMPARE(parts->at(0).range.first, 10);
        QCOMPARE(parts->at(0).bytes, one);
        QCOMPARE(parts->at(1).range.last, 59);
        QCOMPARE(parts->at(1).bytes, two);
        // A range is served from the part that holds it; a merged part serves several.
        QCOMPARE(bytesIn(*parts, {12, 15})->toByteArray(), one.mid(2, 3));
        QVERIFY(!bytesIn(*parts, {18, 25}).has_value()); // across two parts: no one part holds it
        QVERIFY(checkPartSizes(QStringLiteral("o"), *parts, 100).ok());
        QCOMPARE(checkPartSizes(QStringLiteral("o"), *parts, 101).error().kind, ErrorKind::Changed);
        // A preamble, transport padding, an epilogue (RFC 2046 §5.1.1).
        QVERIFY(parseMultipartByteranges(b, "preamble\r\n--XYZ  \r\nContent-Range: bytes 0-1/2\r\n\r\nhi\r\n--XYZ--epilogue").ok());
        // Strict: cut short, no Content-Range, a coding, no delimiter after a part, no close.
        QVERIFY(!parseMultipartByteranges(b, body.left(body.size() - 20)).ok());
        QVERIFY(!parseMultipartByteranges(b, "--XYZ\r\n\r\nhi\r\n--XYZ--").ok());
        QVERIFY(!parseMultipartByteranges(b, "--XYZ\r\nContent-Range: bytes 0-1/2\r\nContent-Encoding: gzip\r\n\r\nhi\r\n--XYZ--").ok());
        QVERIFY(!parseMultipartByteranges(b, "--XYZ\r\nContent-Range: bytes 0-1/2\r\n\r\nhix\r\n--XYZ--").ok());
        QVERIFY(!parseMultipartByteranges(b, "--XYZ\r\nContent-Range: bytes 0-1/2\r\n\r\nhi").ok());
        QVERIFY(!parseMultipartByteranges(b, "--XYZ--").ok());
        QVERIFY(!parseMultipartByteranges(QByteArray(), body).ok());
    }
    void retryAfter()
    {
        const QDateTime now(QDate(1994, 11, 6), QTime(8, 49, 37), Qt::UTC);
        QCOMPARE(retryAfterMs("120", now), qint64(120000));
        QCOMPARE(retryAfterMs(" 0 ", now), qint64(0));
        QCOMPARE(retryAfterMs("Sun, 06 Nov 1994 08:50:07 GMT", now), qint64(30000));
        QCOMPARE(retryAfterMs("Sun, 06 Nov 1994 08:00:00 GMT", now), qint64(0)); // in the past: now
        QCOMPARE(retryAfterMs("", now), qint64(-1));
        QCOMPARE(retryAfterMs("-5", now), qint64(-1));
        QCOMPARE(retryAfterMs("soon", now), qint64(-1));
        QCOMPARE(retryAfterMs("99999999999999999999", now), qint64(-1));
    }
};

QTEST_GUILESS_MAIN(TestHttpResponse)
#include "tst_httpresponse.moc"
