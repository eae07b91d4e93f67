// SparseFileStore, what is done to whole entries without opening them: inspecting one (status,
// the app's table), listing a cache directory, removing an entry.
#include "sparsefilestore.h"
#include "cachebudget.h"
#include "cachepaths.h"
#include "fileutil.h"
#include "journal.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <cstdio>
#include <sys/stat.h>

namespace sparsescope {

Result<SparseFileStore::Inspection> SparseFileStore::inspect(const QString &directory)
{
    auto meta = ObjectMeta::load(directory + QStringLiteral("/meta.json"));
    if (!meta)
        return meta.error();
    const ChunkGeometry g{meta->size, meta->chunkSize};
    auto state = journal::load(directory + QStringLiteral("/journal"), g.chunkCount(), meta->chunkSize, /*repair=*/false);
    if (!state)
        return state.error();
    Inspection in;
    in.meta = *meta;
    in.present = std::move(state->present);
    in.packed = std::move(state->packed);
    in.presentBytes = bytesIn(in.present, g);
    in.packedBytes = bytesIn(in.packed, g);
    struct stat st {};
    if (::stat(QFile::encodeName(directory + QStringLiteral("/data")).constData(), &st) == 0)
        in.allocatedBytes = qint64(st.st_blocks) * 512;
    return in;
}

QStringList SparseFileStore::entryDirectories(const QString &cacheDir)
{
    QStringList out;
    const QDir root(cachepaths::objectsRoot(cacheDir));
    for (const QString &id : root.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
        if (!id.startsWith(u'.')) // being removed
            out << root.absoluteFilePath(id);
    return out;
}

QList<SparseFileStore::Listed> SparseFileStore::listEntries(const QString &cacheDir, QStringList *warnings)
{
    QList<Listed> out;
    for (const QString &dir : entryDirectories(cacheDir)) {
        auto in = inspect(dir);
        if (!in) {
            if (warnings)
                *warnings << QStringLiteral("skipping %1: %2").arg(dir, in.error().message);
            continue;
        }
        out.append({dir, std::move(in).value()});
    }
    std::sort(out.begin(), out.end(), [](const Listed &a, const Listed &b) { return a.inspection.meta.source < b.inspection.meta.source; });
    return out;
}

Status SparseFileStore::removeEntry(const QString &directory, int lockWaitMs, const std::function<void(const QString &)> &waiting)
{
    // Shared: it waits only for a process creating or repairing the entry, not for the ones that
    // use it. They keep their open files (unlinked now) and learn of the removal at their next look
    // at the journal (refresh()).
    auto lock = ObjectLock::acquire(directory, lockWaitMs, ObjectLock::Mode::Shared, waiting);
    if (!lock)
        return lock.error();
    const QFileInfo info(directory);
    const QString doomed = info.absolutePath() + QStringLiteral("/.removing-") + info.fileName() +
                           QStringLiteral("-%1").arg(QCoreApplication::applicationPid());
    if (::rename(QFile::encodeName(directory).constData(), QFile::encodeName(doomed).constData()) != 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot remove %1: %2").arg(directory, errnoText(errno)));
    const QString cache = CacheBudget::cacheOfEntry(directory);
    const qint64 bytes = cache.isEmpty() ? 0 : CacheBudget::diskUsage(doomed);
    const bool removed = QDir(doomed).removeRecursively();
    if (auto budget = cache.isEmpty() ? nullptr : CacheBudget::forCache(cache))
        budget->account(-(bytes - CacheBudget::diskUsage(doomed)));
    if (!removed)
        return makeError(ErrorKind::LocalIo, QStringLiteral("removed the entry from the cache, but could not delete all of %1; "
                                                            "delete it by hand").arg(doomed));
    return okStatus();
}

} // namespace sparsescope
