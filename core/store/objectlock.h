#pragma once
// ObjectLock: who has one cache entry open, via flock(2) on the entry's `lock` file. Processes
// that use an entry hold it shared, for as long as they have it open; the steps that need the
// entry to themselves (creating or repairing it, compacting its journal, removing it) hold it
// exclusively, so they wait for every other user. The kernel drops the lock when its holder
// exits or is killed, so a crash never leaves a stale lock. The file records the pid and command
// of its last exclusive holder, for messages. Readers that only inspect an entry (status) take no
// lock.
//
// On a network filesystem (NFS, CIFS/SMB) locks and byte-range claims cannot be trusted, so an
// entry there is held exclusively for as long as it is open (one process per object).

#include "result.h"

#include <QString>

#include <functional>

namespace sparsescope {

class ObjectLock {
public:
    enum class Mode { Shared, Exclusive };

    ObjectLock() = default;
    ObjectLock(ObjectLock &&other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
    ObjectLock &operator=(ObjectLock &&other) noexcept;
    ~ObjectLock();

    // Locks `<directory>/lock` in `mode`, waiting up to `waitMs` milliseconds for holders of
    // the other kind to let go (waitMs 0: one try). `waiting`, if set, is called once, at the
    // start of a wait, with a line saying for what. Errors: LocalIo when the lock file cannot be
    // opened; LocalIo naming the last exclusive holder when still held after waitMs.
    static Result<ObjectLock> acquire(const QString &directory, int waitMs, Mode mode = Mode::Exclusive,
                                      const std::function<void(const QString &)> &waiting = {});
    // Turns an exclusive lock into a shared one (flock(2) conversion).
    void downgrade();
    bool isHeld() const { return m_fd >= 0; }

    // True when `path` is on NFS or CIFS/SMB (statfs(2) f_type), where locks are unreliable.
    static bool onNetworkFilesystem(const QString &path);

private:
    explicit ObjectLock(int fd) : m_fd(fd) {}
    int m_fd = -1;
};

} // namespace sparsescope
