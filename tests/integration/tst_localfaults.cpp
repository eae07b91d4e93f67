// Local I/O failures through the CLI against nginx: a full disk (simulated with RLIMIT_FSIZE on
// the child) makes a prefetch fail with one clear line, coverage only holds what was written and
// verifies, and the next run completes; an export that cannot be written leaves the file it would
// have replaced untouched and no temporary behind; a cache directory that cannot be created is a
// clear error; a data file damaged behind our back is found by verify and fetched again; a failing
// fdatasync (an LD_PRELOAD shim, support/failsync.cpp) is fatal for the object and says why.
#include "clirunner.h"
#include "nginxfixture.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <grp.h>
#include <unistd.h>

using namespace sparsescope::test;

class TestLocalFaults : public QObject {
    Q_OBJECT
    NginxFixture m_nginx;
    QTemporaryDir m_tmp;
    static constexpr qint64 kSize = 4 << 20;
    QByteArray m_bytes = patternBytes(kSize, 23);
    QString m_url;

    QString dataFileOf(const QString &cache)
    {
        const QJsonObject info = runCli(cache, {QStringLiteral("info"), m_url, QStringLiteral("--json")}).jsonOut();
        return info.value(QStringLiteral("cache_path")).toString() + QStringLiteral("/data");
    }

    qint64 presentBytes(const QString &cache)
    {
        const QJsonObject info = runCli(cache, {QStringLiteral("info"), m_url, QStringLiteral("--json")}).jsonOut();
        return qint64(info.value(QStringLiteral("present_bytes")).toDouble());
    }

