#include "cache.h"
#include "cachepaths.h"
#include "handoff.h"
#include "iopool.h"
#include "uringring.h"
#include "packstore.h"
#include "sparsefilestore.h"

#include <QFileInfo>

namespace sparsescope {

QString Cache::defaultDirectory() { return cachepaths::defaultCacheDirectory(); }

QString Cache::displaySource(const QString &source) { return cachepaths::redactedSource(cachepaths::sourceUrl(source)); }

QString Cache::displayName(const QString &source)
{
    const QUrl url = cachepaths::sourceUrl(source);
    const QString name = url.isLocalFile() ? QFileInfo(url.toLocalFile()).fileName() : url.fileName();
    return name.isEmpty() ? source : name;
}

QThreadPool *Cache::jobPool() { return ::sparsescope::jobPool(); }

QString Cache::storeBackend() { return uring::storeWrites() ? QStringLiteral("io_uring") : QStringLiteral("pwrite"); }

void Cache::waitForWrites()
{
    jobPool()->waitForDone();
    ioPool()->waitForDone();
}

QString Cache::objectsDirectory() const { return cachepaths::objectsRoot(m_directory); }

QString Cache::entryDirectory(const QString &source) const
{
    return cachepaths::objectDirectory(m_directory, cachepaths::sourceUrl(source));
}

CacheListing Cache::list() const
{
    CacheListing out;
    for (SparseFileStore::Listed &l : SparseFileStore::listEntries(m_directory, &out.warnings)) {
        CachedObject o;
        o.directory = l.directory;
        o.source = l.inspection.meta.source;
        o.validator = l.inspection.meta.validator;
        o.size = l.inspection.meta.size;
        o.chunkSize = l.inspection.meta.chunkSize;
        o.present = std::move(l.inspection.present);
        o.packed = std::move(l.inspection.packed);
        o.presentBytes = l.inspection.presentBytes;
        o.packedBytes = l.inspection.packedBytes;
        o.allocatedBytes = l.inspection.allocatedBytes;
        o.diskBytes = o.allocatedBytes;
        const qint64 packedChunks = o.packed.count();
        out.packs.looseChunks += o.present.count() - packedChunks;
        out.packs.looseBytes += o.presentBytes - o.packedBytes;
        out.packs.packedChunks += packedChunks;
        out.packs.packedBytes += o.packedBytes;
        out.objects.append(std::move(o));
    }
    auto stats = PackStore::stats(m_directory); // nothing to read while there is no index
    if (!stats) {
        out.packsProblem = stats.error().message;
        out.warnings << out.packsProblem;
        return out;
    }
    for (CachedObject &o : out.objects)
        o.diskBytes += stats->storedBytesByObject.value(QFileInfo(o.directory).fileName());
    out.packs.contents = stats->totals.blobs;
    out.packs.contentBytes = stats->totals.blobBytes;
    out.packs.storedBytes = stats->totals.storedBytes;
    out.packs.packFiles = stats->packFiles;
    out.packs.packFileBytes = stats->packFileBytes;
    out.packs.dedupSavedBytes = std::max<qint64>(0, stats->totals.logicalBytes - stats->totals.blobBytes);
    return out;
}

QFuture<CacheListing> Cache::listAsync() const
{
    return runOnPool(jobPool(), [cache = *this] { return cache.list(); });
}

Status Cache::remove(const QString &sourceOrDirectory, int waitMs, const std::function<void(const QString &)> &waiting) const
{
    const bool isEntry = QFileInfo(sourceOrDirectory).absolutePath() == QFileInfo(objectsDirectory()).absoluteFilePath();
    const QString dir = isEntry ? sourceOrDirectory : entryDirectory(sourceOrDirectory);
    if (!QFileInfo(dir).isDir())
        return makeError(ErrorKind::LocalIo, QStringLiteral("%1 is not in the cache %2; nothing to remove")
                                               .arg(isEntry ? dir : displaySource(sourceOrDirectory), m_directory));
    return SparseFileStore::removeEntry(dir, waitMs, waiting);
}

QFuture<Status> Cache::removeAsync(const QString &sourceOrDirectory) const
{
    return runOnPool(jobPool(), [cache = *this, sourceOrDirectory] { return cache.remove(sourceOrDirectory); });
}

QFuture<SparseObject::OpenResult> Cache::open(const QString &source, EngineConfig config, const OpenOptions &options) const
{
    config.cacheDir = m_directory;
    return SparseObject::open(source, config, options);
}

Result<CacheSettings> Cache::settings() const { return CacheSettings::load(m_directory); }

Status Cache::saveSettings(const CacheSettings &settings) const { return settings.save(m_directory); }

Result<CacheUsage> Cache::usage() const
{
    auto s = settings();
    if (!s)
        return s.error();
    CacheUsage u;
    u.settings = *s;
    u.usedBytes = CacheBudget::diskUsage(m_directory);
    u.freeBytes = CacheBudget::freeSpace(m_directory);
    return u;
}

QFuture<Result<CacheUsage>> Cache::usageAsync() const
{
    return runOnPool(jobPool(), [cache = *this] { return cache.usage(); });
}

Result<GcReport> Cache::collectGarbage() const
{
    auto budget = CacheBudget::forCache(m_directory);
    if (!budget)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot open the budget of the cache %1 (see the warning above)").arg(m_directory));
    return budget->collect();
}

EvictionNews Cache::lastEviction() const
{
    auto budget = CacheBudget::forCache(m_directory);
    return budget ? budget->lastEviction() : EvictionNews{};
}

} // namespace sparsescope
