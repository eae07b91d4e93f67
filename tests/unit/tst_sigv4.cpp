// SigV4 against AWS's published example, and the AWS CLI's order of settings (env, profile files).
#include "awssettings.h"
#include "sigv4.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

using namespace sparsescope;

class TestSigV4 : public QObject {
    Q_OBJECT
    static aws::Credentials example() { return {QStringLiteral("AKIAIOSFODNN7EXAMPLE"), QStringLiteral("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), {}}; }
    static QByteArray header(const sigv4::Headers &h, const QByteArray &name)
    {
        for (const auto &[n, v] : h)
            if (n.toLower() == name)
                return v;
        return {};
    }
    QTemporaryDir m_home;

private Q_SLOTS:
    void awsExampleGetObject()
    {
        // "Example: GET Object" of the S3 SigV4 documentation (header-based auth): the first 10
        // bytes of examplebucket/test.txt on 2013-05-24.
        const QUrl url(QStringLiteral("https://examplebucket.s3.amazonaws.com/test.txt"));
        const QDateTime when(QDate(2013, 5, 24), QTime(0, 0), Qt::UTC);
        const sigv4::Headers added = sigv4::sign("GET", url, {{"Range", "bytes=0-9"}}, example(), QStringLiteral("us-east-1"), when);
        QCOMPARE(header(added, "x-amz-date"), QByteArray("20130524T000000Z"));
        QCOMPARE(header(added, "x-amz-content-sha256"), QByteArray(sigv4::kEmptyPayloadHash));
        QCOMPARE(header(added, "authorization"),
                 QByteArray("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"));
    }

    void canonicalRequestEncodesKeysOnceAndSortsTheQuery()
    {
        QUrl url(QStringLiteral("http://127.0.0.1:9000"));
        url.setPath(QStringLiteral("/bucket/dir/a b+c%d/é~.txt"), QUrl::DecodedMode);
        url.setQuery(QStringLiteral("prefix=dir/&list-type=2&continuation-token=a+b"));
        const QByteArray c = sigv4::canonicalRequest("GET", url, {{"Host", "127.0.0.1:9000"}, {"X-Amz-Date", " 20240101T000000Z "}}, "UNSIGNED");
        QCOMPARE(c.split('\n').at(1), QByteArray("/bucket/dir/a%20b%2Bc%25d/%C3%A9~.txt"));
        QCOMPARE(c.split('\n').at(2), QByteArray("continuation-token=a%2Bb&list-type=2&prefix=dir%2F")); // a query's + is a plus (RFC 3986)
        QCOMPARE(c.split('\n').at(3), QByteArray("host:127.0.0.1:9000"));
        QCOMPARE(c.split('\n').at(4), QByteArray("x-amz-date:20240101T000000Z"));
        QCOMPARE(c.split('\n').at(6), QByteArray("host;x-amz-date"));
    }

    void noCredentialsMeansUnsigned()
    {
        QVERIFY(sigv4::sign("GET", QUrl(QStringLiteral("https://b.s3.amazonaws.com/k")), {}, {}, QStringLiteral("us-east-1"),
                            QDateTime::currentDateTimeUtc()).isEmpty());
        aws::Credentials temporary = example();
        temporary.sessionToken = QStringLiteral("TOKEN");
        const auto added = sigv4::sign("HEAD", QUrl(QStringLiteral("https://b.s3.amazonaws.com/k")), {}, temporary,
                                       QStringLiteral("eu-west-1"), QDateTime::currentDateTimeUtc());
        QCOMPARE(header(added, "x-amz-security-token"), QByteArray("TOKEN"));
        QVERIFY(header(added, "authorization").contains("x-amz-security-token"));
        QVERIFY(!header(added, "authorization").contains("wJalr")); // the secret never appears
    }

    void agreesWithBotocore()
    {
        // botocore (Debian's python3-botocore, installed by scripts/setup-debian.sh) signs the same
        // requests at the same instant: the Authorization headers must be equal.
        const QDateTime when(QDate(2024, 1, 2), QTime(3, 4, 5), Qt::UTC);
        const char *script =
            "import sys, datetime\n"
            "import botocore.auth, botocore.awsrequest, botocore.credentials\n"
            "class Fixed(datetime.datetime):\n"
            "    @classmethod\n"
            "    def utcnow(cls): return cls(2024, 1, 2, 3, 4, 5)\n"
            "    @classmethod\n"
            "    def now(cls, tz=None): return cls(2024, 1, 2, 3, 4, 5, tzinfo=tz)\n"
            "botocore.auth.datetime.datetime = Fixed\n"
            "for url in sys.argv[3:]:\n"
            "    r = botocore.awsrequest.AWSRequest(method='GET', url=url)\n"
            "    botocore.auth.S3SigV4Auth(botocore.credentials.Credentials(sys.argv[1], sys.argv[2]), 's3', 'eu-west-1').add_auth(r)\n"
            "    print(r.headers['Authorization'])\n";
        const QStringList urls = {QStringLiteral("https://bucket.s3.eu-west-1.amazonaws.com/dir/key.bin"),
                                  QStringLiteral("http://127.0.0.1:9000/bucket?continuation-token=abc&list-type=2&prefix=a%2Fb")};
        QProcess python;
        python.start(QStringLiteral("python3"), QStringList{QStringLiteral("-c"), QString::fromLatin1(script), example().accessKeyId,
                                                            example().secretAccessKey} + urls);
        QVERIFY(python.waitForFinished(30000));
        if (python.exitCode() != 0 && python.readAllStandardError().contains("No module named 'botocore'"))
            QSKIP("python3-botocore is not installed: run scripts/setup-debian.sh");
        const QList<QByteArray> theirs = python.readAllStandardOutput().trimmed().split('\n');
        QCOMPARE(theirs.size(), urls.size());
        for (int i = 0; i < urls.size(); ++i) {
            const sigv4::Headers ours = sigv4::sign("GET", QUrl(urls[i]), {}, example(), QStringLiteral("eu-west-1"), when);
            QCOMPARE(header(ours, "authorization"), theirs[i].trimmed().replace(", ", ",")); // botocore writes ", "
        }
    }

    void settingsFollowTheAwsCliOrder()
    {
        const QString creds = m_home.filePath(QStringLiteral("credentials")), config = m_home.filePath(QStringLiteral("config"));
        QFile c(creds);
        QVERIFY(c.open(QIODevice::WriteOnly));
        c.write("[default]\naws_access_key_id = DEFAULTKEY\naws_secret_access_key = s/e+c=\n\n[work]\naws_access_key_id=WORKKEY\n"
                "aws_secret_access_key=worksecret\n");
        c.close();
        QFile f(config);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("[default]\nregion = eu-central-1\n[profile work]\nregion = ap-south-1\nendpoint_url = http://127.0.0.1:9000\n");
        f.close();
        for (const char *v : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION",
                              "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"})
            qunsetenv(v);
        qputenv("AWS_SHARED_CREDENTIALS_FILE", QFile::encodeName(creds));
        qputenv("AWS_CONFIG_FILE", QFile::encodeName(config));

        auto s = aws::resolveS3Settings();
        QVERIFY(s.ok());
        QCOMPARE(s->credentials.accessKeyId, QStringLiteral("DEFAULTKEY"));
        QCOMPARE(s->credentials.secretAccessKey, QStringLiteral("s/e+c=")); // taken as written
        QCOMPARE(s->region, QStringLiteral("eu-central-1"));
        QVERIFY(s->endpoint.isEmpty());
        QCOMPARE(aws::objectUrl(*s, QStringLiteral("bucket"), QStringLiteral("a b/é.zip")).toString(QUrl::FullyEncoded),
                 QStringLiteral("https://bucket.s3.eu-central-1.amazonaws.com/a%20b/%C3%A9.zip"));
        QCOMPARE(aws::objectUrl(*s, QStringLiteral("my.bucket"), QStringLiteral("k")).toString(QUrl::FullyEncoded),
                 QStringLiteral("https://s3.eu-central-1.amazonaws.com/my.bucket/k")); // dots: path style
        QCOMPARE(aws::endpointIdentity(), QStringLiteral("aws"));

        qputenv("AWS_PROFILE", "work");
        s = aws::resolveS3Settings();
        QVERIFY(s.ok());
        QCOMPARE(s->credentials.accessKeyId, QStringLiteral("WORKKEY"));
        QCOMPARE(s->region, QStringLiteral("ap-south-1"));
        QCOMPARE(aws::objectUrl(*s, QStringLiteral("bucket"), QStringLiteral("k%20")).toString(QUrl::FullyEncoded),
                 QStringLiteral("http://127.0.0.1:9000/bucket/k%2520"));
        QCOMPARE(aws::endpointIdentity(), QStringLiteral("http://127.0.0.1:9000"));

        qputenv("AWS_ACCESS_KEY_ID", "ENVKEY");
        qputenv("AWS_SECRET_ACCESS_KEY", "envsecret");
        qputenv("AWS_REGION", "us-west-2");
        qputenv("AWS_ENDPOINT_URL_S3", "http://localhost:9100/");
        s = aws::resolveS3Settings();
        QCOMPARE(s->credentials.accessKeyId, QStringLiteral("ENVKEY"));
        QCOMPARE(s->region, QStringLiteral("us-west-2"));
        QCOMPARE(aws::endpointIdentity(), QStringLiteral("http://localhost:9100"));

        qputenv("AWS_ENDPOINT_URL_S3", "ftp://nope");
        QCOMPARE(aws::resolveS3Settings().error().kind, ErrorKind::Usage);
        qunsetenv("AWS_ENDPOINT_URL_S3");
        qputenv("AWS_PROFILE", "missing");
        QVERIFY(aws::resolveS3Settings().error().message.contains(QStringLiteral("missing")));
    }
};

QTEST_GUILESS_MAIN(TestSigV4)
#include "tst_sigv4.moc"
