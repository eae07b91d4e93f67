// sparsescope-cli against a real nginx: the behaviours of issue 2, observed as a user would —
// bytes on stdout, exit codes, `info --json`, disk blocks, and nginx's access log.
#include "clirunner.h"
#include "nginxfixture.h"

#include <QJsonArray>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>
#include <cstdio>

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
        const CliRun missing = cli({QStringLiteral("read"), m_nginx.url(QStringLiteral("nope.bin")), QStringLiteral("-r"),
                                    QStringLiteral("0-9"), QStringLiteral("--stats")});
        QCOMPARE(missing.exitCode, 1);
        QVERIFY2(missing.err.contains("404") && missing.err.contains("nope.bin"), missing.err.constData());
        QCOMPARE(missing.out, QByteArray());
        QCOMPARE(missing.err.count('\n'), 2); // one line, and the statistics
        // The failed open is counted as the server saw it: one GET (the read's, no HEAD before it).
        QCOMPARE(m_nginx.countRequests(QStringLiteral("GET")), 1);
        QCOMPARE(m_nginx.countRequests(QStringLiteral("HEAD")), 0);
        QCOMPARE(qint64(missing.stats().value(QStringLiteral("upstream_requests")).toDouble()), 1);
        m_nginx.clearAccessLog();

        // The size is learned with the read's own request: the last chunk is fetched, the range refused.
        const CliRun past = cli({QStringLiteral("read"), m_url, QStringLiteral("-r"), QStringLiteral("%1-%2").arg(kSize - 5).arg(kSize + 5)});
        QCOMPARE(past.exitCode, 1);
        QVERIFY2(past.err.contains("past the end") && past.err.contains("object.bin"), past.err.constData());
        QVERIFY(m_nginx.countRequests(QStringLiteral("GET")) <= 1);

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
    void followsRedirectsAndCountsEveryHop()
    {
        const CliRun r = cli({QStringLiteral("read"), m_nginx.url(QStringLiteral("redirect/object.bin")), QStringLiteral("-r"),
                              QStringLiteral("100-199"), QStringLiteral("--stats")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QCOMPARE(r.out, m_bytes.mid(100, 100));
        // GET -> 302 -> GET of the range; no HEAD. (Under load Qt's HTTP stack may re-send the
        // first request on its own, invisibly to us: nginx then logs one more than --stats can count.)
        const auto log = m_nginx.accessLog();
        QCOMPARE(log.first().status, 302);
        QCOMPARE(log.last().method, QStringLiteral("GET"));
        QCOMPARE(log.last().uri, QStringLiteral("/object.bin"));
        QCOMPARE(m_nginx.countRequests(QStringLiteral("HEAD")), 0);
        const qint64 counted = qint64(r.stats().value(QStringLiteral("upstream_requests")).toDouble());
        QCOMPARE(counted, 2);
        QVERIFY(log.size() == 2 || log.size() == 3);

        // A later read goes straight to the final URL.
        m_nginx.clearAccessLog();
        const CliRun again = cli({QStringLiteral("read"), m_nginx.url(QStringLiteral("redirect/object.bin")), QStringLiteral("-r"),
                                  QStringLiteral("900000-900099"), QStringLiteral("--stats")});
        QCOMPARE(again.out, m_bytes.mid(900000, 100));
        QCOMPARE(qint64(again.stats().value(QStringLiteral("upstream_requests")).toDouble()), 2);
    }
    void headRefusedFallsBackToARangeProbe()
    {
        // `info` reads nothing, so it asks with HEAD; refused, it asks for one byte.
        const CliRun r = cli({QStringLiteral("info"), m_nginx.url(QStringLiteral("nohead/object.bin")), QStringLiteral("--json"),
                              QStringLiteral("--stats")});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(qint64(r.jsonOut().value(QStringLiteral("size")).toDouble()), qint64(m_bytes.size()));
        const auto log = m_nginx.accessLog();
        QCOMPARE(log.size(), 2);
        QCOMPARE(log[0].status, 405);
        QCOMPARE(log[1].range, QStringLiteral("bytes=0-0"));
        QCOMPARE(log[1].bodyBytes, 1);
        QCOMPARE(qint64(r.stats().value(QStringLiteral("upstream_bytes")).toDouble()), m_nginx.bodyBytes());
    }
    void twoProcessesShareOneObject()
    {
        // Both prefetch the same object at once: the second waits for the first's lock and then
        // finds everything present, so upstream sees the object once.
        const QString url = m_nginx.url(QStringLiteral("slow/object.bin"));
        QProcess a, b;
        a.start(cliPath(), {QStringLiteral("--cache-dir"), m_cache, QStringLiteral("prefetch"), url, QStringLiteral("-r"), QStringLiteral("0-4194303")});
        QVERIFY(a.waitForStarted());
        QThread::msleep(100);
        b.start(cliPath(), {QStringLiteral("--cache-dir"), m_cache, QStringLiteral("prefetch"), url, QStringLiteral("-r"), QStringLiteral("0-4194303")});
        QVERIFY(a.waitForFinished(60000) && b.waitForFinished(60000));
        QCOMPARE(a.exitCode(), 0);
        QCOMPARE(b.exitCode(), 0);
        QCOMPARE(m_nginx.countRequests(QStringLiteral("GET")) > 0, true);
        qint64 getBytes = 0;
        for (const AccessLogEntry &e : m_nginx.accessLog())
            getBytes += e.method == u"GET" ? e.bodyBytes : 0;
        QCOMPARE(getBytes, qint64(4194304));
        QCOMPARE(cli({QStringLiteral("verify"), url}).exitCode, 0);
    }
    void changedUpstreamBetweenRunsDropsOldBytes()
    {
        const QByteArray v1 = patternBytes(1 << 20, 11), v2 = patternBytes(1 << 20, 12);
        m_nginx.addFile(QStringLiteral("changing.bin"), v1);
        const QString url = m_nginx.url(QStringLiteral("changing.bin"));
        QCOMPARE(cli({QStringLiteral("prefetch"), url}).exitCode, 0);
        QThread::msleep(1100); // a new mtime, so a new ETag
        m_nginx.addFile(QStringLiteral("changing.bin"), v2);
        const CliRun r = cli({QStringLiteral("read"), url, QStringLiteral("-r"), QStringLiteral("0-")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out == v2);
        QVERIFY2(r.err.contains("changed upstream"), r.err.constData());
    }
    void changedUpstreamDuringPrefetchNeverMixesVersions()
    {
        const qint64 size = 8 << 20;
        const QByteArray v1 = patternBytes(size, 21), v2 = patternBytes(size, 22);
        m_nginx.addFile(QStringLiteral("moving.bin"), v1);
        const QString url = m_nginx.url(QStringLiteral("slow/moving.bin"));
        QProcess p;
        p.start(cliPath(), {QStringLiteral("--cache-dir"), m_cache, QStringLiteral("--connections"), QStringLiteral("1"),
                            QStringLiteral("--chunk-size"), QStringLiteral("64K"), QStringLiteral("prefetch"), url,
                            QStringLiteral("-r"), QStringLiteral("0-1572863"), QStringLiteral("-r"), QStringLiteral("2097152-3670015"),
                            QStringLiteral("-r"), QStringLiteral("4194304-5767167"), QStringLiteral("-r"), QStringLiteral("6291456-7864319")});
        QVERIFY(p.waitForStarted());
        // One connection at 4 MiB/s: the first 1.5 MiB request is under way. (Ranges of at most 1 MiB
        // would go as one multi-range request, answered from one version: nothing to see.)
        QThread::msleep(400);
        // Replace the file atomically (new inode, new mtime): If-Range no longer matches.
        // nginx's ETag is hex(mtime in seconds)-hex(size): a same-size change within the same second
        // would keep the ETag, and no client could see it. Give the new version another second.
        const QString tmp = m_nginx.addFile(QStringLiteral(".moving.tmp"), v2);
        {
            QFile t(tmp);
            QVERIFY(t.open(QIODevice::ReadWrite));
            QVERIFY(t.setFileTime(QDateTime::currentDateTime().addSecs(10), QFileDevice::FileModificationTime));
        }
        QVERIFY(::rename(QFile::encodeName(tmp).constData(), QFile::encodeName(m_nginx.root() + QStringLiteral("/moving.bin")).constData()) == 0);
        QVERIFY(p.waitForFinished(60000));
        const QByteArray err = p.readAllStandardError();
        QCOMPARE(p.exitCode(), 1);
        QVERIFY2(err.contains("changed upstream") && err.contains("moving.bin"), err.constData());
        bool saw200 = false;
        for (const AccessLogEntry &e : m_nginx.accessLog())
            saw200 = saw200 || (e.method == u"GET" && e.status == 200);
        QVERIFY2(saw200, "nginx answered If-Range with the whole new object");
        // Nothing of the old version survives; reading now yields the new version only.
        const CliRun all = cli({QStringLiteral("read"), m_nginx.url(QStringLiteral("moving.bin")), QStringLiteral("-r"), QStringLiteral("0-")});
        QCOMPARE(all.exitCode, 0);
        QVERIFY(all.out == v2);
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
