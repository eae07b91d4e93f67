#include "clirunner.h"

#include <QJsonDocument>

#include <sys/resource.h>

namespace sparsescope::test {

QString cliPath() { return QStringLiteral(SPARSESCOPE_CLI_PATH); }

CliRun runCli(const QString &cacheDir, const QStringList &args, int timeoutMs, qint64 fileSizeLimit)
{
    QProcess p;
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
