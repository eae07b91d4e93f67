// LD_PRELOAD shim for tests: fdatasync(2) fails with EIO once FAILSYNC_AFTER calls have
// succeeded (FAILSYNC_AFTER=0: every call fails), as it does when the disk loses writes the kernel
// had accepted. Without FAILSYNC_AFTER it passes every call through. Used by tst_localfaults.
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <dlfcn.h>

extern "C" int fdatasync(int fd)
{
    static std::atomic<long> calls{0};
    static auto *real = reinterpret_cast<int (*)(int)>(dlsym(RTLD_NEXT, "fdatasync"));
    const char *after = std::getenv("FAILSYNC_AFTER");
    if (after && calls.fetch_add(1) >= std::atol(after)) {
        errno = EIO;
        return -1;
    }
    return real(fd);
}
