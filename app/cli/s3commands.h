#pragma once
// The CLI's S3 bucket commands: ls.

#include "cliconfig.h"
#include "statistics.h"

#include <memory>

namespace sparsescope::cli {

// ls s3://BUCKET[/PREFIX] [--recursive] [--json]: counts its requests in `stats` (--stats).
int cmdLs(const CliConfig &config, const std::shared_ptr<Statistics> &stats);

} // namespace sparsescope::cli
