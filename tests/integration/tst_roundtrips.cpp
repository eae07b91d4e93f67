// Round trips and servers as they are (issue 15): what a cold read, a reopen and an archive listing
// cost in requests (nginx's access log, FaultServer's record) and in time through a proxy that adds
// 200 ms of round trip; a weak ETag (Apache's fresh files) and a server without ranges (python's
// http.server).
#include "clirunner.h"
#include "faultserver.h"
#include "latencyproxy.h"
#include "archivereader.h"
#include "awaitfuture.h"
#include "nginxfixture.h"
#include "sparseobject.h"

#include <QDirIterator>
#include <QElapsedTimer>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>

using namespace sparsescope;
using namespace sparsescope::test;

namespace {
constexpr int kRttMs = 200; // large beside the CLI's own time, also under the sanitizers
constexpr qint64 kSize = 8 * 1024 * 1024 + 123;

qint64 statsValue(const CliRun &r, const char *key) { return qint64(r.stats().value(QLatin1String(key)).toDouble()); }

// What a Python script writing an archive of `entries` members (sys.argv[1]) to stdout made:
// archives made by the tools users have.
QByteArray madeByPython(const char *script, int entries)
{
    QProcess py;
    py.start(QStringLiteral("python3"), {QStringLiteral("-c"), QString::fromLatin1(script), QString::number(entries)});
    py.waitForFinished(60000);
    return py.readAllStandardOutput();
}
QByteArray zipOf(int entries) // stored, small text members
{
    return madeByPython("import io,sys,zipfile\n"
                        "b=io.BytesIO()\n"
                        "with zipfile.ZipFile(b,'w') as z:\n"
                        "    [z.writestr('d/f%05d.txt'%i, ('entry %d\\n'%i)*8) for i in range(int(sys.argv[1]))]\n"
                        "sys.stdout.buffer.write(b.getvalue())\n", entries);
}
QByteArray tarOf(int entries) // members of 0 to 3,000 bytes
{
    return madeByPython("import io,sys,tarfile\n"
                        "b=io.BytesIO()\n"
                        "with tarfile.open(fileobj=b,mode='w') as t:\n"
                        "    for i in range(int(sys.argv[1])):\n"
                        "        data=bytes([i%251])*(i*7%3000)\n"
                        "        info=tarfile.TarInfo('d/f%04d'%i); info.size=len(data); t.addfile(info,io.BytesIO(data))\n"
                        "sys.stdout.buffer.write(b.getvalue())\n", entries);
}
} // namespace

class TestRoundTrips : public QObject {
    Q_OBJECT
    NginxFixture m_nginx;
    LatencyProxy m_proxy;
    QTemporaryDir m_tmp;
    QByteArray m_bytes;
    QString m_url; // through the proxy
    QString m_cache;

