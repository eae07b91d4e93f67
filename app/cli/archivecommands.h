#pragma once
// sparsescope-cli list / extract: archive entries of an open object (see archivereader.h).

#include "cliconfig.h"

namespace sparsescope {
class SparseObject;
}

namespace sparsescope::cli {

int cmdList(const CliConfig &config, SparseObject &object);
int cmdExtract(const CliConfig &config, SparseObject &object);

} // namespace sparsescope::cli
