// Crash trials: a `sparsescope-cli prefetch` is SIGKILLed at a random moment; afterwards every
// byte the cache calls present must equal the source, `verify` must be clean, and a read of the
// present ranges must need no upstream GET. SPARSESCOPE_CRASH_TRIALS sets the number of trials
// (default 5; the `slow` test runs 50).
#include "clirunner.h"
#include "nginxfixture.h"

#include <QJsonArray>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>

using namespace sparsescope::test;

class TestCrash : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void killedPrefetchLeavesCorrectCache()
    {
        NginxFixture nginx;
        QVERIFY2(nginx.start(), qPrintable(nginx.errorText()));
        const qint64 size = 16 * 1024 * 1024 + 4321;
        const QByteArray bytes = patternBytes(size, 7);
        nginx.addFile(QStringLiteral("crash.bin"), bytes);
        const QString url = nginx.url(QStringLiteral("slow/crash.bin")); // 4 MiB/s per connection
        const int trials = qEnvironmentVariableIntValue("SPARSESCOPE_CRASH_TRIALS") > 0
                               ? qEnvironmentVariableIntValue("SPARSESCOPE_CRASH_TRIALS") : 5;
        QTemporaryDir tmp;
        const QString cache = tmp.filePath(QStringLiteral("cache"));
        QRandomGenerator rng(QRandomGenerator::global()->generate());
        qint64 lastPresent = -1;
        for (int trial = 0; trial < trials; ++trial) {
            QProcess p;
            p.start(cliPath(), {QStringLiteral("--cache-dir"), cache, QStringLiteral("--chunk-size"), QStringLiteral("64K"),
                                QStringLiteral("prefetch"), url});
            QVERIFY(p.waitForStarted());
            QThread::msleep(100 + rng.bounded(600));
            ::kill(pid_t(p.processId()), SIGKILL);
            QVERIFY(p.waitForFinished(10000));

            const CliRun info = runCli(cache, {QStringLiteral("info"), url, QStringLiteral("--json")});
            QCOMPARE(info.exitCode, 0);
            const QJsonObject j = info.jsonOut();
            // Every present byte is the source's byte, read straight from the cache's data file.
            QFile data(j.value(QStringLiteral("cache_path")).toString() + QStringLiteral("/data"));
            QVERIFY(data.open(QIODevice::ReadOnly));
            qint64 present = 0;
            for (const QJsonValue &v : j.value(QStringLiteral("ranges")).toArray()) {
                const qint64 b = qint64(v.toArray().at(0).toDouble()), e = qint64(v.toArray().at(1).toDouble());
                QVERIFY(data.seek(b));
                QVERIFY2(data.read(e - b) == bytes.mid(b, e - b), qPrintable(QStringLiteral("trial %1: bytes %2-%3 differ").arg(trial).arg(b).arg(e - 1)));
                present += e - b;
            }
            QCOMPARE(qint64(j.value(QStringLiteral("present_bytes")).toDouble()), present);
            QVERIFY2(present >= lastPresent, "coverage never goes backwards across crashes");
            lastPresent = present;
            const CliRun verify = runCli(cache, {QStringLiteral("verify"), url});
            QVERIFY2(verify.exitCode == 0, verify.out.constData());
            qInfo("trial %d: killed with %lld of %lld bytes present", trial, present, size);
            if (present == size) { // finished before the kill: start over
                QCOMPARE(runCli(cache, {QStringLiteral("evict"), url}).exitCode, 0);
                lastPresent = 0;
            }
        }
        // Finally, completing the prefetch yields the source exactly.
        QCOMPARE(runCli(cache, {QStringLiteral("prefetch"), nginx.url(QStringLiteral("crash.bin"))}).exitCode, 0);
        const CliRun all = runCli(cache, {QStringLiteral("read"), nginx.url(QStringLiteral("crash.bin")), QStringLiteral("-r"), QStringLiteral("0-")});
        QCOMPARE(all.exitCode, 0);
        QVERIFY(all.out == bytes);
    }
};

QTEST_GUILESS_MAIN(TestCrash)
#include "tst_crash.moc"
