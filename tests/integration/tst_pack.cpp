// Packed storage through the CLI, against a real nginx whose access log counts what was fetched
// (issue "Packed storage"): the same object at two URLs is stored once; a damaged pack is found by
// `verify` (exit 1) and its chunks are fetched again on the next read; readers in other processes
// go on while `pack` runs; and kill trials (`pack` or `repack` SIGKILLed at a random moment) leave
// every present byte right and `verify` clean. SPARSESCOPE_PACK_KILL_TRIALS sets the number of
// kill trials (default 20; the `slow` test runs 200).
#include "clirunner.h"
#include "nginxfixture.h"

#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <sys/stat.h>

using namespace sparsescope::test;

namespace {
// Half log-like text (compresses), half pseudo-random bytes (does not), in 1 MiB stripes.
QByteArray mixedBytes(qint64 size, quint32 seed)
{
    QByteArray out;
    out.reserve(size);
    const QByteArray random = patternBytes(size, seed);
    qint64 line = 0;
    while (out.size() < size) {
        if ((out.size() >> 20) % 2 == 0)
            out += QStringLiteral("2026-11-30T12:%1 INFO worker-%2 GET /api/v1/items?id=%3 status=200 dur_ms=%4\n")
                       .arg(line % 60).arg(line % 16).arg(line * 7919 % 100000).arg(line % 97).toLatin1();
        else
            out += random.mid(out.size(), 4096);
        ++line;
    }
    out.truncate(size);
    return out;
}

qint64 diskUsage(const QString &dir)
{
    qint64 total = 0;
    QDirIterator it(dir, QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        struct stat st {};
        if (::lstat(QFile::encodeName(it.next()).constData(), &st) == 0)
            total += qint64(st.st_blocks) * 512;
    }
    return total;
}

QString firstPack(const QString &cache)
{
    const QStringList packs = QDir(cache + QStringLiteral("/packs")).entryList({QStringLiteral("pack-*")}, QDir::Files, QDir::Name);
    return packs.isEmpty() ? QString() : cache + QStringLiteral("/packs/") + packs.first();
}
} // namespace

