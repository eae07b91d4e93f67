#include "clirunner.h"

#include <QJsonArray>

#include <QFile>
#include <QTemporaryDir>

#include <QJsonDocument>

#include <sys/resource.h>

namespace sparsescope::test {

QString cliPath() { return QStringLiteral(SPARSESCOPE_CLI_PATH); }

namespace {
// Under AddressSanitizer a preloaded shim comes before the ASan runtime, which it would refuse.
QString asanOptionsForPreload()
{
    QByteArray asan = qgetenv("ASAN_OPTIONS");
    asan += (asan.isEmpty() ? "" : ":") + QByteArray("verify_asan_link_order=0");
    return QStringLiteral("ASAN_OPTIONS=") + QString::fromUtf8(asan);
}
} // namespace

QStringList failingFdatasync(int succeeding)
{
    return {QStringLiteral("LD_PRELOAD=" SPARSESCOPE_FAILSYNC_PATH), QStringLiteral("FAILSYNC_AFTER=%1").arg(succeeding), asanOptionsForPreload()};
}

QStringList powerCut(const QString &dir, long after, bool randomSubset, unsigned seed, bool zeros, const QString &countFile)
{
    QStringList env = {QStringLiteral("LD_PRELOAD=" SPARSESCOPE_POWERCUT_PATH), QStringLiteral("SPARSESCOPE_POWERCUT_DIR=") + dir,
                       asanOptionsForPreload()};
    if (after >= 0)
        env << QStringLiteral("SPARSESCOPE_POWERCUT_AFTER=%1").arg(after)
            << QStringLiteral("SPARSESCOPE_POWERCUT_MODE=%1").arg(randomSubset ? QStringLiteral("random") : QStringLiteral("all"))
            << QStringLiteral("SPARSESCOPE_POWERCUT_SEED=%1").arg(seed)
            << QStringLiteral("SPARSESCOPE_POWERCUT_HOLES=%1").arg(zeros ? QStringLiteral("zeros") : QStringLiteral("holes"));
    else
        env << QStringLiteral("SPARSESCOPE_POWERCUT_COUNT_FILE=") + countFile;
    return env;
}

CliRun runCli(const QString &cacheDir, const QStringList &args, int timeoutMs, qint64 fileSizeLimit,
              const QStringList &extraEnvironment)
{
    QProcess p;
    if (!extraEnvironment.isEmpty()) {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        for (const QString &entry : extraEnvironment)
            env.insert(entry.section(u'=', 0, 0), entry.section(u'=', 1));
        p.setProcessEnvironment(env);
    }
    if (fileSizeLimit >= 0)
        p.setChildProcessModifier([fileSizeLimit] {
            const rlimit limit{rlim_t(fileSizeLimit), rlim_t(fileSizeLimit)};
            ::setrlimit(RLIMIT_FSIZE, &limit);
        });
    p.start(cliPath(), QStringList{QStringLiteral("--cache-dir"), cacheDir} + args);
    CliRun r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    if (p.error() == QProcess::FailedToStart)
        r.startError = p.errorString();
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

QJsonObject CliRun::stats() const
{
    for (const QByteArray &line : err.split('\n'))
        if (line.startsWith("{\"") && line.contains("upstream_requests"))
            return QJsonDocument::fromJson(line).object();
    return {};
}

QJsonObject CliRun::jsonOut() const { return QJsonDocument::fromJson(out).object(); }

qint64 checkPresentBytes(const QString &cacheDir, const QString &url, const QByteArray &source)
{
    const CliRun info = runCli(cacheDir, {QStringLiteral("info"), url, QStringLiteral("--json")});
    if (info.exitCode != 0) {
        qWarning("info failed (exit code %d, -1: crashed)%s: %s %s", info.exitCode,
                 info.startError.isEmpty() ? "" : qPrintable(QStringLiteral(", not started: ") + info.startError), info.err.constData(),
                 info.out.constData());
        return -1;
    }
    const QJsonObject j = info.jsonOut();
    // The present bytes as the cache holds them: the entry's data file when every chunk is loose
    // (cheap, and what crash trials look at), else a sparse export (packed chunks too).
    QTemporaryDir dir;
    QString copy = j.value(QStringLiteral("cache_path")).toString() + QStringLiteral("/data");
    if (j.value(QStringLiteral("packed_bytes")).toDouble() > 0) {
        copy = dir.filePath(QStringLiteral("present"));
        if (const CliRun exported = runCli(cacheDir, {QStringLiteral("export"), url, QStringLiteral("--sparse"), QStringLiteral("-o"), copy});
            exported.exitCode != 0) {
            qWarning("export --sparse failed: %s", exported.err.constData());
            return -1;
        }
    }
    QFile data(copy);
    if (!data.open(QIODevice::ReadOnly))
        return -1;
    qint64 present = 0;
    for (const QJsonValue &v : j.value(QStringLiteral("ranges")).toArray()) {
        const qint64 b = qint64(v.toArray().at(0).toDouble()), e = qint64(v.toArray().at(1).toDouble());
        if (!data.seek(b) || data.read(e - b) != source.mid(b, e - b)) {
            qWarning("bytes %lld-%lld differ from the source", b, e - 1);
            return -1;
        }
        present += e - b;
    }
    return present;
}

} // namespace sparsescope::test
