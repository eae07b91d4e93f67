#pragma once
// The thread pools of the process, shared by every open object: store I/O and hashing (ioPool),
// and slow jobs (jobPool).

#include <QThreadPool>

namespace sparsescope {

QThreadPool *ioPool();
// Slow jobs, apart from the chunk writes of ioPool() so that they never hold a thread a chunk
// write needs: opening objects (a HEAD, waiting for another process's lock), exports, verifies,
// and the apps' own jobs (Cache::jobPool()).
QThreadPool *jobPool();

// QThreadPool::start() priority of work a user waits for (their chunk writes, their reads from the
// store): it goes before queued prefetch writes, which run at 0.
constexpr int kInteractivePoolPriority = 1;

} // namespace sparsescope
