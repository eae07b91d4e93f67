// sparsescope-cli against a real nginx: the behaviours of issue 2, observed as a user would —
// bytes on stdout, exit codes, `info --json`, disk blocks, and nginx's access log.
#include "clirunner.h"
#include "nginxfixture.h"

#include <QJsonArray>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>

using namespace sparsescope::test;

namespace {
constexpr qint64 kSize = 24 * 1024 * 1024 + 777; // not a multiple of the chunk size
constexpr qint64 kChunk = 256 * 1024;

qint64 blocksOf(const QString &path)
{
    struct stat st {};
    ::stat(QFile::encodeName(path).constData(), &st);
    return qint64(st.st_blocks) * 512;
}
} // namespace

class TestCliHttp : public QObject {
    Q_OBJECT
    NginxFixture m_nginx;
    QTemporaryDir m_tmp;
    QByteArray m_bytes;
    QString m_url;
    QString m_cache;

    CliRun cli(const QStringList &args) { return runCli(m_cache, args); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_nginx.start(), qPrintable(m_nginx.errorText()));
        m_bytes = patternBytes(kSize, 1);
        m_nginx.addFile(QStringLiteral("object.bin"), m_bytes);
        m_url = m_nginx.url(QStringLiteral("object.bin"));
    }
    void init()
    {
        m_cache = m_tmp.filePath(QStringLiteral("cache-%1-%2").arg(QLatin1String(QTest::currentTestFunction()), QLatin1String(QTest::currentDataTag())).replace(u' ', u'_'));
        m_nginx.clearAccessLog();
    }

    void readAlignedAndUnaligned_data()
    {
        QTest::addColumn<QString>("range");
        QTest::addColumn<qint64>("begin");
        QTest::addColumn<qint64>("length");
        QTest::newRow("aligned chunk") << QStringLiteral("262144-524287") << kChunk << kChunk;
        QTest::newRow("unaligned") << QStringLiteral("1000-1999") << qint64(1000) << qint64(1000);
        QTest::newRow("straddling") << QStringLiteral("262140-262150") << qint64(262140) << qint64(11);
        QTest::newRow("to the end") << QStringLiteral("25165800-") << qint64(25165800) << kSize - 25165800;
    }
    void readAlignedAndUnaligned()
    {
        QFETCH(QString, range);
        QFETCH(qint64, begin);
        QFETCH(qint64, length);
        const CliRun first = cli({QStringLiteral("read"), m_url, QStringLiteral("-r"), range, QStringLiteral("--stats")});
        QCOMPARE(first.exitCode, 0);
        QCOMPARE(first.out, m_bytes.mid(begin, length));
        // --stats agrees with nginx's access log.
        QCOMPARE(qint64(first.stats().value(QStringLiteral("upstream_requests")).toDouble()), m_nginx.countRequests({}));
        QCOMPARE(qint64(first.stats().value(QStringLiteral("upstream_bytes")).toDouble()), m_nginx.bodyBytes());
        QVERIFY(m_nginx.countRequests(QStringLiteral("GET")) >= 1);
        // The second read: no upstream GET, every byte a cache hit.
        m_nginx.clearAccessLog();
        const CliRun second = cli({QStringLiteral("read"), m_url, QStringLiteral("-r"), range, QStringLiteral("--stats")});
        QCOMPARE(second.exitCode, 0);
        QCOMPARE(second.out, m_bytes.mid(begin, length));
        QCOMPARE(m_nginx.countRequests(QStringLiteral("GET")), 0);
        QCOMPARE(qint64(second.stats().value(QStringLiteral("cache_hit_bytes")).toDouble()), length);
    }
    void rangesComeOutInOrder()
    {
        const CliRun r = cli({QStringLiteral("read"), m_url, QStringLiteral("-r"), QStringLiteral("5000000-5000009"),
                              QStringLiteral("-r"), QStringLiteral("0-9"), QStringLiteral("-r"), QStringLiteral("5000005-5000014")});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out, m_bytes.mid(5000000, 10) + m_bytes.mid(0, 10) + m_bytes.mid(5000005, 10));
    }
    void sixtyFourReadersOneGet()
    {
        QStringList args{QStringLiteral("read"), m_url, QStringLiteral("--stats")};
        for (int i = 0; i < 64; ++i)
            args << QStringLiteral("-r") << QStringLiteral("10000000-10000099");
        const CliRun r = cli(args);
        QCOMPARE(r.exitCode, 0);
        QByteArray expect;
        for (int i = 0; i < 64; ++i)
            expect += m_bytes.mid(10000000, 100);
        QCOMPARE(r.out, expect);
        QCOMPARE(m_nginx.countRequests(QStringLiteral("GET")), 1);
        QCOMPARE(qint64(r.stats().value(QStringLiteral("upstream_requests")).toDouble()), m_nginx.countRequests({}));
    }
    void prefetchExportIdenticalAndSeenByNewProcess()
    {
        const CliRun p = cli({QStringLiteral("prefetch"), m_url, QStringLiteral("--stats")});
        QCOMPARE(p.exitCode, 0);
        QCOMPARE(qint64(p.stats().value(QStringLiteral("upstream_bytes")).toDouble()), kSize);
        QCOMPARE(m_nginx.bodyBytes(), kSize);
        // A new process sees the coverage.
        const CliRun info = cli({QStringLiteral("info"), m_url, QStringLiteral("--json")});
        QCOMPARE(info.exitCode, 0);
        const QJsonObject j = info.jsonOut();
        QCOMPARE(qint64(j.value(QStringLiteral("present_bytes")).toDouble()), kSize);
        QCOMPARE(j.value(QStringLiteral("ranges")).toArray(), (QJsonArray{QJsonArray{0, double(kSize)}}));
        QCOMPARE(qint64(j.value(QStringLiteral("size")).toDouble()), kSize);
        QCOMPARE(qint64(j.value(QStringLiteral("chunk_size")).toDouble()), kChunk);
        QVERIFY(j.value(QStringLiteral("validator")).toString().startsWith(u'"'));
        QVERIFY(j.contains(QStringLiteral("allocated_bytes")) && j.contains(QStringLiteral("cache_path")) && j.contains(QStringLiteral("source")));
        m_nginx.clearAccessLog();
        const QString out = m_tmp.filePath(QStringLiteral("export.bin"));
        QCOMPARE(cli({QStringLiteral("export"), m_url, QStringLiteral("-o"), out}).exitCode, 0);
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), m_bytes);
        QCOMPARE(m_nginx.countRequests(QStringLiteral("GET")), 0);
        // status lists it.
        const CliRun status = cli({QStringLiteral("status"), QStringLiteral("--json")});
        QCOMPARE(status.exitCode, 0);
        QVERIFY(status.out.contains(m_url.toUtf8()));
    }
    void evictFreesBlocksAndSparseExportKeepsHoles()
    {
        QCOMPARE(cli({QStringLiteral("prefetch"), m_url, QStringLiteral("-r"), QStringLiteral("0-8388607")}).exitCode, 0);
        const QString data = cli({QStringLiteral("info"), m_url, QStringLiteral("--json")}).jsonOut().value(QStringLiteral("cache_path")).toString() +
                             QStringLiteral("/data");
        const qint64 before = blocksOf(data);
        QVERIFY(before >= 8 * 1024 * 1024);
        QCOMPARE(cli({QStringLiteral("evict"), m_url, QStringLiteral("-r"), QStringLiteral("1000-4194303")}).exitCode, 0);
        QCOMPARE(before - blocksOf(data), 4 * 1024 * 1024); // chunks 0..15 freed
        const QJsonObject j = cli({QStringLiteral("info"), m_url, QStringLiteral("--json")}).jsonOut();
        QCOMPARE(j.value(QStringLiteral("ranges")).toArray(), (QJsonArray{QJsonArray{4194304, 8388608}}));
        QCOMPARE(qint64(j.value(QStringLiteral("allocated_bytes")).toDouble()), blocksOf(data));

        const QString out = m_tmp.filePath(QStringLiteral("sparse.bin"));
        QCOMPARE(cli({QStringLiteral("export"), m_url, QStringLiteral("-o"), out, QStringLiteral("--sparse")}).exitCode, 0);
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray got = f.readAll();
        QCOMPARE(got.size(), kSize);
        QCOMPARE(got.mid(4194304, 4194304), m_bytes.mid(4194304, 4194304));
        QCOMPARE(got.left(4194304), QByteArray(4194304, '\0'));
        QVERIFY(blocksOf(out) <= 4 * 1024 * 1024 + 65536);
    }
    void notFoundAndPastTheEnd()
    {
        const CliRun missing = cli({QStringLiteral("read"), m_nginx.url(QStringLiteral("nope.bin")), QStringLiteral("-r"), QStringLiteral("0-9")});
        QCOMPARE(missing.exitCode, 1);
        QVERIFY2(missing.err.contains("404") && missing.err.contains("nope.bin"), missing.err.constData());
        QCOMPARE(missing.out, QByteArray());
        QCOMPARE(missing.err.count('\n'), 1); // one line

        const CliRun past = cli({QStringLiteral("read"), m_url, QStringLiteral("-r"), QStringLiteral("%1-%2").arg(kSize - 5).arg(kSize + 5)});
        QCOMPARE(past.exitCode, 1);
        QVERIFY2(past.err.contains("past the end") && past.err.contains("object.bin"), past.err.constData());
        QCOMPARE(m_nginx.countRequests(QStringLiteral("GET")), 0);

        const CliRun usage = cli({QStringLiteral("read"), m_url, QStringLiteral("-r"), QStringLiteral("9-1")});
        QCOMPARE(usage.exitCode, 2);
        QCOMPARE(cli({QStringLiteral("frobnicate")}).exitCode, 2);
        QCOMPARE(cli({QStringLiteral("--help")}).exitCode, 0);
    }
    void globalOptionsAfterTheCommand()
    {
        const CliRun r = runCli(m_cache, {QStringLiteral("read"), m_url, QStringLiteral("-r"), QStringLiteral("0-99"),
                                          QStringLiteral("--chunk-size"), QStringLiteral("64K"), QStringLiteral("--connections"),
                                          QStringLiteral("2"), QStringLiteral("--timeout"), QStringLiteral("5")});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out, m_bytes.left(100));
        const QJsonObject j = cli({QStringLiteral("info"), m_url, QStringLiteral("--json")}).jsonOut();
        QCOMPARE(qint64(j.value(QStringLiteral("chunk_size")).toDouble()), qint64(65536));
        QCOMPARE(m_nginx.accessLog().last().range, QStringLiteral("-")); // info's HEAD
    }
    void credentialsNeverReachTheDisk()
    {
        QString withSecret = m_url;
        withSecret.replace(QStringLiteral("http://"), QStringLiteral("http://alice:hunter2@"));
        withSecret += QStringLiteral("?token=sekrit123&x=1");
        // nginx serves static files regardless of the query and the user info.
        QCOMPARE(cli({QStringLiteral("read"), withSecret, QStringLiteral("-r"), QStringLiteral("0-9")}).exitCode, 0);
        QDirIterator it(m_cache, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString path = it.next();
            QVERIFY2(!path.contains(QStringLiteral("object.bin")), qPrintable(path));
            QFile f(path);
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QByteArray content = f.readAll();
            QVERIFY2(!content.contains("hunter2") && !content.contains("alice") && !content.contains("sekrit123"), qPrintable(path));
        }
        QCOMPARE(cli({QStringLiteral("remove"), withSecret}).exitCode, 0);
        QCOMPARE(QDir(m_cache + QStringLiteral("/objects")).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size(), 0);
    }
};

QTEST_GUILESS_MAIN(TestCliHttp)
#include "tst_cli_http.moc"
