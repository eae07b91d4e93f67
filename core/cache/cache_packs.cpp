// Cache: packing, repacking and verifying a whole cache directory (packstore.h, packwriter.h).
#include "cache.h"
#include "packstore.h"
#include "packwriter.h"
#include "sparsefilestore.h"

#include <QFileInfo>

namespace sparsescope {

namespace {
// Opens an entry as it is (its own meta as what is wanted: nothing is reset).
Result<std::unique_ptr<SparseFileStore>> openEntry(const QString &dir, int waitMs)
{
    auto meta = ObjectMeta::load(dir + QStringLiteral("/meta.json")); // opening replays the journal: no inspect() first
    if (!meta)
        return meta.error();
    return SparseFileStore::open(dir, *meta, waitMs);
}
} // namespace

Result<PackReport> Cache::pack(const QStringList &sources, const CacheProgress &progress, int waitMs,
                               const std::function<void(const QString &)> &waiting) const
{
    QStringList dirs;
    if (sources.isEmpty()) {
        dirs = SparseFileStore::entryDirectories(m_directory);
    } else {
        for (const QString &s : sources) {
            const QString dir = entryDirectory(s);
            if (!QFileInfo(dir).isDir())
                return makeError(ErrorKind::LocalIo, QStringLiteral("%1 is not in the cache %2; nothing to pack").arg(displaySource(s), m_directory));
            dirs << dir;
        }
    }
    qint64 total = 0;
    for (const QString &dir : std::as_const(dirs))
        if (auto in = SparseFileStore::inspect(dir))
            total += in->presentBytes - in->packedBytes;
    auto writer = PackWriter::begin(m_directory, waitMs, waiting);
    if (!writer)
        return writer.error();
    PackReport report;
    qint64 doneBefore = 0;
    for (const QString &dir : std::as_const(dirs)) {
        auto store = openEntry(dir, waitMs);
        if (!store) {
            if (!sources.isEmpty())
                return store.error();
            continue; // removed meanwhile, or unreadable: status reports it
        }
        auto packed = (*store)->packInto(**writer, [&](qint64 done) { return !progress || progress(doneBefore + done, total); });
        if (!packed)
            return packed.error();
        doneBefore += packed->bytes;
        report.objects += packed->chunks > 0 ? 1 : 0;
        report.chunks += packed->chunks;
        report.bytes += packed->bytes;
        report.storedBytes += packed->storedBytes;
        report.skipped += packed->skipped;
    }
    if (progress)
        progress(total, total);
    return report;
}

Result<RepackReport> Cache::repack(const CacheProgress &progress, int waitMs, const std::function<void(const QString &)> &waiting) const
{
    auto writer = PackWriter::begin(m_directory, waitMs, waiting);
    if (!writer)
        return writer.error();
    auto r = (*writer)->repack([&](qint64 done, qint64 total) {
        if (progress)
            progress(done, total);
    });
    if (!r)
        return r.error();
    return RepackReport{r->forgottenChunks, r->droppedContents, r->rewrittenPacks, r->bytesBefore, r->bytesAfter};
}

Result<CacheVerifyReport> Cache::verifyAll(const CacheProgress &progress, int waitMs, const std::function<void(const QString &)> &waiting) const
{
    CacheVerifyReport report;
    const QStringList dirs = SparseFileStore::entryDirectories(m_directory);
    {
        auto writer = PackWriter::begin(m_directory, waitMs, waiting); // no repack moves contents meanwhile
        if (!writer)
            return writer.error();
        auto bad = (*writer)->verifyContents([&](qint64 done, qint64 total) {
            report.contents = total;
            if (progress)
                progress(done, total + dirs.size());
        });
        if (!bad)
            return bad.error();
        report.badContents = bad->size();
    }
    qint64 done = 0;
    for (const QString &dir : dirs) {
        if (progress)
            progress(report.contents + done, report.contents + dirs.size());
        ++done;
        auto store = openEntry(dir, waitMs);
        if (!store)
            continue;
        auto v = (*store)->verify();
        if (!v)
            return v.error();
        ++report.objects;
        report.checkedChunks += v->checkedChunks;
        report.badChunks += v->badChunks.size();
        if (!v->badChunks.isEmpty()) {
            QStringList ranges;
            for (qint64 c : std::as_const(v->badChunks))
                ranges << (*store)->geometry().chunkRange(c).toInclusiveString();
            report.lines << QStringLiteral("%1: %2 of %3 present chunks were damaged and were dropped (bytes %4); they will be fetched again when read")
                                .arg((*store)->meta().source).arg(v->badChunks.size()).arg(v->checkedChunks).arg(ranges.join(QStringLiteral(", ")));
        }
    }
    return report;
}

} // namespace sparsescope