    // On a healthy disk again: prefetch, then export to m_tmp/NAME; what the export holds, or an
    // empty array if either command failed.
    QByteArray prefetchAndExport(const QString &cache, const QString &name)
    {
        const QString out = m_tmp.filePath(name);
        if (runCli(cache, {QStringLiteral("prefetch"), m_url}).exitCode != 0 ||
            runCli(cache, {QStringLiteral("export"), m_url, QStringLiteral("-o"), out}).exitCode != 0)
            return {};
        QFile f(out);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_nginx.start(), qPrintable(m_nginx.errorText()));
        m_nginx.addFile(QStringLiteral("object.bin"), m_bytes);
        m_url = m_nginx.url(QStringLiteral("object.bin"));
    }

    void diskFullFailsCleanly()
    {
        const QString cache = m_tmp.filePath(QStringLiteral("full"));
        QCOMPARE(runCli(cache, {QStringLiteral("info"), m_url}).exitCode, 0); // creates the entry
        const CliRun full = runCli(cache, {QStringLiteral("prefetch"), m_url},
                                   60000, 1 << 20);
        QCOMPARE(full.exitCode, 1);
        const QString err = QString::fromUtf8(full.err).trimmed();
        qInfo("%s", qPrintable(err));
        QCOMPARE(err.count(u'\n'), 0);
        QVERIFY2(err.contains(m_url) && err.contains(QRegularExpression(QStringLiteral("bytes \\d+-\\d+"))) && err.contains(QStringLiteral("File too large")), qPrintable(err));

        // Coverage holds only what was written, and all of it is right.
        const qint64 present = presentBytes(cache);
        QVERIFY2(present <= (1 << 20), qPrintable(QString::number(present)));
        QCOMPARE(runCli(cache, {QStringLiteral("verify"), m_url}).exitCode, 0);

        // With room again, the same cache completes and exports the right bytes.
        QVERIFY(prefetchAndExport(cache, QStringLiteral("full.out")) == m_bytes);
    }

    void failedExportKeepsTheOldFile()
    {
        const QString cache = m_tmp.filePath(QStringLiteral("export"));
        QCOMPARE(runCli(cache, {QStringLiteral("prefetch"), m_url}).exitCode, 0);
        QDir dir(m_tmp.filePath(QStringLiteral("exportdir")));
        QVERIFY(dir.mkpath(QStringLiteral(".")));
        const QString target = dir.filePath(QStringLiteral("object.bin"));
        QFile old(target);
        QVERIFY(old.open(QIODevice::WriteOnly));
        old.write("the good old file\n");
        old.close();
        const CliRun r = runCli(cache, {QStringLiteral("export"), m_url, QStringLiteral("-o"), target}, 60000, 1 << 20);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("File too large"), r.err.constData());
        QVERIFY(old.open(QIODevice::ReadOnly));
        QCOMPARE(old.readAll(), QByteArray("the good old file\n"));
        QCOMPARE(dir.entryList(QDir::Files | QDir::Hidden), QStringList{QStringLiteral("object.bin")}); // no temporary left
    }

    void cacheDirectoryThatCannotBeCreated()
    {
        QFile blocker(m_tmp.filePath(QStringLiteral("not-a-dir")));
        QVERIFY(blocker.open(QIODevice::WriteOnly));
        blocker.close();
        const CliRun r = runCli(blocker.fileName() + QStringLiteral("/cache"), {QStringLiteral("read"), m_url, QStringLiteral("-r"),
                                                                                QStringLiteral("0-9")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY(r.out.isEmpty());
        QVERIFY2(r.err.contains(blocker.fileName().toUtf8()), r.err.constData());
    }

    // A cache directory the user may not write (another user's; as root the CLI runs as nobody):
    // one clear line naming the object, the directory and the cause; the entry in it is untouched.
    void cacheDirectoryNotWritable()
    {
        QTemporaryDir shared;
        QVERIFY(QFile::setPermissions(shared.path(), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner | QFile::ReadGroup
                                                         | QFile::ExeGroup | QFile::ReadOther | QFile::ExeOther));
        const QString cache = shared.filePath(QStringLiteral("cache"));
        QCOMPARE(runCli(cache, {QStringLiteral("read"), m_url, QStringLiteral("-r"), QStringLiteral("0-262143")}).exitCode, 0);
        const bool root = ::geteuid() == 0;
        if (!root)
            QVERIFY(QFile::setPermissions(cache, QFile::ReadOwner | QFile::ExeOwner));
        QProcess p;
        QString program = cliPath();
        if (root) {
            // nobody may not reach the build tree (a clone in a 0700 directory): run a copy.
            program = shared.filePath(QStringLiteral("sparsescope-cli"));
            QVERIFY(QFile::copy(cliPath(), program));
            p.setChildProcessModifier([] {
                if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)
                    ::_exit(99);
            });
        }
        p.start(program, {QStringLiteral("--cache-dir"), cache, QStringLiteral("read"), m_url, QStringLiteral("-r"),
                            QStringLiteral("1000000-1000009")});
        QVERIFY(p.waitForFinished(60000));
        const QString err = QString::fromUtf8(p.readAllStandardError()).trimmed();
        qInfo("%s", qPrintable(err));
        QCOMPARE(p.exitCode(), 1);
        QVERIFY(p.readAllStandardOutput().isEmpty());
        QCOMPARE(err.count(u'\n'), 0);
        QVERIFY2(err.contains(m_url) && err.contains(cache) && err.contains(QStringLiteral("Permission denied")), qPrintable(err));

        if (!root)
            QVERIFY(QFile::setPermissions(cache, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
        QCOMPARE(presentBytes(cache), qint64(262144));
        QCOMPARE(runCli(cache, {QStringLiteral("verify"), m_url}).exitCode, 0);
    }

    // Metadata damaged behind our back: a torn journal keeps what it can prove, a garbled
    // meta.json starts the entry afresh; either way with a warning, and no wrong byte is served.
    void damagedMetadataIsRecoveredOrDropped()
    {
        const QString cache = m_tmp.filePath(QStringLiteral("torn"));
        QCOMPARE(runCli(cache, {QStringLiteral("prefetch"), m_url}).exitCode, 0);
        const QString entry = QFileInfo(dataFileOf(cache)).path();
        {
            QFile journal(entry + QStringLiteral("/journal"));
            QVERIFY(journal.open(QIODevice::ReadWrite));
            QVERIFY(journal.resize(journal.size() / 2 + 13)); // torn in the middle of a record
        }
        const CliRun torn = runCli(cache, {QStringLiteral("info"), m_url, QStringLiteral("--json")});
        QCOMPARE(torn.exitCode, 0);
        QVERIFY2(!torn.err.isEmpty(), "a torn journal must be reported");
        const qint64 kept = qint64(torn.jsonOut().value(QStringLiteral("present_bytes")).toDouble());
        QVERIFY2(kept > 0 && kept < kSize, qPrintable(QString::number(kept)));
        QCOMPARE(runCli(cache, {QStringLiteral("verify"), m_url}).exitCode, 0);

        {
            QFile meta(entry + QStringLiteral("/meta.json"));
            QVERIFY(meta.open(QIODevice::WriteOnly | QIODevice::Truncate));
            meta.write("{\"size\": \"garbage");
        }
        const CliRun garbled = runCli(cache, {QStringLiteral("read"), m_url, QStringLiteral("-r"), QStringLiteral("0-99999"), QStringLiteral("--stats")});
        QCOMPARE(garbled.exitCode, 0);
        QVERIFY2(garbled.err.contains("afresh"), garbled.err.constData());
        QVERIFY(garbled.out == m_bytes.left(100000));
        QCOMPARE(garbled.stats().value(QStringLiteral("cache_hit_bytes")).toDouble(), 0.0); // nothing trusted from before
    }

    void damagedDataFileIsFoundAndFetchedAgain()
    {
        const QString cache = m_tmp.filePath(QStringLiteral("damaged"));
        const CliRun fetched = runCli(cache, {QStringLiteral("prefetch"), m_url});
        QVERIFY2(fetched.exitCode == 0, fetched.err.constData());
        {
            QFile data(dataFileOf(cache));
            QVERIFY(data.open(QIODevice::ReadWrite));
            QVERIFY(data.seek(3 * (256 << 10) + 17)); // inside chunk 3
            data.write("XXXX");
        }
        const CliRun v = runCli(cache, {QStringLiteral("verify"), m_url});
        QCOMPARE(v.exitCode, 1);
        const CliRun again = runCli(cache, {QStringLiteral("read"), m_url, QStringLiteral("-r"), QStringLiteral("786432-1048575"),
                                            QStringLiteral("--stats")});
        QCOMPARE(again.exitCode, 0);
        QVERIFY(again.out == m_bytes.mid(786432, 262144));
        QCOMPARE(again.stats().value(QStringLiteral("upstream_bytes")).toDouble(), double(256 << 10)); // chunk 3 fetched again
        QCOMPARE(runCli(cache, {QStringLiteral("verify"), m_url}).exitCode, 0);
    }

    // fdatasync(2) failing (the kernel may have dropped the pages it reported written) is fatal for
    // the object: one clear line, exit status 1, nothing written in that run recorded present,
    // what an earlier run committed kept; the next run, on a healthy disk, completes.
    void fsyncFailureIsFatalForTheObject()
    {
        const QString cache = m_tmp.filePath(QStringLiteral("fsync"));
        QCOMPARE(runCli(cache, {QStringLiteral("read"), m_url, QStringLiteral("-r"), QStringLiteral("0-262143")}).exitCode, 0);

        const CliRun failed = runCli(cache, {QStringLiteral("prefetch"), m_url}, 60000, -1, failingFdatasync(0));
        QCOMPARE(failed.exitCode, 1);
        const QString err = QString::fromUtf8(failed.err).trimmed();
        qInfo("%s", qPrintable(err));
        QCOMPARE(err.count(u'\n'), 0);
        QVERIFY2(err.contains(QStringLiteral("cannot fsync the cache of ") + m_url) && err.contains(QStringLiteral("Input/output error")),
                 qPrintable(err));

        QCOMPARE(presentBytes(cache), qint64(262144));
        QCOMPARE(runCli(cache, {QStringLiteral("verify"), m_url}).exitCode, 0);

        QVERIFY(prefetchAndExport(cache, QStringLiteral("fsync.out")) == m_bytes);
    }
};

QTEST_GUILESS_MAIN(TestLocalFaults)
#include "tst_localfaults.moc"
