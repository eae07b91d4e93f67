#pragma once
// The commands of sparsescope-cli. Each returns an exit code (cliconfig.h) and prints at most one
// error line on stderr: object, range, cause, and what to do.

#include "cliconfig.h"

namespace sparsescope::cli {

int runCommand(const CliConfig &config);

} // namespace sparsescope::cli
