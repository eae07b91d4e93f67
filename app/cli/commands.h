#pragma once
// The commands of sparsescope-cli. Each returns an exit code (cliconfig.h) and prints at most one
// error line on stderr: object, range, cause, and what to do.

#include "cliconfig.h"
#include "result.h"

namespace sparsescope::cli {

int runCommand(const CliConfig &config);

// Prints "sparsescope-cli: MESSAGE" on stderr; returns the exit code for it (Usage errors: 2).
int fail(const QString &message);
int fail(const Error &error);

} // namespace sparsescope::cli
