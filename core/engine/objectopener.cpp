#include "objectopener.h"
#include "cachepaths.h"
#include "chunkbitmap.h"
#include "fileutil.h"
#include "httpresponse.h"
#include "objectmeta.h"
#include "sparsefilestore.h"

#include <QElapsedTimer>
#include <QFile>
#include <QThread>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>

namespace sparsescope {

namespace {
// The entry's `validated` file: its mtime is when the object was last validated upstream (for
// --max-age). Losing an update only costs one more validation, so it is never synced.
QString validatedPath(const QString &dir) { return dir + QStringLiteral("/validated"); }

void stampValidated(const QString &dir)
{
    const QByteArray path = QFile::encodeName(validatedPath(dir));
    if (::utimensat(AT_FDCWD, path.constData(), nullptr, 0) == 0)
        return;
    const int fd = ::open(path.constData(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        ::close(fd);
}

bool validatedWithin(const QString &dir, int maxAgeSeconds)
{
    struct stat st {};
    if (maxAgeSeconds <= 0 || ::stat(QFile::encodeName(validatedPath(dir)).constData(), &st) != 0)
        return false;
    const std::time_t now = std::time(nullptr);
    return st.st_mtime <= now && now - st.st_mtime < maxAgeSeconds;
}

// The span from the first to the last missing chunk among chunks [first, last] of a cached entry,
// or an empty range.
ByteRange missingSpan(const SparseFileStore &store, qint64 first, qint64 last)
{
    const auto gaps = gapsBetween(first, last, store.presentRuns(first, last));
    return gaps.isEmpty() ? ByteRange{} : store.geometry().chunkSpan(gaps.first().first, gaps.last().second);
}

// What to ask with the opening request of a cached entry: the first read's missing chunks, those
// of them this process could claim (the others are being fetched by another; the read waits for
// them). The claims go with the store: its commit or releaseClaims() gives them back.
OpenProbe probeForCached(SparseFileStore &store, const OpenOptions &options)
{
    OpenProbe probe;
    const ChunkGeometry g = store.geometry();
    ByteRange wanted;
    if (options.tailBytes > 0)
        wanted = {std::max<qint64>(0, g.objectSize - options.tailBytes), g.objectSize};
    else if (!options.firstRead.isEmpty())
        wanted = {options.firstRead.begin, std::min(options.firstRead.end, g.objectSize)};
    if (wanted.isEmpty() || wanted.begin >= g.objectSize)
        return probe;
    const auto [first, last] = g.chunksTouching(wanted);
    ByteRange missing = missingSpan(store, first, last);
    if (missing.length() > kMaxFirstReadBytes)
        missing.end = missing.begin + kMaxFirstReadBytes;
    if (missing.isEmpty())
        return probe;
    const auto [a, b] = g.chunksTouching(missing);
    auto claimed = store.claim(a, b);
    if (!claimed || claimed->claimed.isEmpty())
        return probe; // the read meets the error, or waits for the other process
    for (qsizetype i = 1; i < claimed->claimed.size(); ++i)
        store.releaseClaims(claimed->claimed[i].first, claimed->claimed[i].second);
    probe.range = g.chunkSpan(claimed->claimed.first().first, claimed->claimed.first().second);
    return probe;
}

// ... and of a new one, whose size is not known yet: whole chunks of `chunkSize`.
OpenProbe probeForNew(qint64 chunkSize, const OpenOptions &options)
{
    OpenProbe probe;
    if (options.tailBytes > 0) {
        // One chunk more than asked, so that every chunk touching the tail arrives whole.
        probe.suffixBytes = std::min(options.tailBytes + chunkSize, kMaxFirstReadBytes);
    } else if (!options.firstRead.isEmpty() && options.firstRead.begin >= 0) {
        const qint64 begin = options.firstRead.begin / chunkSize * chunkSize;
        qint64 end = (options.firstRead.end + chunkSize - 1) / chunkSize * chunkSize;
        end = std::min(end, begin + std::max(chunkSize, kMaxFirstReadBytes / chunkSize * chunkSize));
        probe.range = {begin, end};
    }
    return probe;
}

// Stores the whole chunks the probe delivered that are missing and nobody else fetches; `stored`
// becomes their span.
Status storeProbe(SparseFileStore &store, const SourceInfo &info, Statistics &stats, ByteRange *stored)
{
    if (info.probeBytes.isEmpty())
        return okStatus();
    const ChunkGeometry g = store.geometry();
    const qint64 begin = info.probeOffset, end = info.probeOffset + info.probeBytes.size();
    const qint64 first = (begin + g.chunkSize - 1) / g.chunkSize;
    const qint64 last = (end >= g.objectSize ? g.chunkCount() : end / g.chunkSize) - 1; // the last chunk ending by `end`
    if (last < first)
        return okStatus();
    auto claimed = store.claim(first, last);
    if (!claimed)
        return claimed.error();
    Status result = okStatus();
    for (const auto &[a, b] : claimed->claimed) {
        for (qint64 c = a; c <= b; ++c) {
            const ByteRange r = g.chunkRange(c);
            if (result)
                result = store.writeChunk(c, QByteArrayView(info.probeBytes).sliced(r.begin - begin, r.length()));
            if (result)
                stats.storedBytes += r.length();
            else
                store.releaseClaims(c, c);
        }
    }
    // Not committed here: the object's first commit makes them durable (SparseObject::open
    // schedules it), off the opening's path — an fdatasync of a tar's 4 MiB head was 10 ms of
    // every listing. Until then they are present to this process only, and a crash forgets them.
    if (result)
        *stored = g.chunkSpan(first, last);
    return result;
}

// Held while a new object's opening request runs, so that another process opening the same new
// object waits for its entry instead of fetching the same bytes (flock(2): released on close, also
// when the process dies). The file, `objects/<id>.opening`, is left in place: removing a lock file
// others may wait on would let two holders in.
class OpeningLock {
public:
    OpeningLock(const QString &path, int waitMs)
    {
        m_fd = ::open(QFile::encodeName(path).constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (m_fd < 0)
            return; // without the lock, at worst both processes fetch the first read
        QElapsedTimer clock;
        clock.start();
        while (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
            m_waited = true;
            if (errno != EWOULDBLOCK || clock.elapsed() > waitMs)
                return;
            QThread::msleep(10);
        }
    }
    ~OpeningLock()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    OpeningLock(const OpeningLock &) = delete;
    OpeningLock &operator=(const OpeningLock &) = delete;
    bool waited() const { return m_waited; } // another process was opening it: look again

private:
    int m_fd = -1;
    bool m_waited = false;
};

QString withObject(const QString &object, QString message)
{
    return message.contains(object) ? message : QStringLiteral("%1: %2").arg(object, message);
}
} // namespace

Result<OpenedEntry> openEntry(const QUrl &url, const EngineConfig &config, const OpenOptions &options)
{
    OpenedEntry out;
    out.statistics = options.statistics ? options.statistics : std::make_shared<Statistics>();
    auto source = createSource(url, config.source, out.statistics);
    if (!source)
        return source.error();
    out.source = std::move(source).value();
    const QString dir = cachepaths::objectDirectory(config.cacheDir, url);
    ObjectMeta want;
    want.source = cachepaths::redactedSource(url);
    want.chunkSize = config.chunkSize;
    auto openStore = [&]() -> Status {
        out.store.reset();
        auto store = SparseFileStore::open(dir, want, config.lockWaitMs);
        if (!store) {
            Error e = store.error();
            e.message = withObject(want.source, e.message);
            return e;
        }
        out.store = std::move(store).value();
        return okStatus();
    };

    OpenProbe probe;
    auto cached = ObjectMeta::load(dir + QStringLiteral("/meta.json"));
    std::unique_ptr<OpeningLock> opening;
    if (!cached && makePrivateDirectory(cachepaths::objectsRoot(config.cacheDir))) {
        opening = std::make_unique<OpeningLock>(dir + QStringLiteral(".opening"), config.lockWaitMs);
        if (opening->waited())
            cached = ObjectMeta::load(dir + QStringLiteral("/meta.json"));
    }
    if (cached) {
        opening.reset();
        // Reopen: the entry as cached, then revalidated by what the first read needs.
        want.size = cached->size;
        want.validator = cached->validator;
        if (Status st = openStore(); !st)
            return st.error();
        if (validatedWithin(dir, config.maxAgeSeconds)) {
            out.info.size = want.size;
            out.info.validator = want.validator;
            out.info.displayName = want.source;
            out.source->assume(out.info);
            out.warnings = out.store->openWarnings();
            return out;
        }
        probe = probeForCached(*out.store, options);
        probe.cachedValidator = want.validator;
    } else {
        probe = probeForNew(config.chunkSize, options);
    }
    if (options.streams)
        out.source->preconnect();
    auto probed = out.source->open(probe).result();
    for (int attempt = 1; !probed && probed.error().retryable && attempt < config.maxAttempts; ++attempt) {
        const qint64 after = probed.error().retryAfterMs;
        QThread::msleep(after >= 0 && after <= EngineConfig::kMaxRetryAfterMs ? after : 250 * attempt);
        probed = out.source->open(probe).result();
    }
    if (!probed) {
        if (out.store && !probe.range.isEmpty()) {
            const auto [a, b] = out.store->geometry().chunksTouching(probe.range);
            out.store->releaseClaims(a, b);
        }
        return probed.error();
    }
    SourceInfo &info = probed.value();
    if (!out.store || info.size != want.size || !http::sameValidator(want.validator, info.validator)) {
        want.size = info.size;
        want.validator = info.validator; // a new entry, or the object changed: the store resets it
        if (Status st = openStore(); !st)
            return st.error();
    }
    if (http::strengthens(want.validator, info.validator)) {
        // The weak ETag of a file modified just before the first open is now strong: store that,
        // so that range requests carry If-Range again (a failure to store it only keeps the weak one).
        if (out.store->setValidator(info.validator))
            want.validator = info.validator;
    }
    info.validator = want.validator; // the cached spelling of a weakly equal validator (W/"x" = "x")
    info.displayName = want.source;
    out.warnings = out.store->openWarnings();
    stampValidated(dir);
    if (Status st = storeProbe(*out.store, info, *out.statistics, &out.fetched); !st) {
        Error e = st.error(); // the cache's disk: nothing was marked present
        e.message = withObject(want.source, e.message);
        return e;
    }
    info.probeBytes.clear();
    out.info = std::move(info);
    return out;
}

} // namespace sparsescope
