#pragma once
// sparsescope-cli commands on a whole cache directory: status, config, gc, pack, repack and
// verify without a SOURCE (cache.h).

#include "cliconfig.h"

namespace sparsescope::cli {

int cmdStatus(const CliConfig &config);
int cmdConfig(const CliConfig &config);
int cmdGc(const CliConfig &config);
int cmdPack(const CliConfig &config);
int cmdRepack(const CliConfig &config);
int cmdVerifyCache(const CliConfig &config);

} // namespace sparsescope::cli
