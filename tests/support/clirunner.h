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
    // Why the CLI did not run at all (QProcess::FailedToStart: exec(2) failed, e.g. "Text file
    // busy" while the binary is being relinked; exitCode is then 255), else empty.
    QString startError;
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
// Every byte `info` calls present in `url`'s entry of `cacheDir` equals `source`, read from the
// entry's data file, or as a sparse `export` gives them when some chunks are packed; returns the present byte count, or -1 after a failed check (with a warning
// naming the bytes that differ).
qint64 checkPresentBytes(const QString &cacheDir, const QString &url, const QByteArray &source);
// The environment that makes fdatasync(2) fail with EIO in the child after `succeeding` calls
// succeeded (LD_PRELOAD of tests/support/failsync.cpp), for runCli's extraEnvironment.
QStringList failingFdatasync(int succeeding);
// The environment that cuts the power in the child at its `after`-th change to a file under
// `dir` (LD_PRELOAD of tests/support/powercut.cpp): changes no fsync made durable are undone
// (`randomSubset`: a random half of them, seeded by `seed`; `zeros`: lost writes leave zeros
// instead of holes), then SIGKILL. after < 0: count the changes into `countFile` instead.
QStringList powerCut(const QString &dir, long after, bool randomSubset, unsigned seed, bool zeros, const QString &countFile = {});

} // namespace sparsescope::test
