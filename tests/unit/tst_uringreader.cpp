// io_uring reads: bytes in order for odd offsets, lengths, depths and block sizes; a stop; and
// the end of the file reported as an error, never as silent zeros. io_uring writes: bytes land
// at their offsets for odd sizes and depths, and a file-size limit (as a full disk would) is an
// error naming the offset.
#include "nginxfixture.h"
#include "uringreader.h"
#include "uringwriter.h"

#include <QTemporaryFile>
#include <QtTest>

#include <csignal>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

using namespace sparsescope;

class TestUringReader : public QObject {
    Q_OBJECT
    QTemporaryFile m_file;
    QByteArray m_bytes;
    int m_fd = -1;

private Q_SLOTS:
    void initTestCase()
    {
        if (!uring::available())
            QSKIP(qPrintable(QStringLiteral("io_uring unavailable here: %1").arg(uring::unavailableReason())));
        m_bytes = test::patternBytes(5 * 1024 * 1024 + 777, 9);
        QVERIFY(m_file.open());
        m_file.write(m_bytes);
        m_file.flush();
        m_fd = ::open(QFile::encodeName(m_file.fileName()).constData(), O_RDONLY);
        QVERIFY(m_fd >= 0);
    }
    void cleanupTestCase()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    void readsInOrder_data()
    {
        QTest::addColumn<qint64>("begin");
        QTest::addColumn<qint64>("end");
        QTest::addColumn<int>("depth");
        QTest::addColumn<qint64>("block");
        QTest::newRow("whole, 32 x 256K") << qint64(0) << qint64(5 * 1024 * 1024 + 777) << 32 << qint64(256 << 10);
        QTest::newRow("odd range, 4 x 4K") << qint64(12345) << qint64(3 * 1024 * 1024 + 1) << 4 << qint64(4096);
        QTest::newRow("one byte") << qint64(100) << qint64(101) << 8 << qint64(65536);
        QTest::newRow("depth 1") << qint64(7) << qint64(1000000) << 1 << qint64(100000);
    }
    void readsInOrder()
    {
        QFETCH(qint64, begin);
        QFETCH(qint64, end);
        QFETCH(int, depth);
        QFETCH(qint64, block);
        QByteArray got;
        const Status st = uring::readRange(m_fd, begin, end, QStringLiteral("test"), [&](const char *d, qint64 n) {
            got.append(d, n);
            return true;
        }, depth, block);
        QVERIFY(st.ok());
        QVERIFY(got == m_bytes.mid(begin, end - begin));
    }
    void stopsWhenAsked()
    {
        qint64 seen = 0;
        const Status st = uring::readRange(m_fd, 0, m_bytes.size(), QStringLiteral("test"), [&](const char *, qint64 n) {
            seen += n;
            return seen < 1000000;
        }, 8, 65536);
        QCOMPARE(st.error().kind, ErrorKind::Cancelled);
        QVERIFY(seen >= 1000000 && seen < 1100000);
    }
    void endOfFileIsAnError()
    {
        const Status st = uring::readRange(m_fd, m_bytes.size() - 10, m_bytes.size() + 100, QStringLiteral("short"),
                                           [](const char *, qint64) { return true; }, 4, 4096);
        QVERIFY(!st.ok());
        QCOMPARE(st.error().kind, ErrorKind::Integrity);
        QVERIFY(st.error().message.contains(QStringLiteral("short")));
    }
    void writesLandAtTheirOffsets_data()
    {
        QTest::addColumn<qint64>("offset");
        QTest::addColumn<qint64>("length");
        QTest::addColumn<int>("depth");
        QTest::addColumn<qint64>("piece");
        QTest::newRow("256K in 1 piece") << qint64(0) << qint64(256 << 10) << 32 << qint64(1 << 20);
        QTest::newRow("odd, 4K pieces, depth 3") << qint64(4097) << qint64(1000003) << 3 << qint64(4096);
        QTest::newRow("one byte") << qint64(99) << qint64(1) << 1 << qint64(4096);
    }
    void writesLandAtTheirOffsets()
    {
        QFETCH(qint64, offset);
        QFETCH(qint64, length);
        QFETCH(int, depth);
        QFETCH(qint64, piece);
        QTemporaryFile out;
        QVERIFY(out.open());
        const QByteArray bytes = m_bytes.left(length);
        QVERIFY(uring::writeAll(out.handle(), bytes.constData(), length, offset, QStringLiteral("out"), depth, piece).ok());
        QCOMPARE(out.size(), offset + length);
        QVERIFY(out.seek(offset));
        QVERIFY(out.read(length) == bytes);
    }
    void fileSizeLimitIsAnError()
    {
        QTemporaryFile out;
        QVERIFY(out.open());
        rlimit old {};
        QCOMPARE(::getrlimit(RLIMIT_FSIZE, &old), 0);
        auto oldHandler = std::signal(SIGXFSZ, SIG_IGN); // EFBIG instead of a signal
        rlimit small = old;
        small.rlim_cur = 1 << 20;
        QCOMPARE(::setrlimit(RLIMIT_FSIZE, &small), 0);
        const Status st = uring::writeAll(out.handle(), m_bytes.constData(), 2 << 20, 0, QStringLiteral("limited"), 8, 256 << 10);
        ::setrlimit(RLIMIT_FSIZE, &old);
        std::signal(SIGXFSZ, oldHandler);
        QVERIFY(!st.ok());
        QCOMPARE(st.error().kind, ErrorKind::LocalIo);
        QVERIFY2(st.error().message.contains(QStringLiteral("limited at offset 1048576")), qPrintable(st.error().message));
    }
};

QTEST_GUILESS_MAIN(TestUringReader)
#include "tst_uringreader.moc"
