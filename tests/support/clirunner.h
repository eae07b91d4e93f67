#pragma once
// Runs the real sparsescope-cli binary (path baked in by CMake) and captures what a user sees.

#include <QByteArray>
#include <QJsonObject>
#include <QProcess>
#include <QStringList>

namespace sparsescope::test {

struct CliRun {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    QJsonObject stats() const;    // the --stats line on stderr, if any
    QJsonObject jsonOut() const;  // stdout parsed as one JSON object
};

// Runs `sparsescope-cli --cache-dir CACHE ARGS...` and waits up to timeoutMs. With
// fileSizeLimit >= 0 the child runs under RLIMIT_FSIZE of that many bytes (getrlimit(2)): writes
// past it fail as a full disk would. extraEnvironment ("NAME=value" entries) is added to the
// child's environment.
CliRun runCli(const QString &cacheDir, const QStringList &args, int timeoutMs = 120000, qint64 fileSizeLimit = -1,
              const QStringList &extraEnvironment = {});
QString cliPath();
// Every byte `info` calls present in `url`'s entry of `cacheDir` equals `source`, as a sparse
// `export` of the entry gives them (loose or packed); returns the present byte count, or -1 after a failed check (with a warning
// naming the bytes that differ).
qint64 checkPresentBytes(const QString &cacheDir, const QString &url, const QByteArray &source);
// The environment that makes fdatasync(2) fail with EIO in the child after `succeeding` calls
// succeeded (LD_PRELOAD of tests/support/failsync.cpp), for runCli's extraEnvironment.
QStringList failingFdatasync(int succeeding);

} // namespace sparsescope::test