    CliRun cli(const QStringList &args) { return runCli(m_cache, args); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_nginx.start(), qPrintable(m_nginx.errorText()));
        m_bytes = patternBytes(kSize, 15);
        m_nginx.addFile(QStringLiteral("object.bin"), m_bytes);
        QVERIFY2(m_proxy.start(quint16(QUrl(m_nginx.url(QStringLiteral("object.bin"))).port()), kRttMs), qPrintable(m_proxy.errorText()));
        m_url = m_proxy.viaProxy(m_nginx.url(QStringLiteral("object.bin")));
    }
    void init()
    {
        m_cache = m_tmp.filePath(QStringLiteral("cache-%1").arg(QLatin1String(QTest::currentTestFunction())));
        m_nginx.clearAccessLog();
    }

    // A cold read is the connection and one GET (no HEAD before it); a reopen revalidates with the
    // GET of what it misses, or with a HEAD when nothing is missing, or not at all within --max-age.
    void coldReadIsOneRequest()
    {
        const CliRun cold = cli({QStringLiteral("read"), m_url, QStringLiteral("-r"), QStringLiteral("1000000-1004095"), QStringLiteral("--stats")});
        QVERIFY2(cold.exitCode == 0, cold.err.constData());
        QCOMPARE(cold.out, m_bytes.mid(1000000, 4096));
        auto log = m_nginx.accessLog();
        QCOMPARE(log.size(), 1);
        QCOMPARE(log[0].method, QStringLiteral("GET"));
        QCOMPARE(log[0].range, QStringLiteral("bytes=786432-1048575")); // the chunk, aligned
        QCOMPARE(statsValue(cold, "upstream_requests"), 1);
        QCOMPARE(statsValue(cold, "cache_hit_bytes"), 0);
        qInfo("cold 4 KiB read: %lld ms at %d ms RTT (connect + 1 GET = %d ms)", statsValue(cold, "elapsed_ms"), kRttMs, 2 * kRttMs);
        QVERIFY2(statsValue(cold, "elapsed_ms") < 3 * kRttMs, "a cold read took three round trips or more");
        // What the opening request left on disk is as private as the rest (files 0600, directories 0700).
        QDirIterator files(m_cache, QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
        while (files.hasNext()) {
            const QString path = files.next();
            struct stat st {};
            QVERIFY(::lstat(QFile::encodeName(path).constData(), &st) == 0);
            QVERIFY2((st.st_mode & 077) == 0, qPrintable(path));
        }

        m_nginx.clearAccessLog();
        const CliRun warm = cli({QStringLiteral("read"), m_url, QStringLiteral("-r"), QStringLiteral("1000000-1004095"), QStringLiteral("--stats")});
        QCOMPARE(warm.out, cold.out);
        log = m_nginx.accessLog();
        QCOMPARE(log.size(), 1);
        QCOMPARE(log[0].method, QStringLiteral("HEAD"));
        QCOMPARE(statsValue(warm, "cache_hit_bytes"), 4096);

        m_nginx.clearAccessLog();
        const CliRun fresh = cli({QStringLiteral("--max-age"), QStringLiteral("600"), QStringLiteral("read"), m_url, QStringLiteral("-r"),
                                  QStringLiteral("1000000-1004095"), QStringLiteral("--stats")});
        QCOMPARE(fresh.out, cold.out);
        QCOMPARE(m_nginx.accessLog().size(), 0);
        QCOMPARE(statsValue(fresh, "upstream_requests"), 0);
        QVERIFY(statsValue(fresh, "elapsed_ms") < kRttMs);

        m_nginx.clearAccessLog();
        const CliRun other = cli({QStringLiteral("read"), m_url, QStringLiteral("-r"), QStringLiteral("5000000-5000099"), QStringLiteral("--stats")});
        QCOMPARE(other.out, m_bytes.mid(5000000, 100));
        log = m_nginx.accessLog();
        QCOMPARE(log.size(), 1);
        QCOMPARE(log[0].method, QStringLiteral("GET"));
        QCOMPARE(log[0].status, 206);
        QVERIFY(statsValue(other, "elapsed_ms") < 3 * kRttMs);
    }

    // A ZIP lists in three round trips: the connection, the tail (a suffix range), the central
    // directory in one request; in a new process the index answers, after one HEAD.
    void zipListsInThreeRoundTrips()
    {
        const QByteArray zip = zipOf(10001);
        QVERIFY(zip.size() > 1000000);
        m_nginx.addFile(QStringLiteral("many.zip"), zip);
        const QString url = m_proxy.viaProxy(m_nginx.url(QStringLiteral("many.zip")));
        const CliRun cold = cli({QStringLiteral("list"), url, QStringLiteral("--stats")});
        QVERIFY2(cold.exitCode == 0, cold.err.constData());
        QCOMPARE(cold.out.count('\n'), 10001);
        const auto log = m_nginx.accessLog();
        QCOMPARE(log.size(), 2);
        QVERIFY2(log[0].range.startsWith(QStringLiteral("bytes=-")), qPrintable(log[0].range));
        // The same listing from the cache, with no request and no index: what the listing itself costs
        // here (under the sanitizers, a few hundred ms); the rest of the cold listing is waiting.
        QDirIterator indexes(m_cache, {QStringLiteral("archive-index.sqlite")}, QDir::Files, QDirIterator::Subdirectories);
        while (indexes.hasNext())
            QVERIFY(QFile::remove(indexes.next()));
        const CliRun local = cli({QStringLiteral("--max-age"), QStringLiteral("600"), QStringLiteral("list"), url, QStringLiteral("--stats")});
        QCOMPARE(local.out, cold.out);
        QCOMPARE(statsValue(local, "upstream_requests"), 0);
        const qint64 waited = statsValue(cold, "elapsed_ms") - statsValue(local, "elapsed_ms");
        qInfo("cold list of 10,001 entries: %lld ms at %d ms RTT (3 RTT = %d ms), of which %lld ms waiting upstream",
              statsValue(cold, "elapsed_ms"), kRttMs, 3 * kRttMs, waited);
        QVERIFY(waited < 4 * kRttMs);

        m_nginx.clearAccessLog();
        const CliRun again = cli({QStringLiteral("list"), url, QStringLiteral("--stats")});
        QCOMPARE(again.out, cold.out);
        QCOMPARE(m_nginx.accessLog().size(), 1);
        QCOMPARE(m_nginx.accessLog()[0].method, QStringLiteral("HEAD"));
        const CliRun indexed = cli({QStringLiteral("--max-age"), QStringLiteral("600"), QStringLiteral("list"), url, QStringLiteral("--stats")});
        QVERIFY(statsValue(again, "elapsed_ms") - statsValue(indexed, "elapsed_ms") < 2 * kRttMs + 100);
    }

    // A tar (by its name) is opened with its first header, where its walk starts: no request for
    // a ZIP's tail first, which cost a round trip and the last 320 KiB, never read.
    void tarListsFromItsHead()
    {
        m_nginx.addFile(QStringLiteral("many.tar"), tarOf(600));
        const CliRun cold = cli({QStringLiteral("list"), m_proxy.viaProxy(m_nginx.url(QStringLiteral("many.tar")))});
        QVERIFY2(cold.exitCode == 0, cold.err.constData());
        QCOMPARE(cold.out.count('\n'), 600);
        QVERIFY(cold.out.startsWith("d/f0000\t0\t-\tfile\n"));
        // Its head (ArchiveReader::kTarHeadBytes), never a ZIP's tail: this tar, smaller than
        // the head, is listed from the opening request alone.
        const auto log = m_nginx.accessLog();
        QCOMPARE(log.size(), 1);
        QVERIFY2(log[0].method == u"GET" && log[0].range == QStringLiteral("bytes=0-%1").arg(ArchiveReader::kTarHeadBytes - 1),
                 qPrintable(log[0].range));
    }

    // 64 scattered reads in one call: the opening GET, then one multi-range GET (RFC 9110 §14.1.2)
    // answered with multipart/byteranges, on the connection the first one opened.
    void scatteredReadsGoAsOneRequest()
    {
        QStringList args{QStringLiteral("read"), m_url};
        QByteArray expected;
        for (int i = 0; i < 64; ++i) {
            const qint64 at = i * 131000 + 777;
            args << QStringLiteral("-r") << QStringLiteral("%1-%2").arg(at).arg(at + 4095);
            expected += m_bytes.mid(at, 4096);
        }
        const CliRun r = cli(args << QStringLiteral("--stats"));
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY(r.out == expected);
        const auto log = m_nginx.accessLog();
        QCOMPARE(log.size(), 2);
        QVERIFY2(log[1].range.count(u',') >= 30, qPrintable(log[1].range)); // chunks shared by two reads are one range
        // The same reads from the cache, with no request: what they cost here besides waiting.
        args.insert(0, QStringLiteral("600"));
        args.insert(0, QStringLiteral("--max-age"));
        const CliRun local = cli(args);
        QVERIFY(local.out == expected);
        QCOMPARE(statsValue(local, "upstream_requests"), 0);
        const qint64 waited = statsValue(r, "elapsed_ms") - statsValue(local, "elapsed_ms");
        qInfo("64 scattered 4 KiB reads: %lld ms at %d ms RTT (3 RTT = %d ms), of which %lld ms waiting upstream",
              statsValue(r, "elapsed_ms"), kRttMs, 3 * kRttMs, waited);
        QVERIFY(waited < 4 * kRttMs);
    }

    // A server that answers several ranges with the whole object gets them one by one after that;
    // one that answers a single range with multipart/byteranges is understood (RFC 9110 §14.6).
    void serversThatDoNotSplitRanges()
    {
        FaultServer server(m_bytes.left(4 << 20));
        QVERIFY(server.start());
        QStringList args{QStringLiteral("read"), server.url()};
        QByteArray expected;
        for (int i = 0; i < 8; ++i) {
            const qint64 at = i * 500000 + 10;
            args << QStringLiteral("-r") << QStringLiteral("%1-%2").arg(at).arg(at + 99);
            expected += m_bytes.mid(at, 100);
        }
        server.setRule({Fault::MultiRangeIgnored, 0, -1});
        const CliRun ignored = cli(args);
        QVERIFY2(ignored.exitCode == 0, ignored.err.constData());
        QVERIFY(ignored.out == expected);
        int multi = 0;
        for (const SeenRequest &seen : server.requests())
            multi += seen.range.contains(',') ? 1 : 0;
        QCOMPARE(multi, 1); // tried once, then single ranges

        m_cache += QStringLiteral("-2");
        server.setRule({Fault::Multipart, 0, -1});
        server.clearRequests();
        const CliRun one = cli({QStringLiteral("read"), server.url(), QStringLiteral("-r"), QStringLiteral("3000000-3000099")});
        QVERIFY2(one.exitCode == 0, one.err.constData());
        QCOMPARE(one.out, m_bytes.mid(3000000, 100));
        server.setRule({});
        const CliRun many = cli(args);
        QVERIFY2(many.exitCode == 0, many.err.constData());
        QVERIFY(many.out == expected);
    }

    // Two processes opening one new object at once fetch its first chunks once: the second waits
    // for the first's entry.
    void twoFirstOpensFetchOnce()
    {
        QProcess a, b;
        const QStringList args = {QStringLiteral("--cache-dir"), m_cache, QStringLiteral("read"), m_url, QStringLiteral("-r"), QStringLiteral("0-999999")};
        a.start(cliPath(), args);
        b.start(cliPath(), args);
        QVERIFY(a.waitForFinished(60000) && b.waitForFinished(60000));
        QCOMPARE(a.readAllStandardOutput(), m_bytes.left(1000000));
        QCOMPARE(b.readAllStandardOutput(), m_bytes.left(1000000));
        qint64 getBytes = 0;
        for (const AccessLogEntry &e : m_nginx.accessLog())
            getBytes += e.method == u"GET" ? e.bodyBytes : 0;
        QCOMPARE(getBytes, qint64(1 << 20)); // four chunks, once
    }

    // The object changes between runs: the reopening GET carries If-Range, the 200 is the new
    // object (kept whole: small), and the old bytes are dropped with a warning.
    void changeSeenByTheReopeningRequest()
    {
        const QByteArray v1 = patternBytes(1 << 20, 1), v2 = patternBytes(1 << 20, 2);
        FaultServer server(v1, "\"v1\"");
        QVERIFY(server.start());
        QCOMPARE(cli({QStringLiteral("read"), server.url(), QStringLiteral("-r"), QStringLiteral("0-99")}).out, v1.left(100));
        QCOMPARE(server.count("HEAD"), 0);
        server.setObject(v2, "\"v2\"");
        server.clearRequests();
        const CliRun r = cli({QStringLiteral("read"), server.url(), QStringLiteral("-r"), QStringLiteral("500000-500099")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QCOMPARE(r.out, v2.mid(500000, 100));
        QVERIFY2(r.err.contains("changed upstream"), r.err.constData());
        const auto seen = server.requests();
        QCOMPARE(seen.size(), 1);
        QCOMPARE(seen[0].ifRange, QByteArray("\"v1\""));
        QCOMPARE(cli({QStringLiteral("read"), server.url(), QStringLiteral("-r"), QStringLiteral("0-99")}).out, v2.left(100));
    }

    // Apache gives a file modified less than a second ago a weak ETag, and a strong one later: no
    // If-Range with it (RFC 9110 §13.1.5), the later strong ETag keeps the cache (§8.8.3.2) and
    // takes the weak one's place, so that If-Range is sent again.
    void weakEtagKeepsTheCache()
    {
        const QByteArray body = patternBytes(2 << 20, 3);
        FaultServer server(body, "\"5e1-61a\"");
        QVERIFY(server.start());
        server.setRule({Fault::WeakEtag, 0, -1});
        const CliRun first = cli({QStringLiteral("read"), server.url(), QStringLiteral("-r"), QStringLiteral("0-99")});
        QVERIFY2(first.exitCode == 0, first.err.constData());
        QCOMPARE(first.out, body.left(100));
        QCOMPARE(cli({QStringLiteral("read"), server.url(), QStringLiteral("-r"), QStringLiteral("1048576-1048675")}).out, body.mid(1048576, 100));
        for (const SeenRequest &s : server.requests())
            QVERIFY2(s.ifRange.isEmpty(), s.ifRange.constData());
        server.setRule({});
        server.clearRequests();
        const CliRun later = cli({QStringLiteral("read"), server.url(), QStringLiteral("-r"), QStringLiteral("0-99"), QStringLiteral("--stats")});
        QCOMPARE(later.out, body.left(100));
        QVERIFY2(!later.err.contains("changed"), later.err.constData());
        QCOMPARE(statsValue(later, "upstream_bytes"), 0);
        // The strong form was stored: the cache's validator is "5e1-61a" again, and a read of
        // what is missing carries If-Range with it.
        const CliRun info = cli({QStringLiteral("info"), server.url(), QStringLiteral("--json")});
        QCOMPARE(info.jsonOut().value(QStringLiteral("validator")).toString(), QStringLiteral("\"5e1-61a\""));
        server.clearRequests();
        QCOMPARE(cli({QStringLiteral("read"), server.url(), QStringLiteral("-r"), QStringLiteral("1500000-1500099")}).out, body.mid(1500000, 100));
        bool ifRangeSent = false;
        for (const SeenRequest &s : server.requests())
            ifRangeSent = ifRangeSent || s.ifRange == "\"5e1-61a\"";
        QVERIFY(ifRangeSent);
    }

    // python's http.server ignores Range: the 200 it sends is the whole object, kept when small.
    void serverWithoutRanges()
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost));
        const quint16 port = probe.serverPort();
        probe.close();
        QDir().mkpath(m_tmp.filePath(QStringLiteral("plain")));
        const QByteArray small = patternBytes(4 << 20, 4), large = patternBytes(64 << 20, 5), huge = patternBytes(80 << 20, 6);
        for (const auto &[name, bytes] : {std::pair{QStringLiteral("small.bin"), small}, std::pair{QStringLiteral("large.bin"), large},
                                          std::pair{QStringLiteral("huge.bin"), huge}}) {
            QFile f(m_tmp.filePath(QStringLiteral("plain/") + name));
            QVERIFY(f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size());
        }
        QProcess http;
        http.start(QStringLiteral("python3"), {QStringLiteral("-m"), QStringLiteral("http.server"), QStringLiteral("--bind"),
                                               QStringLiteral("127.0.0.1"), QString::number(port), QStringLiteral("--directory"),
                                               m_tmp.filePath(QStringLiteral("plain"))});
        QVERIFY(http.waitForStarted());
        const QString base = QStringLiteral("http://127.0.0.1:%1/").arg(port);
        QTRY_VERIFY_WITH_TIMEOUT(cli({QStringLiteral("info"), base + QStringLiteral("small.bin")}).exitCode == 0, 10000);

        const CliRun read = cli({QStringLiteral("read"), base + QStringLiteral("small.bin"), QStringLiteral("-r"), QStringLiteral("3000000-3000099")});
        QVERIFY2(read.exitCode == 0, read.err.constData());
        QCOMPARE(read.out, small.mid(3000000, 100));
        const CliRun prefetch = cli({QStringLiteral("prefetch"), base + QStringLiteral("large.bin"), QStringLiteral("--stats")});
        QVERIFY2(prefetch.exitCode == 0, prefetch.err.constData());
        QCOMPARE(statsValue(prefetch, "upstream_bytes"), large.size());
        const QString out = m_tmp.filePath(QStringLiteral("large.out"));
        QCOMPARE(cli({QStringLiteral("export"), base + QStringLiteral("large.bin"), QStringLiteral("-o"), out}).exitCode, 0);
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY(f.readAll() == large);

        // Larger than what is kept from one answer: a part of it cannot be had, the whole can.
        const CliRun part = cli({QStringLiteral("read"), base + QStringLiteral("huge.bin"), QStringLiteral("-r"), QStringLiteral("5000000-5000099")});
        QCOMPARE(part.exitCode, 1);
        QVERIFY2(part.err.contains("does not support ranges") && part.err.contains("prefetch") && part.err.count('\n') == 1, part.err.constData());
        const CliRun whole = cli({QStringLiteral("prefetch"), base + QStringLiteral("huge.bin"), QStringLiteral("--stats")});
        QVERIFY2(whole.exitCode == 0, whole.err.constData());
        QVERIFY(statsValue(whole, "upstream_bytes") < 2 * huge.size()); // the opening answer is stopped early
        QCOMPARE(checkPresentBytes(m_cache, base + QStringLiteral("huge.bin"), huge), huge.size());
        QCOMPARE(cli({QStringLiteral("read"), base + QStringLiteral("huge.bin"), QStringLiteral("-r"), QStringLiteral("5000000-5000099")}).out,
                 huge.mid(5000000, 100));

        // Opened with a HEAD (as the app opens), a part of a small object is cut from the whole.
        EngineConfig config;
        config.cacheDir = m_tmp.filePath(QStringLiteral("engine-cache"));
        auto opened = awaitFuture(SparseObject::open(base + QStringLiteral("small.bin"), config));
        QVERIFY2(opened.ok(), qPrintable(opened.ok() ? QString() : opened.error().message));
        const auto bytes = awaitFuture((*opened)->read({2000000, 2000100}));
        QVERIFY2(bytes.ok(), qPrintable(bytes.ok() ? QString() : bytes.error().message));
        QCOMPARE(*bytes, small.mid(2000000, 100));
        http.kill();
        http.waitForFinished();
    }
};

QTEST_GUILESS_MAIN(TestRoundTrips)
#include "tst_roundtrips.moc"
