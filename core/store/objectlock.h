#pragma once
// ObjectLock: exclusive ownership of one cache entry by one process, via flock(2) on the entry's
// `lock` file, which also records the holder's pid and command for error messages. The kernel
// drops the lock when the holder exits or is killed, so a crash never leaves a stale lock.
// Readers that only inspect an entry (status, info of another process's entry) take no lock.

#include "result.h"

#include <QString>

namespace sparsescope {

class ObjectLock {
public:
    ObjectLock() = default;
    ObjectLock(ObjectLock &&other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
    ObjectLock &operator=(ObjectLock &&other) noexcept;
    ~ObjectLock();

    // Locks `<directory>/lock`, waiting up to `waitMs` milliseconds for another holder to let go.
    // Errors: LocalIo when the lock file cannot be opened; LocalIo naming the holder's pid and
    // command when it is still held after waitMs.
    static Result<ObjectLock> acquire(const QString &directory, int waitMs);
    bool isHeld() const { return m_fd >= 0; }

private:
    explicit ObjectLock(int fd) : m_fd(fd) {}
    int m_fd = -1;
};

} // namespace sparsescope
