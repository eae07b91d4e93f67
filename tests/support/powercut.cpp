// LD_PRELOAD shim for tests: a power cut. It follows every file opened under
// $SPARSESCOPE_POWERCUT_DIR and remembers, for each change to one (write, pwrite, ftruncate,
// fallocate), what it overwrote — until an fsync(2) or fdatasync(2) of that file (or syncfs(2))
// makes the change durable. At the $SPARSESCOPE_POWERCUT_AFTER-th change it undoes the changes not
// yet durable — all of them, or with SPARSESCOPE_POWERCUT_MODE=random a random subset (seeded by
// $SPARSESCOPE_POWERCUT_SEED), as a disk that reorders writes might — newest first (a lost write
// into a hole leaves the hole, or zeros with SPARSESCOPE_POWERCUT_HOLES=zeros), and SIGKILLs
// the process, as losing power would (the approach of CrashMonkey and ALICE). Without AFTER it
// only counts the changes and writes the count to $SPARSESCOPE_POWERCUT_COUNT_FILE at exit.
// Used by tst_powercut.
//
// What it does not model: directory operations (create, rename, unlink are treated as durable at
// once), writes through mmap(2) (the budget page, access ticks, the claims counter: none of them
// is trusted after a crash) and io_uring writes (off by default).
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <mutex>
#include <random>
#include <csignal>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>

