#include "cachebudget.h"
#include "logging.h"
#include "budgetevictor.h"
#include "packwriter.h"
#include "fileutil.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QScopeGuard>

#include <cerrno>
#include <fcntl.h>
#include <ftw.h>
#include <map>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace sparsescope {

using namespace std::chrono_literals;

// The shared page of `<cache>/budget`. Fields are lock-free atomics, so processes share them
// through the mapping; a new file is all zeros.
struct CacheBudget::State {
    std::atomic<qint64> accounted;       // bytes, as the processes account them
    std::atomic<quint32> tick;           // the last access tick handed out
    std::atomic<quint32> measuredAt;     // steady seconds (CLOCK_BOOTTIME) of the last du; 0: never
    std::atomic<quint64> evictionSeq;    // news: one more per eviction pass that freed something
    std::atomic<qint64> lastObjects;
    std::atomic<qint64> lastChunks;
    std::atomic<qint64> lastBytes;
    std::atomic<qint64> lastUsedBefore;
    std::atomic<qint64> lastUsedAfter;
    std::atomic<quint32> lastReason;     // 1 max-size, 2 min-free-space, 3 gc
    std::atomic<qint64> totalChunks;     // every eviction pass so far, summed
    std::atomic<qint64> totalBytes;
};

namespace {
constexpr auto kSettingsRecheck = 500ms;
constexpr qint64 kBackOffBytes = 4 << 20; // after a pass that could not free enough (the rest pinned or claimed), the next waits for this much more
constexpr quint32 kRemeasureSeconds = 30; // the accounted use is measured again at least this often while writing

QMutex g_registryMutex;
std::map<QString, std::weak_ptr<CacheBudget>> g_registry;

quint32 bootSeconds()
{
    struct timespec ts {};
    ::clock_gettime(CLOCK_BOOTTIME, &ts);
    return quint32(ts.tv_sec) + 1; // never 0
}

const char *reasonText(quint32 r)
{
    switch (r) {
    case 1: return "max-size";
    case 2: return "min-free-space";
    case 3: return "gc";
    default: return "";
    }
}

thread_local qint64 t_duBytes = 0;
thread_local bool t_inPass = false; // the pass's own stores commit when closed: never a pass within a pass
int addBlocks(const char *, const struct stat *st, int type, struct FTW *)
{
    if (type != FTW_NS)
        t_duBytes += qint64(st->st_blocks) * 512;
    return 0; // files vanishing during the walk are simply not counted
}
} // namespace

std::shared_ptr<CacheBudget> CacheBudget::forCache(const QString &cacheDir)
{
    const QString key = QDir::cleanPath(QFileInfo(cacheDir).absoluteFilePath());
    QMutexLocker l(&g_registryMutex);
    if (auto it = g_registry.find(key); it != g_registry.end())
        if (auto b = it->second.lock())
            return b;
    std::shared_ptr<CacheBudget> b(new CacheBudget(key));
    if (Status st = b->open(); !st) {
        static bool warned = false;
        if (!warned)
            qCWarning(lcBudget).noquote() << QStringLiteral("sparsescope: %1; the cache's budget (max-size, min-free-space) is not enforced").arg(st.error().message);
        warned = true;
        return nullptr;
    }
    g_registry[key] = b;
    return b;
}

QString CacheBudget::cacheOfEntry(const QString &entryDirectory)
{
    const QFileInfo entry(QDir::cleanPath(QFileInfo(entryDirectory).absoluteFilePath()));
    const QFileInfo objects(entry.absolutePath());
    if (objects.fileName() != u"objects")
        return {};
    return objects.absolutePath();
}

CacheBudget::CacheBudget(QString cacheDir) : m_cacheDir(std::move(cacheDir)) {}

CacheBudget::~CacheBudget()
{
    if (m_map)
        ::munmap(m_map, 4096);
    if (m_fd >= 0)
        ::close(m_fd);
}

