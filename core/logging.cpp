#include "logging.h"

namespace sparsescope {
Q_LOGGING_CATEGORY(lcBudget, "sparsescope.budget")
Q_LOGGING_CATEGORY(lcIo, "sparsescope.io")
Q_LOGGING_CATEGORY(lcArchive, "sparsescope.archive")
} // namespace sparsescope
