#pragma once
// Logging categories, one per area (QLoggingCategory). Warnings go to stderr by default; select
// with QT_LOGGING_RULES, e.g. QT_LOGGING_RULES="sparsescope.budget.warning=false" or
// "sparsescope.*.debug=true".

#include <QLoggingCategory>

namespace sparsescope {
Q_DECLARE_LOGGING_CATEGORY(lcBudget)  // sparsescope.budget: max-size, min-free-space, evictions
Q_DECLARE_LOGGING_CATEGORY(lcIo)      // sparsescope.io: io_uring and its fallback
Q_DECLARE_LOGGING_CATEGORY(lcArchive) // sparsescope.archive: listing, indexes, extraction
} // namespace sparsescope
