// TLS through the CLI against nginx with a fresh self-signed certificate: refused by default with a
// clear message (certificates are always verified), accepted with --ca-file naming that
// certificate, and an unusable --ca-file is a usage error. Nothing is cached from a refused server.
#include "clirunner.h"
#include "nginxfixture.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

using namespace sparsescope::test;

class TestTls : public QObject {
    Q_OBJECT
    NginxFixture m_nginx;
    QTemporaryDir m_tmp;
    QByteArray m_bytes = patternBytes(300000, 17);

private Q_SLOTS:
    void initTestCase()
    {
        m_nginx.enableTls();
        QVERIFY2(m_nginx.start(), qPrintable(m_nginx.errorText()));
        m_nginx.addFile(QStringLiteral("object.bin"), m_bytes);
    }

    void untrustedCertificateIsRefused()
    {
        const QString cache = m_tmp.filePath(QStringLiteral("refused"));
        const CliRun r = runCli(cache, {QStringLiteral("read"), m_nginx.tlsUrl(QStringLiteral("object.bin")), QStringLiteral("-r"),
                                        QStringLiteral("0-99")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY(r.out.isEmpty());
        const QString err = QString::fromUtf8(r.err);
        QVERIFY2(err.contains(QStringLiteral("TLS handshake failed")) && err.contains(QStringLiteral("--ca-file")), qPrintable(err));
        QVERIFY2(err.contains(m_nginx.tlsUrl(QStringLiteral("object.bin"))), qPrintable(err));
        qInfo("%s", qPrintable(err.trimmed()));
        QCOMPARE(err.trimmed().count(u'\n'), 0); // one line
        QVERIFY(QDir(cache + QStringLiteral("/objects")).entryList(QDir::Dirs | QDir::NoDotAndDotDot).isEmpty());
    }

    void caFileMakesItPass()
    {
        const QString cache = m_tmp.filePath(QStringLiteral("trusted"));
        const CliRun r = runCli(cache, {QStringLiteral("--ca-file"), m_nginx.certificatePath(), QStringLiteral("read"),
                                        m_nginx.tlsUrl(QStringLiteral("object.bin")), QStringLiteral("-r"), QStringLiteral("1000-250999")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY(r.out == m_bytes.mid(1000, 250000));
    }

    void unusableCaFileIsAUsageError()
    {
        QFile junk(m_tmp.filePath(QStringLiteral("junk.pem")));
        QVERIFY(junk.open(QIODevice::WriteOnly));
        junk.write("not a certificate\n");
        junk.close();
        const CliRun r = runCli(m_tmp.filePath(QStringLiteral("junk")), {QStringLiteral("--ca-file"), junk.fileName(), QStringLiteral("info"),
                                                                         m_nginx.tlsUrl(QStringLiteral("object.bin"))});
        QVERIFY(r.exitCode != 0);
        QVERIFY2(r.err.contains("--ca-file") && r.err.contains("no PEM certificate"), r.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestTls)
#include "tst_tls.moc"
