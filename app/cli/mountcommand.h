#pragma once
// sparsescope-cli mount MOUNTPOINT SOURCE... [--name NAME]: the objects as read-only files
// (mountfs.h), in the foreground until unmounted.

#include "cliconfig.h"

namespace sparsescope::cli {

// Opens every SOURCE (all must open), mounts, serves until fusermount3 -u or SIGINT, SIGTERM or
// SIGHUP (which unmount cleanly), and returns the exit code: 0 after a clean unmount, 1 if a
// SOURCE does not open or mounting is not possible here (no /dev/fuse, not permitted).
int cmdMount(const CliConfig &c);

} // namespace sparsescope::cli