class TestPack : public QObject {
    Q_OBJECT
    NginxFixture m_nginx;
    QTemporaryDir m_tmp;
    QByteArray m_random, m_other, m_mixed;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_nginx.start(), qPrintable(m_nginx.errorText()));
        m_random = patternBytes((16 << 20) + 123, 5);
        m_nginx.addFile(QStringLiteral("a.bin"), m_random);
        m_nginx.addFile(QStringLiteral("mirror-of-a.bin"), m_random);
        m_other = patternBytes(16 << 20, 6);
        m_nginx.addFile(QStringLiteral("b.bin"), m_other);
        m_mixed = mixedBytes(48 << 20, 9);
        m_nginx.addFile(QStringLiteral("mixed.log"), m_mixed);
    }
    void init() { m_nginx.clearAccessLog(); }

    void sameBytesAtTwoUrlsAreStoredOnce()
    {
        const QString cache = m_tmp.filePath(QStringLiteral("dedup"));
        const QString a = m_nginx.url(QStringLiteral("a.bin")), b = m_nginx.url(QStringLiteral("mirror-of-a.bin"));
        QCOMPARE(runCli(cache, {QStringLiteral("prefetch"), a}).exitCode, 0);
        QCOMPARE(runCli(cache, {QStringLiteral("prefetch"), b}).exitCode, 0);
        const CliRun pack = runCli(cache, {QStringLiteral("pack")});
        QVERIFY2(pack.exitCode == 0, pack.err.constData());
        QVERIFY2(pack.out.startsWith("packed 130 chunks of 2 objects"), pack.out.constData());
        // The cache directory holds one copy (random bytes: stored raw), and a little bookkeeping.
        const qint64 used = diskUsage(cache);
        QVERIFY2(used <= qint64(1.02 * double(m_random.size())), qPrintable(QStringLiteral("%1 bytes on disk").arg(used)));
        const QJsonObject status = runCli(cache, {QStringLiteral("status"), QStringLiteral("--json")}).jsonOut();
        QCOMPARE(qint64(status.value(QStringLiteral("loose_bytes")).toDouble()), qint64(0));
        QCOMPARE(qint64(status.value(QStringLiteral("packed_bytes")).toDouble()), 2 * qint64(m_random.size()));
        QCOMPARE(qint64(status.value(QStringLiteral("dedup_saved_bytes")).toDouble()), qint64(m_random.size()));
        QVERIFY(status.value(QStringLiteral("pack_file_bytes")).toDouble() >= double(m_random.size()));
        const CliRun text = runCli(cache, {QStringLiteral("status")});
        QVERIFY2(text.out.contains("packed:      130 chunks"), text.out.constData());
        // Both export byte for byte, without asking nginx for a byte.
        m_nginx.clearAccessLog();
        for (const QString &url : {a, b}) {
            const QString out = m_tmp.filePath(QStringLiteral("export-%1").arg(url.section(u'/', -1)));
            QCOMPARE(runCli(cache, {QStringLiteral("export"), url, QStringLiteral("-o"), out}).exitCode, 0);
            QFile f(out);
            QVERIFY(f.open(QIODevice::ReadOnly));
            QVERIFY(f.readAll() == m_random);
        }
        QCOMPARE(m_nginx.countRequests(QStringLiteral("GET")), qint64(0));
    }

    void damagedPackIsFoundAndFetchedAgain()
    {
        const QString cache = m_tmp.filePath(QStringLiteral("damage"));
        const QString url = m_nginx.url(QStringLiteral("mixed.log"));
        QCOMPARE(runCli(cache, {QStringLiteral("prefetch"), url}).exitCode, 0);
        QCOMPARE(runCli(cache, {QStringLiteral("pack"), url}).exitCode, 0);
        QFile pack(firstPack(cache));
        QVERIFY(pack.open(QIODevice::ReadWrite));
        for (qint64 at : {pack.size() / 3, 2 * pack.size() / 3}) {
            pack.seek(at);
            const char flipped = char(pack.read(1).at(0) ^ 0x21);
            pack.seek(at);
            pack.write(&flipped, 1);
        }
        pack.close();
        const CliRun verify = runCli(cache, {QStringLiteral("verify")});
        QCOMPARE(verify.exitCode, 1);
        QVERIFY2(verify.out.contains("were damaged and were dropped"), verify.out.constData());
        QVERIFY2(verify.out.contains("2 damaged contents"), verify.out.constData());
        m_nginx.clearAccessLog();
        const CliRun read = runCli(cache, {QStringLiteral("read"), url, QStringLiteral("-r"), QStringLiteral("0-")});
        QCOMPARE(read.exitCode, 0);
        QVERIFY(read.out == m_mixed);
        const qint64 gets = m_nginx.countRequests(QStringLiteral("GET"));
        QVERIFY2(gets >= 1 && gets <= 2, qPrintable(QStringLiteral("%1 GETs").arg(gets)));
        QCOMPARE(runCli(cache, {QStringLiteral("verify")}).exitCode, 0);
    }

    void theBudgetRepacksWhatItEvicts()
    {
        // Evicting a packed chunk frees nothing until its pack is rewritten: the budget's pass does it.
        const QString cache = m_tmp.filePath(QStringLiteral("budget"));
        const QString a = m_nginx.url(QStringLiteral("a.bin")), b = m_nginx.url(QStringLiteral("b.bin"));
        QCOMPARE(runCli(cache, {QStringLiteral("config"), QStringLiteral("max-size"), QStringLiteral("24M")}).exitCode, 0);
        QCOMPARE(runCli(cache, {QStringLiteral("prefetch"), a}).exitCode, 0);
        QCOMPARE(runCli(cache, {QStringLiteral("pack")}).exitCode, 0);
        const CliRun fill = runCli(cache, {QStringLiteral("prefetch"), b});
        QVERIFY2(fill.exitCode == 0, fill.err.constData());
        const qint64 used = diskUsage(cache);
        QVERIFY2(used <= (24 << 20), qPrintable(QStringLiteral("%1 bytes on disk").arg(used)));
        const QJsonObject status = runCli(cache, {QStringLiteral("status"), QStringLiteral("--json")}).jsonOut();
        QVERIFY(status.value(QStringLiteral("pack_file_bytes")).toDouble() < double(m_random.size()) * 0.75);
        QCOMPARE(checkPresentBytes(cache, b, m_other), qint64(m_other.size()));
        QVERIFY(checkPresentBytes(cache, a, m_random) >= 0);
        QCOMPARE(runCli(cache, {QStringLiteral("verify")}).exitCode, 0);
    }

    void theBudgetPacksColdTextInsteadOfEvictingIt()
    {
        // 24 MiB of text, then 16 MiB of random bytes into a 32M cache: the text (cold, and it
        // compresses) is packed to make room, not evicted.
        const QString cache = m_tmp.filePath(QStringLiteral("budget-text"));
        QByteArray text;
        for (int i = 0; text.size() < (24 << 20); ++i)
            text += QStringLiteral("2026-11-30 INFO worker-%1 GET /items?id=%2 status=200 dur_ms=%3\n").arg(i % 8).arg(i % 5003).arg(i % 89).toLatin1();
        m_nginx.addFile(QStringLiteral("text.log"), text);
        const QString t = m_nginx.url(QStringLiteral("text.log")), b = m_nginx.url(QStringLiteral("b.bin"));
        QCOMPARE(runCli(cache, {QStringLiteral("config"), QStringLiteral("max-size"), QStringLiteral("32M")}).exitCode, 0);
        QCOMPARE(runCli(cache, {QStringLiteral("prefetch"), t}).exitCode, 0);
        const CliRun fill = runCli(cache, {QStringLiteral("prefetch"), b});
        QVERIFY2(fill.exitCode == 0, fill.err.constData());
        QVERIFY2(diskUsage(cache) <= (32 << 20), qPrintable(QStringLiteral("%1 bytes on disk").arg(diskUsage(cache))));
        QCOMPARE(checkPresentBytes(cache, t, text), qint64(text.size())); // nothing of it evicted
        QCOMPARE(checkPresentBytes(cache, b, m_other), qint64(m_other.size()));
        const QJsonObject status = runCli(cache, {QStringLiteral("status"), QStringLiteral("--json")}).jsonOut();
        QVERIFY(status.value(QStringLiteral("packed_bytes")).toDouble() > 0);
        QCOMPARE(runCli(cache, {QStringLiteral("verify")}).exitCode, 0);
    }

    void readersGoOnWhilePackRuns()
    {
        const QString cache = m_tmp.filePath(QStringLiteral("readers"));
        const QString url = m_nginx.url(QStringLiteral("mixed.log"));
        QCOMPARE(runCli(cache, {QStringLiteral("prefetch"), url}).exitCode, 0);
        m_nginx.clearAccessLog();
        for (int round = 0; round < 3; ++round) {
            QProcess packer;
            packer.start(cliPath(), {QStringLiteral("--cache-dir"), cache, QStringLiteral("pack")});
            QVERIFY(packer.waitForStarted());
            QList<QProcess *> readers;
            for (int i = 0; i < 3; ++i) {
                auto *r = new QProcess(this);
                r->start(cliPath(), {QStringLiteral("--cache-dir"), cache, QStringLiteral("read"), url, QStringLiteral("-r"), QStringLiteral("0-")});
                readers << r;
            }
            for (QProcess *r : std::as_const(readers)) {
                QVERIFY(r->waitForFinished(60000));
                QVERIFY2(r->exitCode() == 0, r->readAllStandardError().constData());
                QVERIFY(r->readAllStandardOutput() == m_mixed);
                delete r;
            }
            QVERIFY(packer.waitForFinished(60000));
            QCOMPARE(packer.exitCode(), 0);
            // Loose again for the next round.
            QCOMPARE(runCli(cache, {QStringLiteral("evict"), url}).exitCode, 0);
            QCOMPARE(runCli(cache, {QStringLiteral("repack")}).exitCode, 0);
            QCOMPARE(runCli(cache, {QStringLiteral("prefetch"), url}).exitCode, 0);
        }
        // Only the deliberate evictions were fetched again: 3 prefetches of the whole object.
        QVERIFY(m_nginx.bodyBytes() <= 3 * qint64(m_mixed.size()) + (1 << 20));
    }

    void killedPackAndRepackLeaveEveryByteRight()
    {
        const QString cache = m_tmp.filePath(QStringLiteral("kills"));
        const QString url = m_nginx.url(QStringLiteral("mixed.log"));
        const int trials = qEnvironmentVariableIntValue("SPARSESCOPE_PACK_KILL_TRIALS") > 0
                               ? qEnvironmentVariableIntValue("SPARSESCOPE_PACK_KILL_TRIALS") : 20;
        QRandomGenerator rng(QRandomGenerator::global()->generate());
        const qint64 size = m_mixed.size();
        // How long each takes here when left alone: the kills fall anywhere in that time.
        QElapsedTimer clock;
        QCOMPARE(runCli(cache, {QStringLiteral("prefetch"), url}).exitCode, 0);
        clock.start();
        QCOMPARE(runCli(cache, {QStringLiteral("pack")}).exitCode, 0);
        const int packMs = int(clock.elapsed());
        QCOMPARE(runCli(cache, {QStringLiteral("evict"), url, QStringLiteral("-r"), QStringLiteral("0-%1").arg(size / 3)}).exitCode, 0);
        clock.start();
        QCOMPARE(runCli(cache, {QStringLiteral("repack")}).exitCode, 0);
        const int repackMs = int(clock.elapsed());
        qInfo("left alone: pack %d ms, repack %d ms", packMs, repackMs);
        // The kills fall anywhere in that time; a run that finished before its kill (the first,
        // timed one is often the slowest: under the sanitizers a later run took half as long)
        // shortens the span of the next kills of its kind by a third, a kill that came in time
        // widens it by a tenth again (up to the timed run): most kills land while it runs, spread
        // over all of it.
        int packKillSpan = packMs, repackKillSpan = repackMs;
        int killedMidway = 0;
        for (int trial = 0; trial < trials; ++trial) {
            // pack: everything loose again; repack: some chunks dropped, their contents garbage.
            const bool repack = trial % 2 == 1;
            const qint64 from = repack ? rng.bounded(size / 2) : 0, to = repack ? from + rng.bounded(size / 2) : size - 1;
            QCOMPARE(runCli(cache, {QStringLiteral("evict"), url, QStringLiteral("-r"), QStringLiteral("%1-%2").arg(from).arg(to)}).exitCode, 0);
            if (!repack)
                QCOMPARE(runCli(cache, {QStringLiteral("prefetch"), url}).exitCode, 0);
            QProcess p;
            p.start(cliPath(), {QStringLiteral("--cache-dir"), cache, repack ? QStringLiteral("repack") : QStringLiteral("pack")});
            QVERIFY(p.waitForStarted());
            int &killSpan = repack ? repackKillSpan : packKillSpan;
            QThread::msleep(rng.bounded(std::max(2, killSpan)));
            ::kill(pid_t(p.processId()), SIGKILL);
            QVERIFY(p.waitForFinished(10000));
            if (p.exitStatus() == QProcess::CrashExit) {
                ++killedMidway;
                killSpan = std::min(repack ? repackMs : packMs, killSpan * 11 / 10 + 1); // back toward the whole run
            } else {
                killSpan = killSpan * 2 / 3;
            }

            const qint64 present = checkPresentBytes(cache, url, m_mixed);
            QVERIFY2(present >= 0, qPrintable(QStringLiteral("trial %1 (%2): a present byte is wrong").arg(trial).arg(repack ? QStringLiteral("repack") : QStringLiteral("pack"))));
            const CliRun verify = runCli(cache, {QStringLiteral("verify")});
            QVERIFY2(verify.exitCode == 0, qPrintable(QStringLiteral("trial %1: %2").arg(trial).arg(QString::fromUtf8(verify.out))));
            const QJsonObject status = runCli(cache, {QStringLiteral("status"), QStringLiteral("--json")}).jsonOut();
            qInfo("trial %d (%s): %lld bytes present, %lld packed", trial, repack ? "repack" : "pack", present,
                  qint64(status.value(QStringLiteral("packed_bytes")).toDouble()));
        }
        qInfo("%d of %d trials killed their process before it finished", killedMidway, trials);
        QVERIFY2(killedMidway >= trials / 2, "the kills came too late to test anything");
        // Finished runs of both leave the object whole and every byte right.
        QCOMPARE(runCli(cache, {QStringLiteral("prefetch"), url}).exitCode, 0);
        QCOMPARE(runCli(cache, {QStringLiteral("pack")}).exitCode, 0);
        QCOMPARE(runCli(cache, {QStringLiteral("repack")}).exitCode, 0);
        QCOMPARE(checkPresentBytes(cache, url, m_mixed), size);
    }
};

QTEST_GUILESS_MAIN(TestPack)
#include "tst_pack.moc"