namespace {
template <typename F>
F real(const char *name)
{
    return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

struct Undo {
    std::string path;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t offset = 0;
    off_t oldSize = 0;
    bool hole = false;       // the range was a hole: punch it again
    std::string oldBytes;    // else what it held (the part below oldSize)
    off_t length = 0;
};

struct State {
    std::mutex mutex;
    std::string dir;
    long after = -1;
    bool randomSubset = false;
    bool zeros = false; // SPARSESCOPE_POWERCUT_HOLES=zeros: a lost write into a hole leaves zeros, not a hole
    unsigned seed = 0;
    long changes = 0;
    std::unordered_map<int, std::string> tracked; // fd -> path
    std::vector<Undo> pending;
    State()
    {
        if (const char *d = std::getenv("SPARSESCOPE_POWERCUT_DIR"))
            dir = d;
        if (const char *a = std::getenv("SPARSESCOPE_POWERCUT_AFTER"))
            after = std::atol(a);
        if (const char *m = std::getenv("SPARSESCOPE_POWERCUT_MODE"))
            randomSubset = std::strcmp(m, "random") == 0;
        if (const char *h = std::getenv("SPARSESCOPE_POWERCUT_HOLES"))
            zeros = std::strcmp(h, "zeros") == 0;
        if (const char *s = std::getenv("SPARSESCOPE_POWERCUT_SEED"))
            seed = unsigned(std::atol(s));
    }
};

// Never destroyed: threads of the process may still write while static destructors run at exit.
State &state()
{
    static State *s = new State;
    return *s;
}

// Writes the count at exit (counting mode).
struct CountAtExit {
    ~CountAtExit()
    {
        State &s = state();
        long changes = 0;
        {
            std::lock_guard l(s.mutex);
            changes = s.changes;
        }
        if (const char *f = std::getenv("SPARSESCOPE_POWERCUT_COUNT_FILE"))
            if (FILE *out = std::fopen(f, "w")) {
                std::fprintf(out, "%ld\n", changes);
                std::fclose(out);
            }
    }
} countAtExit;

std::string absolute(int dirfd, const char *path)
{
    if (path[0] == '/')
        return path;
    char buf[4096];
    if (dirfd == AT_FDCWD) {
        if (!getcwd(buf, sizeof buf))
            return path;
        return std::string(buf) + "/" + path;
    }
    const std::string link = "/proc/self/fd/" + std::to_string(dirfd);
    const ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
    if (n <= 0)
        return path;
    buf[n] = 0;
    return std::string(buf) + "/" + path;
}

void track(int fd, const std::string &path)
{
    State &s = state();
    if (fd < 0 || s.dir.empty() || path.compare(0, s.dir.size(), s.dir) != 0)
        return;
    std::lock_guard l(s.mutex);
    s.tracked[fd] = path;
}

void cut(State &s)
{
    // Newest first; with random, each change is lost or kept as a coin says.
    std::mt19937 rng(s.seed);
    auto pwriteReal = real<ssize_t (*)(int, const void *, size_t, off_t)>("pwrite64");
    auto fallocateReal = real<int (*)(int, int, off_t, off_t)>("fallocate64");
    auto ftruncateReal = real<int (*)(int, off_t)>("ftruncate64");
    auto openReal = real<int (*)(const char *, int, ...)>("open64");
    auto closeReal = real<int (*)(int)>("close");
    for (auto it = s.pending.rbegin(); it != s.pending.rend(); ++it) {
        if (s.randomSubset && rng() % 2 == 0)
            continue;
        const int fd = openReal(it->path.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            continue; // renamed or removed since: the directory operation counts as durable
        struct stat st {};
        if (::fstat(fd, &st) != 0 || st.st_ino != it->ino || st.st_dev != it->dev) {
            closeReal(fd);
            continue; // another file by that name now
        }
        if (it->hole && s.zeros) {
            const std::string zero(size_t(std::min<off_t>(it->length, std::max<off_t>(0, it->oldSize - it->offset))), '\0');
            pwriteReal(fd, zero.data(), zero.size(), it->offset);
        } else if (it->hole) {
            fallocateReal(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, it->offset, it->length);
        }
        else if (!it->oldBytes.empty())
            pwriteReal(fd, it->oldBytes.data(), it->oldBytes.size(), it->offset);
        if (st.st_size > it->oldSize && s.zeros && it->offset + it->length > it->oldSize) {
            // The file's new size survived, its new bytes did not (zeros), as metadata journaled
            // ahead of data might leave it.
            const off_t from = std::max(it->offset, it->oldSize);
            const std::string zero(size_t(it->offset + it->length - from), '\0');
            pwriteReal(fd, zero.data(), zero.size(), from);
        } else if (st.st_size != it->oldSize) {
            ftruncateReal(fd, it->oldSize);
        }
        closeReal(fd);
    }
    ::kill(::getpid(), SIGKILL);
    for (;;)
        pause();
}

constexpr off_t kAtEnd = -1, kAtPosition = -2;
// Before a change of `length` bytes at `offset` (kAtEnd: as O_APPEND writes; kAtPosition: at the
// file position, as write(2) without O_APPEND):
// remembers what it overwrites; cuts the power instead when it is the chosen one.
void beforeChange(int fd, off_t offset, off_t length)
{
    State &s = state();
    if (s.dir.empty())
        return;
    std::lock_guard l(s.mutex);
    auto t = s.tracked.find(fd);
    if (t == s.tracked.end())
        return;
    if (offset == kAtPosition) {
        const int flags = fcntl(fd, F_GETFL);
        offset = (flags >= 0 && (flags & O_APPEND)) ? kAtEnd : ::lseek(fd, 0, SEEK_CUR);
    }
    ++s.changes;
    if (s.after >= 0 && s.changes >= s.after)
        cut(s);
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return;
    Undo u;
    u.path = t->second;
    u.dev = st.st_dev;
    u.ino = st.st_ino;
    u.oldSize = st.st_size;
    u.offset = offset < 0 ? st.st_size : offset;
    u.length = length;
    if (s.after < 0)
        return; // counting only
    if (u.offset < st.st_size) {
        const off_t end = std::min<off_t>(st.st_size, u.offset + length);
        const off_t data = ::lseek(fd, u.offset, SEEK_DATA);
        u.hole = (data < 0 && errno == ENXIO) || data >= end;
        if (!u.hole) {
            u.oldBytes.resize(size_t(end - u.offset));
            auto preadReal = real<ssize_t (*)(int, void *, size_t, off_t)>("pread64");
            const ssize_t n = preadReal(fd, u.oldBytes.data(), u.oldBytes.size(), u.offset);
            u.oldBytes.resize(n > 0 ? size_t(n) : 0);
        }
    }
    s.pending.push_back(std::move(u));
}

void durable(int fd)
{
    State &s = state();
    if (s.dir.empty())
        return;
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return;
    std::lock_guard l(s.mutex);
    std::erase_if(s.pending, [&](const Undo &u) { return u.dev == st.st_dev && u.ino == st.st_ino; });
}

int openedMode(int flags, va_list ap) { return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, int) : 0; }
} // namespace

extern "C" {
int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    const int mode = openedMode(flags, ap);
    va_end(ap);
    const int fd = real<int (*)(const char *, int, ...)>("open")(path, flags, mode);
    track(fd, absolute(AT_FDCWD, path));
    return fd;
}
int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    const int mode = openedMode(flags, ap);
    va_end(ap);
    const int fd = real<int (*)(const char *, int, ...)>("open64")(path, flags, mode);
    track(fd, absolute(AT_FDCWD, path));
    return fd;
}
int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    const int mode = openedMode(flags, ap);
    va_end(ap);
    const int fd = real<int (*)(int, const char *, int, ...)>("openat")(dirfd, path, flags, mode);
    track(fd, absolute(dirfd, path));
    return fd;
}
int openat64(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    const int mode = openedMode(flags, ap);
    va_end(ap);
    const int fd = real<int (*)(int, const char *, int, ...)>("openat64")(dirfd, path, flags, mode);
    track(fd, absolute(dirfd, path));
    return fd;
}
// The fortified forms (_FORTIFY_SOURCE) that libraries built with it call.
int __open_2(const char *path, int flags)
{
    const int fd = real<int (*)(const char *, int)>("__open_2")(path, flags);
    track(fd, absolute(AT_FDCWD, path));
    return fd;
}
int __open64_2(const char *path, int flags)
{
    const int fd = real<int (*)(const char *, int)>("__open64_2")(path, flags);
    track(fd, absolute(AT_FDCWD, path));
    return fd;
}
int __openat_2(int dirfd, const char *path, int flags)
{
    const int fd = real<int (*)(int, const char *, int)>("__openat_2")(dirfd, path, flags);
    track(fd, absolute(dirfd, path));
    return fd;
}
int __openat64_2(int dirfd, const char *path, int flags)
{
    const int fd = real<int (*)(int, const char *, int)>("__openat64_2")(dirfd, path, flags);
    track(fd, absolute(dirfd, path));
    return fd;
}
int close(int fd)
{
    State &s = state();
    if (!s.dir.empty()) {
        std::lock_guard l(s.mutex);
        s.tracked.erase(fd);
    }
    return real<int (*)(int)>("close")(fd);
}
ssize_t write(int fd, const void *buf, size_t n)
{
    beforeChange(fd, kAtPosition, off_t(n));
    return real<ssize_t (*)(int, const void *, size_t)>("write")(fd, buf, n);
}
ssize_t pwrite(int fd, const void *buf, size_t n, off_t offset)
{
    beforeChange(fd, offset, off_t(n));
    return real<ssize_t (*)(int, const void *, size_t, off_t)>("pwrite")(fd, buf, n, offset);
}
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t offset)
{
    beforeChange(fd, offset, off_t(n));
    return real<ssize_t (*)(int, const void *, size_t, off_t)>("pwrite64")(fd, buf, n, offset);
}
int ftruncate(int fd, off_t length)
{
    struct stat st {};
    if (::fstat(fd, &st) == 0)
        beforeChange(fd, std::min<off_t>(length, st.st_size), std::max<off_t>(0, st.st_size - length));
    return real<int (*)(int, off_t)>("ftruncate")(fd, length);
}
int ftruncate64(int fd, off_t length)
{
    struct stat st {};
    if (::fstat(fd, &st) == 0)
        beforeChange(fd, std::min<off_t>(length, st.st_size), std::max<off_t>(0, st.st_size - length));
    return real<int (*)(int, off_t)>("ftruncate64")(fd, length);
}
int fallocate(int fd, int mode, off_t offset, off_t length)
{
    beforeChange(fd, offset, length);
    return real<int (*)(int, int, off_t, off_t)>("fallocate")(fd, mode, offset, length);
}
int fallocate64(int fd, int mode, off_t offset, off_t length)
{
    beforeChange(fd, offset, length);
    return real<int (*)(int, int, off_t, off_t)>("fallocate64")(fd, mode, offset, length);
}
int fsync(int fd)
{
    const int rc = real<int (*)(int)>("fsync")(fd);
    if (rc == 0)
        durable(fd);
    return rc;
}
int fdatasync(int fd)
{
    const int rc = real<int (*)(int)>("fdatasync")(fd);
    if (rc == 0)
        durable(fd);
    return rc;
}
int syncfs(int fd)
{
    const int rc = real<int (*)(int)>("syncfs")(fd);
    State &s = state();
    if (rc == 0 && !s.dir.empty()) {
        std::lock_guard l(s.mutex);
        s.pending.clear();
    }
    return rc;
}
} // extern "C"
