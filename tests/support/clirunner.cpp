#include "clirunner.h"

#include <QJsonDocument>

#include <sys/resource.h>

namespace sparsescope::test {

QString cliPath() { return QStringLiteral(SPARSESCOPE_CLI_PATH); }

QStringList failingFdatasync(int succeeding)
{
    // Under AddressSanitizer the preloaded shim comes before the ASan runtime, which it would refuse.
    QByteArray asan = qgetenv("ASAN_OPTIONS");
    asan += (asan.isEmpty() ? "" : ":") + QByteArray("verify_asan_link_order=0");
    return {QStringLiteral("LD_PRELOAD=" SPARSESCOPE_FAILSYNC_PATH), QStringLiteral("FAILSYNC_AFTER=%1").arg(succeeding),
            QStringLiteral("ASAN_OPTIONS=") + QString::fromUtf8(asan)};
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

} // namespace sparsescope::test
