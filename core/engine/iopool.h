#pragma once
// The thread pool for store I/O and hashing, shared by every open object of the process.

#include <QThreadPool>

namespace sparsescope {

QThreadPool *ioPool();

// QThreadPool::start() priority of work a user waits for (their chunk writes, their reads from the
// store): it goes before queued prefetch writes, which run at 0.
constexpr int kInteractivePoolPriority = 1;

} // namespace sparsescope
