// S3 sources through the real CLI against tests/support/s3server.py, which checks every request's
// SigV4 signature on its own and logs what it was asked: HEAD then range GETs with If-Match, keys
// as the AWS CLI writes them, a replaced object, ListObjectsV2 paging, errors explained, SlowDown
// retried, archives listed from S3.
#include "clirunner.h"
#include "s3serverfixture.h"
#include "awaitfuture.h"
#include "nginxfixture.h" // patternBytes
#include "sparseobject.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

using namespace sparsescope;
using namespace sparsescope::test;

class TestS3 : public QObject {
    Q_OBJECT
    S3ServerFixture m_s3;
    QTemporaryDir m_tmp;
    QByteArray m_bytes;

    CliRun cli(const QString &cache, const QStringList &args, const QStringList &env = {})
    {
        return runCli(m_tmp.filePath(cache), args, 120000, -1, m_s3.environment() + env);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_s3.start(), qPrintable(m_s3.errorText()));
        m_bytes = patternBytes(3'000'000, 21);
        m_s3.put(QStringLiteral("bkt"), QStringLiteral("obj.bin"), m_bytes);
    }
    void init() { m_s3.clearLog(); }

    void readsAreSignedAndCheckedWithIfMatch()
    {
        const CliRun r = cli(QStringLiteral("c1"), {QStringLiteral("read"), QStringLiteral("s3://bkt/obj.bin"), QStringLiteral("-r"),
                                                   QStringLiteral("1000000-1000999")});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out, m_bytes.mid(1'000'000, 1000));
        const QList<S3LogEntry> log = m_s3.log();
        QCOMPARE(log.size(), 2);
        QCOMPARE(log[0].method, QStringLiteral("HEAD")); // HEAD records size and ETag
        QCOMPARE(log[1].method, QStringLiteral("GET"));
        QCOMPARE(log[1].status, 206);
        const QString etag = QStringLiteral("\"%1\"").arg(QString::fromLatin1(QCryptographicHash::hash(m_bytes, QCryptographicHash::Md5).toHex()));
        QCOMPARE(log[1].ifMatch, etag); // every range GET must match the ETag
        const CliRun info = cli(QStringLiteral("c1"), {QStringLiteral("info"), QStringLiteral("s3://bkt/obj.bin"), QStringLiteral("--json")});
        QCOMPARE(info.jsonOut().value(QStringLiteral("size")).toDouble(), 3'000'000.0);
        QVERIFY(!info.out.contains(S3ServerFixture::secretKey().toUtf8()));
    }

    void theServerAgreesWithCurl()
    {
        // The test server's own SigV4 check (the one every test here relies on) accepts curl's
        // --aws-sigv4 signatures and refuses a wrong secret: two implementations, one verdict.
        // (curl 7.88 signs the query in the order written: the query here is sorted.)
        const QString url = m_s3.endpoint() + QStringLiteral("/curl?list-type=2&max-keys=1&prefix=logs%2F");
        auto curl = [&](const QString &secret) {
            QProcess p;
            p.start(QStringLiteral("curl"), {QStringLiteral("-s"), QStringLiteral("-o"), QStringLiteral("/dev/null"), QStringLiteral("-w"),
                                             QStringLiteral("%{http_code}"), QStringLiteral("--aws-sigv4"), QStringLiteral("aws:amz:us-east-1:s3"),
                                             QStringLiteral("--user"), S3ServerFixture::accessKey() + u':' + secret, url});
            p.waitForFinished(30000);
            return p.readAllStandardOutput();
        };
        m_s3.put(QStringLiteral("curl"), QStringLiteral("logs/x"), "x");
        QCOMPARE(curl(S3ServerFixture::secretKey()), QByteArray("200"));
        QCOMPARE(curl(QStringLiteral("wrong")), QByteArray("403"));
    }

    void keysAsTheAwsCliWritesThem()
    {
        const QString key = QStringLiteral("sp ace/é x%20+y.txt"); // '%' and '+' literal
        m_s3.put(QStringLiteral("bkt"), key, "spelled as written\n");
        const CliRun r = cli(QStringLiteral("c2"), {QStringLiteral("read"), QStringLiteral("s3://bkt/") + key, QStringLiteral("-r"), QStringLiteral("0-")});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out, QByteArray("spelled as written\n"));
        QCOMPARE(m_s3.log().last().path, QStringLiteral("/bkt/") + key);
    }

    void aReplacedObjectNeverGivesItsOldBytes()
    {
        m_s3.put(QStringLiteral("bkt"), QStringLiteral("swap.bin"), m_bytes);
        QCOMPARE(cli(QStringLiteral("c3"), {QStringLiteral("prefetch"), QStringLiteral("s3://bkt/swap.bin")}).exitCode, 0);
        const QByteArray replacement = patternBytes(3'000'000, 22);
        m_s3.put(QStringLiteral("bkt"), QStringLiteral("swap.bin"), replacement);
        const CliRun r = cli(QStringLiteral("c3"), {QStringLiteral("read"), QStringLiteral("s3://bkt/swap.bin"), QStringLiteral("-r"), QStringLiteral("0-99999")});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out, replacement.left(100000));
        QVERIFY2(r.err.contains("changed upstream"), r.err.constData());
    }

    void replacedWhileOpenIsA412()
    {
        // In one process (the app, a mount): the object is replaced after it was opened. The next
        // range GET's If-Match fails (412): the cached bytes are dropped and the read says so.
        m_s3.exportEnvironment();
        m_s3.put(QStringLiteral("bkt"), QStringLiteral("live.bin"), m_bytes);
        EngineConfig c;
        c.cacheDir = m_tmp.filePath(QStringLiteral("c10"));
        auto o = awaitFuture(SparseObject::open(QStringLiteral("s3://bkt/live.bin"), c));
        QVERIFY2(o.ok(), o.ok() ? "" : o.error().message.toUtf8().constData());
        QCOMPARE(*awaitFuture((*o)->read({0, 1000})), m_bytes.left(1000));
        m_s3.put(QStringLiteral("bkt"), QStringLiteral("live.bin"), patternBytes(3'000'000, 23));
        auto late = awaitFuture((*o)->read({2'000'000, 2'001'000}));
        QVERIFY(!late.ok());
        QCOMPARE(late.error().kind, ErrorKind::Changed);
        QVERIFY2(late.error().message.contains(QStringLiteral("replaced")), qPrintable(late.error().message));
        QVERIFY(!(*o)->readPresent({0, 1000})); // never the old bytes, not even before they are evicted
        QTRY_COMPARE((*o)->presentBytes(), 0);  // then they are gone from the cache
        QCOMPARE(m_s3.log().last().status, 412);
    }

    void listingPagesThroughContinuationTokens()
    {
        for (int i = 0; i < 2500; ++i)
            m_s3.put(QStringLiteral("many"), QStringLiteral("logs/%1/part-%2.txt").arg(i % 3).arg(i, 5, 10, QLatin1Char('0')), QByteArray::number(i));
        m_s3.put(QStringLiteral("many"), QStringLiteral("top.txt"), "top");
        m_s3.clearLog();
        const CliRun all = cli(QStringLiteral("c4"), {QStringLiteral("ls"), QStringLiteral("s3://many/logs/"), QStringLiteral("--recursive"),
                                                     QStringLiteral("--json")});
        QCOMPARE(all.exitCode, 0);
        const QJsonArray keys = QJsonDocument::fromJson(all.out).array();
        QCOMPARE(keys.size(), 2500);
        const QJsonObject first = keys.first().toObject();
        QCOMPARE(first.value(QStringLiteral("key")).toString(), QStringLiteral("logs/0/part-00000.txt"));
        QCOMPARE(first.value(QStringLiteral("type")).toString(), QStringLiteral("object"));
        QCOMPARE(first.value(QStringLiteral("size")).toInt(), 1);
        QVERIFY(!first.value(QStringLiteral("etag")).toString().contains(u'"'));
        QVERIFY(first.value(QStringLiteral("last_modified")).toString().endsWith(u'Z'));
        QCOMPARE(m_s3.log().size(), 3); // 1,000 keys a page
        const CliRun top = cli(QStringLiteral("c4"), {QStringLiteral("ls"), QStringLiteral("s3://many"), QStringLiteral("--json")});
        const QJsonArray entries = QJsonDocument::fromJson(top.out).array();
        QCOMPARE(entries.size(), 2);
        QCOMPARE(entries[0].toObject().value(QStringLiteral("key")).toString(), QStringLiteral("logs/"));
        QCOMPARE(entries[0].toObject().value(QStringLiteral("type")).toString(), QStringLiteral("prefix"));
        QVERIFY(entries[0].toObject().value(QStringLiteral("etag")).isNull());
        QCOMPARE(entries[1].toObject().value(QStringLiteral("key")).toString(), QStringLiteral("top.txt"));
        const CliRun text = cli(QStringLiteral("c4"), {QStringLiteral("ls"), QStringLiteral("s3://many")});
        QVERIFY2(text.out.contains(" PRE logs/\n") && text.out.contains(" top.txt\n"), text.out.constData());
    }

    void errorsSayWhatToDoAndNoSecret()
    {
        CliRun r = cli(QStringLiteral("c5"), {QStringLiteral("read"), QStringLiteral("s3://bkt/obj.bin"), QStringLiteral("-r"), QStringLiteral("0-9")},
                       {QStringLiteral("AWS_SECRET_ACCESS_KEY=not/the+secret")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("s3://bkt/obj.bin: SignatureDoesNotMatch") && r.err.contains("AWS_SECRET_ACCESS_KEY"), r.err.constData());
        QVERIFY(!r.err.contains("not/the+secret"));
        r = cli(QStringLiteral("c5"), {QStringLiteral("info"), QStringLiteral("s3://bkt/missing.bin")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("NoSuchKey") && r.err.contains("missing.bin"), r.err.constData());
        r = cli(QStringLiteral("c5"), {QStringLiteral("ls"), QStringLiteral("s3://nobucket/")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("NoSuchBucket"), r.err.constData());
        r = cli(QStringLiteral("c5"), {QStringLiteral("info"), QStringLiteral("s3://bkt/obj.bin")}, {QStringLiteral("AWS_ACCESS_KEY_ID=")});
        QCOMPARE(r.exitCode, 1); // no credentials: unsigned, and this bucket is not public
        QVERIFY2(r.err.contains("AccessDenied"), r.err.constData());
        QVERIFY(!m_s3.log().isEmpty());
    }

    void clockSkewIsNamed()
    {
        S3ServerFixture ahead;
        QVERIFY(ahead.start({QStringLiteral("--clock-offset"), QStringLiteral("3600")}));
        ahead.put(QStringLiteral("bkt"), QStringLiteral("o"), "x");
        const CliRun r = runCli(m_tmp.filePath(QStringLiteral("c6")), {QStringLiteral("info"), QStringLiteral("s3://bkt/o")}, 60000, -1,
                                ahead.environment());
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("RequestTimeTooSkewed") && r.err.contains("clock"), r.err.constData());
    }

    void slowDownIsRetried()
    {
        S3ServerFixture busy;
        QVERIFY(busy.start({QStringLiteral("--slowdown"), QStringLiteral("2")}));
        busy.put(QStringLiteral("bkt"), QStringLiteral("o.bin"), m_bytes);
        const CliRun r = runCli(m_tmp.filePath(QStringLiteral("c7")), {QStringLiteral("read"), QStringLiteral("s3://bkt/o.bin"), QStringLiteral("-r"),
                                                                      QStringLiteral("0-999")}, 60000, -1, busy.environment());
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out, m_bytes.left(1000));
        int slowDowns = 0;
        for (const S3LogEntry &e : busy.log())
            slowDowns += e.status == 503;
        QCOMPARE(slowDowns, 2);
    }

    void endpointOptionAndCacheIdentity()
    {
        // --endpoint-url outranks AWS_ENDPOINT_URL_S3, and the same bucket and key on another
        // endpoint is another object (its own cache entry).
        S3ServerFixture other;
        QVERIFY(other.start());
        other.put(QStringLiteral("bkt"), QStringLiteral("obj.bin"), "elsewhere");
        QStringList env = m_s3.environment();
        env.replaceInStrings(QRegularExpression(QStringLiteral("^AWS_ENDPOINT_URL_S3=.*")), QStringLiteral("AWS_ENDPOINT_URL_S3=http://127.0.0.1:1"));
        const QString cache = m_tmp.filePath(QStringLiteral("c8"));
        const CliRun here = runCli(cache, {QStringLiteral("--endpoint-url"), m_s3.endpoint(), QStringLiteral("info"),
                                           QStringLiteral("s3://bkt/obj.bin"), QStringLiteral("--json")}, 60000, -1, env);
        QCOMPARE(here.exitCode, 0);
        QCOMPARE(here.jsonOut().value(QStringLiteral("size")).toDouble(), 3'000'000.0);
        const CliRun there = runCli(cache, {QStringLiteral("--endpoint-url"), other.endpoint(), QStringLiteral("info"),
                                            QStringLiteral("s3://bkt/obj.bin"), QStringLiteral("--json")}, 60000, -1, env);
        QCOMPARE(there.exitCode, 0);
        QCOMPARE(there.jsonOut().value(QStringLiteral("size")).toDouble(), 9.0);
        QVERIFY(here.jsonOut().value(QStringLiteral("cache_path")) != there.jsonOut().value(QStringLiteral("cache_path")));
        const CliRun nowhere = runCli(cache, {QStringLiteral("info"), QStringLiteral("s3://bkt/obj.bin")}, 60000, -1, env);
        QCOMPARE(nowhere.exitCode, 1); // the environment's endpoint: nothing listens on port 1
        QVERIFY2(nowhere.err.contains("connection refused"), nowhere.err.constData());
    }

    void archivesOnS3ListAsOverHttp()
    {
        QProcess zip;
        zip.start(QStringLiteral("python3"), {QStringLiteral("-c"), QStringLiteral(
            "import zipfile,sys\nwith zipfile.ZipFile(sys.argv[1],'w') as z:\n for i in range(50): z.writestr('d/f%02d.txt'%i, 'entry %d\\n'%i*50)"),
            m_tmp.filePath(QStringLiteral("a.zip"))});
        QVERIFY(zip.waitForFinished(30000) && zip.exitCode() == 0);
        QFile f(m_tmp.filePath(QStringLiteral("a.zip")));
        QVERIFY(f.open(QIODevice::ReadOnly));
        m_s3.put(QStringLiteral("bkt"), QStringLiteral("arch/a.zip"), f.readAll());
        m_s3.clearLog();
        const CliRun r = cli(QStringLiteral("c9"), {QStringLiteral("list"), QStringLiteral("s3://bkt/arch/a.zip")});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out.count('\n'), 50);
        QVERIFY(r.out.startsWith("d/f00.txt\t"));
        QVERIFY2(m_s3.log().size() <= 3, qPrintable(QString::number(m_s3.log().size()))); // HEAD and the tail
        const CliRun one = cli(QStringLiteral("c9"), {QStringLiteral("extract"), QStringLiteral("s3://bkt/arch/a.zip"), QStringLiteral("d/f07.txt"),
                                                     QStringLiteral("-o"), QStringLiteral("-")});
        QCOMPARE(one.exitCode, 0);
        QCOMPARE(one.out, QByteArray("entry 7\n").repeated(50));
    }

    void interoperatesWithS3rver()
    {
        // @20minutes/s3rver (Node; it checks SigV4 with its own code): installed by
        // scripts/setup-npm.sh, part of the README's test command.
        const QString npm = QStringLiteral(SPARSESCOPE_NPM_DIR);
        if (!QFile::exists(npm + QStringLiteral("/node_modules/@20minutes/s3rver/package.json")))
            QSKIP("@20minutes/s3rver is not installed: run scripts/setup-npm.sh");
        QProcess node;
        node.start(QStringLiteral("node"), {QStringLiteral(SPARSESCOPE_S3RVER_JS), npm, m_tmp.filePath(QStringLiteral("s3rver")),
                                            QStringLiteral("bkt")});
        QVERIFY2(node.waitForStarted(10000), qPrintable(node.errorString()));
        while (!node.canReadLine() && node.waitForReadyRead(20000)) {
        }
        const QByteArray line = node.readLine().trimmed();
        QVERIFY2(line.startsWith("listening "), node.readAllStandardError().constData());
        const QString endpoint = QStringLiteral("http://127.0.0.1:%1").arg(QString::fromLatin1(line.mid(10)));
        QFile body(m_tmp.filePath(QStringLiteral("put.bin")));
        QVERIFY(body.open(QIODevice::WriteOnly));
        body.write(m_bytes);
        body.close();
        QProcess put; // s3rver takes unsigned uploads
        put.start(QStringLiteral("curl"), {QStringLiteral("-sf"), QStringLiteral("-X"), QStringLiteral("PUT"), QStringLiteral("--data-binary"),
                                           QStringLiteral("@") + body.fileName(), endpoint + QStringLiteral("/bkt/dir/my%20obj.bin")});
        QVERIFY(put.waitForFinished(30000) && put.exitCode() == 0);
        const QStringList env = {QStringLiteral("AWS_ACCESS_KEY_ID=S3RVER"), QStringLiteral("AWS_SECRET_ACCESS_KEY=S3RVER"),
                                 QStringLiteral("AWS_ENDPOINT_URL_S3=") + endpoint, QStringLiteral("AWS_CONFIG_FILE=/dev/null"),
                                 QStringLiteral("AWS_SHARED_CREDENTIALS_FILE=/dev/null")};
        const QString cache = m_tmp.filePath(QStringLiteral("c11"));
        CliRun r = runCli(cache, {QStringLiteral("read"), QStringLiteral("s3://bkt/dir/my obj.bin"), QStringLiteral("-r"), QStringLiteral("100000-")},
                          60000, -1, env);
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out, m_bytes.mid(100000));
        r = runCli(cache, {QStringLiteral("ls"), QStringLiteral("s3://bkt"), QStringLiteral("--recursive"), QStringLiteral("--json")}, 60000, -1, env);
        QCOMPARE(r.exitCode, 0);
        const QJsonArray keys = QJsonDocument::fromJson(r.out).array();
        QCOMPARE(keys.size(), 1);
        QCOMPARE(keys[0].toObject().value(QStringLiteral("key")).toString(), QStringLiteral("dir/my obj.bin"));
        QCOMPARE(keys[0].toObject().value(QStringLiteral("size")).toDouble(), double(m_bytes.size()));
        r = runCli(m_tmp.filePath(QStringLiteral("c12")), {QStringLiteral("info"), QStringLiteral("s3://bkt/dir/my obj.bin")}, 60000, -1,
                   env + QStringList{QStringLiteral("AWS_SECRET_ACCESS_KEY=wrong")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("SignatureDoesNotMatch"), r.err.constData());
        node.kill();
        node.waitForFinished(5000);
    }
};

QTEST_GUILESS_MAIN(TestS3)
#include "tst_s3.moc"
