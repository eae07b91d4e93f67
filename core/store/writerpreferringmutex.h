#pragma once
// A reader/writer lock that lets a waiting writer in before new readers (glibc's
// PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP, pthread_rwlockattr_setkind_np(3)), as
// QReadWriteLock does. std::shared_mutex on glibc prefers readers, which would let a steady
// stream of chunk writes (shared holders) starve an eviction. Unlike QReadWriteLock it is built on
// pthreads, which ThreadSanitizer follows; Debian's libQt6Core is not instrumented.
//
// Meets the standard SharedMutex requirements used by std::unique_lock and std::shared_lock.
// Not recursive: a thread must not lock it again while holding it, shared or not (deadlock).

#include <pthread.h>

namespace sparsescope {

class WriterPreferringMutex {
public:
    WriterPreferringMutex()
    {
        pthread_rwlockattr_t attr;
        pthread_rwlockattr_init(&attr);
        pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        pthread_rwlock_init(&m_lock, &attr);
        pthread_rwlockattr_destroy(&attr);
    }
    ~WriterPreferringMutex() { pthread_rwlock_destroy(&m_lock); }
    WriterPreferringMutex(const WriterPreferringMutex &) = delete;
    WriterPreferringMutex &operator=(const WriterPreferringMutex &) = delete;

    void lock() { pthread_rwlock_wrlock(&m_lock); }
    bool try_lock() { return pthread_rwlock_trywrlock(&m_lock) == 0; }
    void unlock() { pthread_rwlock_unlock(&m_lock); }
    void lock_shared() { pthread_rwlock_rdlock(&m_lock); }
    bool try_lock_shared() { return pthread_rwlock_tryrdlock(&m_lock) == 0; }
    void unlock_shared() { pthread_rwlock_unlock(&m_lock); }

private:
    pthread_rwlock_t m_lock;
};

} // namespace sparsescope
