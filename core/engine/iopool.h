#pragma once
// The thread pool for store I/O and hashing, shared by every open object of the process.

#include <QThreadPool>

namespace sparsescope {

QThreadPool *ioPool();

} // namespace sparsescope