Status CacheBudget::open()
{
    static_assert(sizeof(State) <= 4096 && std::atomic<qint64>::is_always_lock_free);
    if (Status st = makePrivateDirectory(m_cacheDir); !st)
        return st;
    const QString path = m_cacheDir + QStringLiteral("/budget");
    m_fd = ::open(QFile::encodeName(path).constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (m_fd < 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot open %1: %2").arg(path, errnoText(errno)));
    struct stat st {};
    if (::fstat(m_fd, &st) != 0 || (st.st_size < 4096 && ::ftruncate(m_fd, 4096) != 0))
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot size %1: %2").arg(path, errnoText(errno)));
    void *m = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, m_fd, 0);
    if (m == MAP_FAILED)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot map %1: %2").arg(path, errnoText(errno)));
    m_map = m;
    m_freeSeen = freeSpace(m_cacheDir);
    (void)settings(); // roomForOneOperation() answers from what was read last
    return okStatus();
}

CacheBudget::State *CacheBudget::state() const { return static_cast<State *>(m_map); }

CacheSettings CacheBudget::settings()
{
    QMutexLocker l(&m_settingsMutex);
    const auto now = std::chrono::steady_clock::now();
    if (m_settingsMtime >= 0 && now - m_settingsCheckedAt < kSettingsRecheck)
        return m_settings;
    m_settingsCheckedAt = now;
    struct stat st {};
    const qint64 mtime = ::stat(QFile::encodeName(CacheSettings::path(m_cacheDir)).constData(), &st) == 0
                             ? qint64(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec + 1
                             : 0;
    if (mtime != m_settingsMtime) {
        m_settingsMtime = mtime;
        auto loaded = CacheSettings::load(m_cacheDir);
        if (loaded)
            m_settings = *loaded;
        else
            qCWarning(lcBudget).noquote() << QStringLiteral("sparsescope: %1; keeping the previous settings").arg(loaded.error().message);
    }
    return m_settings;
}

CacheSettings CacheBudget::lastSettings() const
{
    QMutexLocker l(&m_settingsMutex); // what settings() last read: no stat(2) here
    return m_settings;
}

quint32 CacheBudget::nextTick() { return state()->tick.fetch_add(1, std::memory_order_relaxed) + 1; }

void CacheBudget::account(qint64 bytes) { state()->accounted.fetch_add(bytes, std::memory_order_relaxed); }

qint64 CacheBudget::accountedBytes() const { return state()->accounted.load(std::memory_order_relaxed); }

bool CacheBudget::overBudget(const CacheSettings &s, qint64 used, qint64 incoming, qint64 freeBytes) const
{
    if (s.maxSize && used + incoming > qint64(double(*s.maxSize) * kStartFraction))
        return true;
    return s.minFreeSpace > 0 && freeBytes >= 0 && freeBytes - incoming < s.minFreeSpace;
}

void CacheBudget::beforeWrite(qint64 bytes)
{
    const CacheSettings s = settings();
    if (!s.maxSize)
        return;
    const bool stale = bootSeconds() - state()->measuredAt.load(std::memory_order_relaxed) > kRemeasureSeconds;
    if (!stale && !overBudget(s, accountedBytes(), bytes, -1))
        return;
    (void)enforce(bytes, /*checkFloor=*/false, /*force=*/false);
}

void CacheBudget::beforeCommit()
{
    const CacheSettings s = settings();
    const qint64 freeBytes = s.minFreeSpace > 0 ? freeSpace(m_cacheDir) : -1;
    m_freeSeen = freeBytes;
    const bool stale = s.maxSize && bootSeconds() - state()->measuredAt.load(std::memory_order_relaxed) > kRemeasureSeconds;
    if (!stale && !overBudget(s, accountedBytes(), 0, freeBytes))
        return;
    (void)enforce(0, /*checkFloor=*/true, /*force=*/false);
}

void CacheBudget::afterCommit()
{
    if (m_futileAt.load() < 0)
        return; // the last pass freed what it wanted: nothing waits for commits
    const CacheSettings s = settings();
    if (!overBudget(s, accountedBytes(), 0, -1))
        return;
    m_futileAt = -1; // what was uncommitted is committed now: worth another pass
    (void)enforce(0, /*checkFloor=*/false, /*force=*/false);
}

std::optional<qint64> CacheBudget::roomForOneOperation()
{
    const CacheSettings s = lastSettings();
    std::optional<qint64> room;
    if (s.maxSize)
        room = qint64(double(*s.maxSize) * kStopFraction);
    if (const qint64 freeBytes = m_freeSeen; s.minFreeSpace > 0 && freeBytes >= 0) {
        const qint64 byFloor = std::max<qint64>(0, accountedBytes() + freeBytes - s.minFreeSpace);
        room = room ? std::min(*room, byFloor) : byFloor;
    }
    return room;
}

bool CacheBudget::isTight()
{
    const std::optional<qint64> max = lastSettings().maxSize;
    return max && accountedBytes() > qint64(double(*max) * kStopFraction);
}

Result<CacheBudget::Report> CacheBudget::collect() { return enforce(0, /*checkFloor=*/true, /*force=*/true); }

Result<CacheBudget::Report> CacheBudget::enforce(qint64 incoming, bool checkFloor, bool force)
{
    if (t_inPass)
        return Report{};
    QMutexLocker pass(&m_passMutex);
    t_inPass = true;
    const auto leavePass = qScopeGuard([] { t_inPass = false; });
    if (const qint64 futile = m_futileAt.load(); !force && futile >= 0 && accountedBytes() < futile + kBackOffBytes)
        return Report{};
    while (::flock(m_fd, LOCK_EX) != 0)
        if (errno != EINTR)
            return makeError(ErrorKind::LocalIo, QStringLiteral("cannot lock %1/budget: %2").arg(m_cacheDir, errnoText(errno)));
    const auto unlock = qScopeGuard([this] { ::flock(m_fd, LOCK_UN); });
    const CacheSettings s = settings();
    State *st = state();
    // Another thread or process may have done the work while this one waited.
    const bool stale = bootSeconds() - st->measuredAt.load() > kRemeasureSeconds;
    if (!force && !stale && !overBudget(s, accountedBytes(), incoming, checkFloor ? freeSpace(m_cacheDir) : -1))
        return Report{};

    Report r;
    QStringList warnings;
    r.usedBefore = diskUsage(m_cacheDir);
    qint64 used = r.usedBefore;
    QStringList touched; // entries that lost chunks or unused blocks
    if (force) { // gc: blocks of writes never committed (a process killed mid-fetch)
        const budgetevictor::Freed orphans = budgetevictor::freeOrphanBlocks(m_cacheDir, &warnings);
        touched = orphans.entries;
        if (orphans.bytes > 0)
            used = diskUsage(m_cacheDir);
    }
    st->accounted.store(used);
    st->measuredAt.store(bootSeconds());
    const qint64 freeBytes = freeSpace(m_cacheDir);
    m_freeSeen = freeBytes;

    qint64 toFree = 0;
    quint32 reason = force ? 3 : 1;
    if (s.maxSize) {
        const qint64 start = qint64(double(*s.maxSize) * kStartFraction);
        const qint64 stop = qint64(double(*s.maxSize) * kStopFraction);
        if (used + incoming > (force ? stop : start))
            toFree = used + incoming - stop;
    }
    if (checkFloor && s.minFreeSpace > 0 && freeBytes >= 0 && freeBytes - incoming < s.minFreeSpace) {
        const qint64 need = s.minFreeSpace + s.minFreeSpace / 20 + incoming - freeBytes; // 5 % above the floor
        if (need > toFree) {
            toFree = need;
            reason = force ? 3 : 2;
        }
    }
    r.reason = QString::fromLatin1(reasonText(reason));
    r.usedAfter = used;
    if (toFree > 0) {
        // The cache's packer, taken without waiting the first time a cold run compresses well.
        std::unique_ptr<PackWriter> packer;
        bool packerTried = false;
        const auto lazyPacker = [&]() -> PackWriter * {
            if (!packerTried) {
                packerTried = true;
                if (auto w = PackWriter::begin(m_cacheDir, 0))
                    packer = std::move(w).value();
            }
            return packer.get();
        };
        const budgetevictor::Freed freed = budgetevictor::evictLeastRecentlyUsed(m_cacheDir, toFree, &warnings, lazyPacker);
        touched += freed.entries;
        r.chunks = freed.chunks;
        if (freed.packedChunks > 0) {
            // Evicted packed chunks free nothing until their packs are rewritten. Unless a pack or
            // repack runs already (it is not waited for: the next pass looks again).
            if (!packerTried)
                lazyPacker();
            if (packer)
                if (auto repacked = packer->repack(); !repacked)
                    warnings << QStringLiteral("the budget could not repack %1: %2").arg(m_cacheDir, repacked.error().message);
        }
        packer.reset();
        r.usedAfter = diskUsage(m_cacheDir);
        st->accounted.store(r.usedAfter);
        // The rest is pinned or claimed (uncommitted): try again once a few more MiB are written.
        m_futileAt = freed.bytes + freed.packFreed < toFree ? r.usedAfter : -1;
    }
    r.bytes = std::max<qint64>(0, r.usedBefore - r.usedAfter);
    touched.removeDuplicates();
    r.objects = touched.size();
    if (r.chunks > 0) {
        st->lastObjects.store(r.objects);
        st->lastChunks.store(r.chunks);
        st->lastBytes.store(r.bytes);
        st->lastUsedBefore.store(r.usedBefore);
        st->lastUsedAfter.store(r.usedAfter);
        st->lastReason.store(reason);
        st->totalChunks.fetch_add(r.chunks);
        st->totalBytes.fetch_add(r.bytes);
        st->evictionSeq.fetch_add(1, std::memory_order_release);
    }
    for (const QString &w : std::as_const(warnings))
        qCWarning(lcBudget).noquote() << "sparsescope:" << w;
    return r;
}

CacheBudget::News CacheBudget::lastEviction() const
{
    const State *st = state();
    News n;
    n.seq = st->evictionSeq.load(std::memory_order_acquire);
    n.report.objects = st->lastObjects.load();
    n.report.chunks = st->lastChunks.load();
    n.report.bytes = st->lastBytes.load();
    n.report.usedBefore = st->lastUsedBefore.load();
    n.report.usedAfter = st->lastUsedAfter.load();
    n.report.reason = QString::fromLatin1(reasonText(st->lastReason.load()));
    n.totalChunks = st->totalChunks.load();
    n.totalBytes = st->totalBytes.load();
    return n;
}

qint64 CacheBudget::diskUsage(const QString &dir)
{
    t_duBytes = 0;
    ::nftw(QFile::encodeName(dir).constData(), addBlocks, 16, FTW_PHYS);
    return t_duBytes;
}

qint64 CacheBudget::freeSpace(const QString &dir)
{
    struct statvfs v {};
    if (::statvfs(QFile::encodeName(dir).constData(), &v) != 0)
        return -1;
    return qint64(v.f_bavail) * qint64(v.f_frsize);
}

} // namespace sparsescope
