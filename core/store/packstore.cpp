#include "packstore.h"
#include "fileutil.h"

#include <QFile>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
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

PackStore::~PackStore() = default;

Status PackStore::openIndexLocked()
{
    if (m_index)
        return okStatus();
    auto index = PackIndex::open(packsDirectory(m_cacheDir) + QStringLiteral("/index.sqlite"), /*create=*/false);
    if (!index)
        return index.error();
    m_index = std::move(index).value();
    m_sinceCheck.start();
    return okStatus();
}

void PackStore::closeDeletedPacksLocked()
{
    // A repack in any process deletes packs it rewrote: let their space go (readers under way
    // keep their PackFile until they are done).
    if (m_sinceCheck.isValid() && m_sinceCheck.elapsed() < kCheckDeletedMs)
        return;
    m_sinceCheck.start();
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
    QMutexLocker l(&m_mutex);
    if (Status st = openIndexLocked(); !st)
        return st.error();
    auto found = m_index->locate(object, chunk);
    if (!found)
        return found.error();
    if (!*found)
        return makeError(ErrorKind::Integrity, QStringLiteral("chunk %1 of cache entry %2 is not in the pack index").arg(chunk).arg(object));
    return **found;
}

Status PackStore::read(const QString &object, qint64 chunk, quint64 checksum, qint64 offset, char *out, qint64 length)
{
    const LocationKey key{object, chunk, checksum};
    for (int attempt = 0;; ++attempt) {
        Cached c;
        {
            QMutexLocker l(&m_mutex);
            closeDeletedPacksLocked();
            auto it = m_locations.find(key);
            if (it == m_locations.end()) {
                l.unlock();
                auto found = locate(object, chunk);
                if (!found)
                    return found.error();
                l.relock();
                if (m_locations.size() >= kMaxLocations)
                    m_locations.clear();
                it = m_locations.insert(key, Cached{std::move(found).value(), nullptr});
            }
            if (!it->file && it->where.kind != Kind::Zero) {
                auto f = packFileLocked(it->where.pack);
                if (!f) {
                    m_locations.erase(it);
                    if (attempt > 0 || f.error().kind != ErrorKind::Integrity)
                        return f.error();
                    continue; // repacked away since it was looked up: look it up again
                }
                it->file = std::move(f).value();
            }
            c = *it;
        }
        const BlobLocation &b = c.where;
        if (offset < 0 || length < 0 || offset + length > b.size)
            return makeError(ErrorKind::Integrity, QStringLiteral("the pack index stores %1 bytes for chunk %2 of cache entry %3")
                                                       .arg(b.size).arg(chunk).arg(object));
        return readFrom(b, std::move(c.file), offset, out, length, PackStore::packPath(m_cacheDir, b.pack));
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
        QMutexLocker l(&m_mutex);
        auto f = packFileLocked(b.pack);
        if (!f)
            return f.error();
        file = std::move(f).value();
    }
    // A pack that cannot be read is damaged (Integrity): the chunk is dropped and fetched again.
    auto damaged = [&](const Status &st) { return makeError(ErrorKind::Integrity, st.error().message); };
    if (b.kind == Kind::Raw) {
        if (Status st = preadAll(file->fd, out, length, b.offset + offset, what); !st)
            return damaged(st);
        return okStatus();
    }
    // zstd: the frames that hold [offset, offset + length).
    const qint64 firstFrame = offset / chunkcodec::kFrameSize;
    const qint64 lastFrame = length > 0 ? (offset + length - 1) / chunkcodec::kFrameSize : firstFrame - 1;
    if (lastFrame >= b.frames.size())
        return makeError(ErrorKind::Integrity, QStringLiteral("%1: the pack index lists too few compressed frames").arg(what));
    qint64 frameOffset = b.offset;
    for (qint64 i = 0; i < firstFrame; ++i)
        frameOffset += b.frames[i];
    QByteArray compressed, plain;
    for (qint64 i = firstFrame; i <= lastFrame; ++i) {
        const qint64 frameBegin = i * chunkcodec::kFrameSize;
        const qint64 frameSize = std::min(chunkcodec::kFrameSize, b.size - frameBegin);
        const qint64 from = std::max(offset, frameBegin), to = std::min(offset + length, frameBegin + frameSize);
        const FrameKey key{b.pack, frameOffset};
        bool cached = false;
        {
            QMutexLocker l(&m_mutex);
            if (const QByteArray *hit = useFrameCache ? m_frames.object(key) : nullptr) {
                std::memcpy(out + (from - offset), hit->constData() + (from - frameBegin), size_t(to - from));
                cached = true;
            }
        }
        if (!cached) {
            compressed.resize(b.frames[i]);
            if (Status st = preadAll(file->fd, compressed.data(), compressed.size(), frameOffset, what); !st)
                return damaged(st);
            plain.resize(frameSize);
            if (Status st = chunkcodec::decompressFrame(compressed.constData(), compressed.size(), plain.data(), frameSize, what); !st)
                return st;
            std::memcpy(out + (from - offset), plain.constData() + (from - frameBegin), size_t(to - from));
            if (useFrameCache) {
                QMutexLocker l(&m_mutex);
                m_frames.insert(key, new QByteArray(plain));
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
    QMutexLocker l(&m_mutex);
    if (Status st = openIndexLocked(); !st)
        return st;
    m_locations.clear();
    m_frames.clear();
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
    for (const PackIndex::Pack &p : std::as_const(*packs)) {
        struct stat st {};
        if (::stat(QFile::encodeName(packPath(cacheDir, p.id)).constData(), &st) == 0) {
            ++s.packFiles;
            s.packFileBytes += qint64(st.st_blocks) * 512;
        }
    }
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
    QMutexLocker l(&m_mutex);
    m_locations.clear();
    m_frames.clear();
    m_files.clear();
}

} // namespace sparsescope
