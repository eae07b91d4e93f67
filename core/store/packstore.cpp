#include "packstore.h"
#include "fileutil.h"

#include <QFile>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <sys/stat.h>
#include <unistd.h>

namespace sparsescope {

namespace {
using Kind = chunkcodec::Encoded::Kind;
constexpr qint64 kCheckDeletedMs = 2000;
constexpr qsizetype kMaxLocations = 1 << 18;
} // namespace

PackStore::PackFile::~PackFile()
{
    if (fd >= 0)
        ::close(fd);
}

std::shared_ptr<PackStore> PackStore::forCache(const QString &cacheDir)
{
    static QMutex mutex;
    static std::map<QString, std::weak_ptr<PackStore>> stores;
    QMutexLocker l(&mutex);
    auto &slot = stores[cacheDir];
    if (auto s = slot.lock())
        return s;
    std::shared_ptr<PackStore> s(new PackStore(cacheDir));
    slot = s;
    return s;
}

QString PackStore::packsDirectory(const QString &cacheDir) { return cacheDir + QStringLiteral("/packs"); }

QString PackStore::packPath(const QString &cacheDir, qint64 pack)
{
    return packsDirectory(cacheDir) + QStringLiteral("/pack-%1").arg(pack, 6, 10, QLatin1Char('0'));
}

qint64 PackStore::packFilesDiskBytes(const QString &cacheDir, const QList<PackIndex::Pack> &packs, qint64 *files)
{
    qint64 total = 0;
    for (const PackIndex::Pack &p : packs) {
        struct stat st {};
        if (::stat(QFile::encodeName(packPath(cacheDir, p.id)).constData(), &st) == 0) {
            total += qint64(st.st_blocks) * 512;
            if (files)
                ++*files;
        }
    }
    return total;
}

PackStore::PackStore(QString cacheDir) : m_cacheDir(std::move(cacheDir)) {}

PackStore::~PackStore() = default;

Status PackStore::openIndexLocked()
{
    if (m_index)
        return okStatus();
    auto index = PackIndex::open(packsDirectory(m_cacheDir) + QStringLiteral("/index.sqlite"), /*create=*/false);
    if (!index)
        return index.error();
    m_index = std::move(index).value();
    return okStatus();
}

void PackStore::closeDeletedPacks()
{
    // A repack in any process deletes packs it rewrote: let their space go (readers under way
    // keep their PackFile until they are done).
    const qint64 now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
    qint64 due = m_nextCheckMs.load(std::memory_order_relaxed);
    if (now < due || !m_nextCheckMs.compare_exchange_strong(due, now + kCheckDeletedMs))
        return; // not yet, or another thread looks now
    std::unique_lock w(m_lock);
    for (auto it = m_files.begin(); it != m_files.end();) {
        struct stat st {};
        if (::fstat(it.value()->fd, &st) == 0 && st.st_nlink == 0) {
            it = m_files.erase(it);
            m_locations.clear();
        } else {
            ++it;
        }
    }
}

Result<std::shared_ptr<PackStore::PackFile>> PackStore::packFileLocked(qint64 pack)
{
    if (auto it = m_files.constFind(pack); it != m_files.constEnd())
        return it.value();
    auto file = std::make_shared<PackFile>();
    file->fd = ::open(QFile::encodeName(packPath(m_cacheDir, pack)).constData(), O_RDONLY | O_CLOEXEC);
    if (file->fd < 0) {
        const int err = errno;
        return makeError(err == ENOENT ? ErrorKind::Integrity : ErrorKind::LocalIo,
                         QStringLiteral("cannot open %1: %2").arg(packPath(m_cacheDir, pack), errnoText(err)));
    }
    m_files.insert(pack, file);
    return file;
}

Result<BlobLocation> PackStore::locate(const QString &object, qint64 chunk)
{
    QMutexLocker l(&m_indexMutex);
    if (Status st = openIndexLocked(); !st)
        return st.error();
    auto found = m_index->locate(object, chunk);
    if (!found)
        return found.error();
    if (!*found)
        return makeError(ErrorKind::Integrity, QStringLiteral("chunk %1 of cache entry %2 is not in the pack index").arg(chunk).arg(object));
    return **found;
}

Result<std::shared_ptr<const PackStore::Cached>> PackStore::cachedLocation(const LocationKey &key)
{
    {
        std::shared_lock r(m_lock);
        if (auto it = m_locations.constFind(key); it != m_locations.constEnd())
            return it.value();
    }
    auto found = locate(key.object, key.chunk);
    if (!found)
        return found.error();
    auto cached = std::make_shared<Cached>();
    cached->where = std::move(found).value();
    std::unique_lock w(m_lock);
    if (cached->where.kind != Kind::Zero) {
        auto f = packFileLocked(cached->where.pack);
        if (!f)
            return f.error();
        cached->file = std::move(f).value();
    }
    if (m_locations.size() >= kMaxLocations)
        m_locations.clear();
    m_locations.insert(key, cached);
    return std::shared_ptr<const Cached>(std::move(cached));
}

Status PackStore::read(const QString &object, qint64 chunk, quint64 checksum, qint64 offset, char *out, qint64 length)
{
    closeDeletedPacks();
    const LocationKey key{object, chunk, checksum};
    {
        // The common case, a raw content whose location is known: read under the shared lock,
        // which keeps its pack file open, without copying anything.
        std::shared_lock r(m_lock);
        if (auto it = m_locations.constFind(key); it != m_locations.constEnd() && (*it)->where.kind == Kind::Raw) {
            const BlobLocation &b = (*it)->where;
            if (offset >= 0 && length >= 0 && offset + length <= b.size &&
                preadAll((*it)->file->fd, out, length, b.offset + offset, QString()))
                return okStatus();
        }
    }
    for (int attempt = 0;; ++attempt) {
        auto c = cachedLocation(key);
        if (!c) {
            // Repacked away since it was looked up (its pack is gone): look it up again, once.
            if (attempt > 0 || c.error().kind != ErrorKind::Integrity)
                return c.error();
            std::unique_lock w(m_lock);
            m_locations.remove(key);
            continue;
        }
        const BlobLocation &b = (*c)->where;
        if (offset < 0 || length < 0 || offset + length > b.size)
            return makeError(ErrorKind::Integrity, QStringLiteral("the pack index stores %1 bytes for chunk %2 of cache entry %3")
                                                       .arg(b.size).arg(chunk).arg(object));
        return readFrom(b, (*c)->file, offset, out, length, QString());
    }
}

Status PackStore::readFrom(const BlobLocation &b, std::shared_ptr<PackFile> file, qint64 offset, char *out, qint64 length,
                           const QString &what, bool useFrameCache)
{
    if (b.kind == Kind::Zero) {
        std::memset(out, 0, size_t(length));
        return okStatus();
    }
    if (!file) {
        std::unique_lock w(m_lock);
        auto f = packFileLocked(b.pack);
        if (!f)
            return f.error();
        file = std::move(f).value();
    }
    // Messages name the pack (built only on failure).
    auto named = [&] { return what.isEmpty() ? packPath(m_cacheDir, b.pack) : what; };
    // A pack that cannot be read is damaged (Integrity): the chunk is dropped and fetched again.
    auto damaged = [&](const Status &st) { return makeError(ErrorKind::Integrity, st.error().message); };
    if (b.kind == Kind::Raw) {
        if (Status st = preadAll(file->fd, out, length, b.offset + offset, QString()); !st)
            return damaged(makeError(ErrorKind::Integrity, QStringLiteral("%1: %2").arg(named(), st.error().message)));
        return okStatus();
    }
    // zstd: the frames that hold [offset, offset + length).
    const qint64 firstFrame = offset / chunkcodec::kFrameSize;
    const qint64 lastFrame = length > 0 ? (offset + length - 1) / chunkcodec::kFrameSize : firstFrame - 1;
    if (lastFrame >= b.frames.size())
        return makeError(ErrorKind::Integrity, QStringLiteral("%1: the pack index lists too few compressed frames").arg(named()));
    qint64 frameOffset = b.offset;
    for (qint64 i = 0; i < firstFrame; ++i)
        frameOffset += b.frames[i];
    QByteArray compressed, plain;
    for (qint64 i = firstFrame; i <= lastFrame; ++i) {
        const qint64 frameBegin = i * chunkcodec::kFrameSize;
        const qint64 frameSize = std::min(chunkcodec::kFrameSize, b.size - frameBegin);
        const qint64 from = std::max(offset, frameBegin), to = std::min(offset + length, frameBegin + frameSize);
        const FrameCache::Key key{b.pack, frameOffset};
        if (const QByteArray hit = useFrameCache ? m_frames.find(key) : QByteArray(); hit.size() == frameSize) {
            std::memcpy(out + (from - offset), hit.constData() + (from - frameBegin), size_t(to - from));
        } else {
            compressed.resize(b.frames[i]);
            if (Status st = preadAll(file->fd, compressed.data(), compressed.size(), frameOffset, QString()); !st)
                return damaged(makeError(ErrorKind::Integrity, QStringLiteral("%1: %2").arg(named(), st.error().message)));
            plain.resize(frameSize);
            if (Status st = chunkcodec::decompressFrame(compressed.constData(), compressed.size(), plain.data(), frameSize, named()); !st)
                return st;
            std::memcpy(out + (from - offset), plain.constData() + (from - frameBegin), size_t(to - from));
            if (useFrameCache) {
                m_frames.insert(key, plain);
                plain = QByteArray(); // kept by the cache: the next frame gets a buffer of its own
            }
        }
        frameOffset += b.frames[i];
    }
    return okStatus();
}

Result<QByteArray> PackStore::readBlob(const BlobLocation &b, const QString &what)
{
    QByteArray out(b.size, Qt::Uninitialized);
    if (Status st = readFrom(b, nullptr, 0, out.data(), b.size, what, /*useFrameCache=*/false); !st)
        return st.error();
    return out;
}

Status PackStore::markBad(const QByteArray &hash)
{
    forget();
    QMutexLocker l(&m_indexMutex);
    if (Status st = openIndexLocked(); !st)
        return st;
    return m_index->markBad(hash);
}

Result<PackStore::Stats> PackStore::stats(const QString &cacheDir)
{
    Stats s;
    const QString index = packsDirectory(cacheDir) + QStringLiteral("/index.sqlite");
    if (!QFile::exists(index))
        return s;
    auto opened = PackIndex::open(index, /*create=*/false);
    if (!opened)
        return opened.error();
    auto totals = (*opened)->totals();
    if (!totals)
        return totals.error();
    s.totals = *totals;
    auto packs = (*opened)->packs();
    if (!packs)
        return packs.error();
    s.packFileBytes = packFilesDiskBytes(cacheDir, *packs, &s.packFiles);
    for (const char *suffix : {"", "-wal", "-shm"}) {
        struct stat st {};
        if (::stat(QFile::encodeName(index + QLatin1String(suffix)).constData(), &st) == 0)
            s.packFileBytes += qint64(st.st_blocks) * 512;
    }
    auto byObject = (*opened)->storedBytesByObject();
    if (!byObject)
        return byObject.error();
    s.storedBytesByObject = std::move(byObject).value();
    return s;
}

void PackStore::forget()
{
    {
        std::unique_lock w(m_lock);
        m_locations.clear();
        m_files.clear();
    }
    m_frames.clear();
}

} // namespace sparsescope
