#pragma once
// The parsed command line of sparsescope-cli (the contract is in README.md and --help).

#include "byterange.h"
#include "engineconfig.h"

#include <QString>
#include <QStringList>

namespace sparsescope::cli {

enum ExitCode { ExitOk = 0, ExitFailure = 1, ExitUsage = 2 };

struct CliConfig {
    QString command;
    QString source;
    QStringList entries;    // extract: entry names (empty: all); config: KEY [VALUE]
    bool sequential = false; // list/extract: read a compressed tar from start to end
    QStringList rangeTexts; // -r values, inclusive START-END, parsed once the size is known
    QString output;         // -o
    bool json = false;
    bool sparse = false;
    bool recursive = false;  // ls: every key under the prefix, no common prefixes
    QString mountPoint;      // mount: the directory
    QStringList sources;     // mount: every SOURCE
    QString mountName;       // mount --name: the file name of a single SOURCE
    bool archives = false;   // mount --archives: ZIP and tar sources also as NAME.d/ directories
    bool progress = false;
    bool stats = false;
    EngineConfig engine;
};

struct ParseOutcome {
    bool exit = false; // help, version or usage error already printed
    int exitCode = ExitOk;
    CliConfig config;
};

ParseOutcome parseCommandLine(const QStringList &arguments);

} // namespace sparsescope::cli
