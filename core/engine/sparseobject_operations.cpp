// SparseObject: operations on the whole object — flush, evict, verify, export — and the budget's
// check that an operation fits in the cache at once (cachebudget.h).
#include "sparseobject.h"
#include "cachebudget.h"
#include "exportwriter.h"
#include "handoff.h"
#include "iopool.h"
#include "rangeparse.h"
#include "sparsefilestore.h"

namespace sparsescope {

Status SparseObject::checkFits(qint64 bytes, const QString &what) const
{
    const auto budget = m_store->budget();
    const std::optional<qint64> room = budget ? budget->roomForOneOperation() : std::nullopt;
    if (!room || bytes <= *room)
        return okStatus();
    const CacheSettings s = budget->settings();
    return makeError(ErrorKind::LocalIo,
                     QStringLiteral("%1 %2: needs %3 in the cache at once, but the cache's budget leaves room for %4 (max-size %5, "
                                    "min-free-space %6); nothing was fetched. Raise it (sparsescope-cli config max-size SIZE) "
                                    "or ask for less at once")
                         .arg(m_info.displayName, what, formatBytes(bytes), formatBytes(*room),
                              s.maxSize ? formatBytes(*s.maxSize) : QStringLiteral("none"), formatBytes(s.minFreeSpace)));
}

QFuture<Status> SparseObject::flush()
{
    return runOnPool(ioPool(), [store = m_store] { return store->commit(); });
}

QFuture<Result<qint64>> SparseObject::evict(const QList<ByteRange> &ranges)
{
    QList<std::pair<qint64, qint64>> spans;
    for (const ByteRange &r : ranges) {
        if (auto checked = checkRange(r); !checked)
            return QtFuture::makeReadyFuture(Result<qint64>(checked.error()));
        const auto [a, b] = m_geometry.chunksTouching(r);
        spans += m_inFlight.clearRuns(a, b); // chunks in flight are left alone
    }
    for (const auto &[a, b] : spans)
        markDirty(a, b);
    return runOnPool(ioPool(), [store = m_store, spans]() -> Result<qint64> {
        qint64 dropped = 0;
        for (const auto &[a, b] : spans) {
            auto r = store->evict(a, b);
            if (!r)
                return r.error();
            dropped += *r;
        }
        return dropped;
    });
}

QFuture<Result<VerifyReport>> SparseObject::verify()
{
    markDirty(0, m_geometry.chunkCount() - 1);
    return runOnPool(ioPool(), [store = m_store] { return store->verify(); });
}

QFuture<Result<qint64>> SparseObject::exportTo(const QString &path, ExportMode mode)
{
    auto write = [store = m_store, path, mode, size = m_geometry.objectSize] {
        return runOnPool(ioPool(), [store, path, mode, size] {
            return writeExport(*store, path, size, mode == ExportMode::Full);
        });
    };
    if (mode == ExportMode::Sparse || m_geometry.objectSize == 0)
        return write();
    // Every chunk is pinned from the first fetch to the last byte copied: the budget must not
    // evict what the export fetched before it is written out.
    const qint64 last = m_geometry.chunkCount() - 1;
    auto promise = std::make_shared<QPromise<Result<qint64>>>();
    promise->start();
    QFuture<Result<qint64>> future = promise->future();
    QFuture<Result<qint64>> fetching = prefetch({ByteRange{0, m_geometry.objectSize}}, Priority::Prefetch);
    if (fetching.isFinished() && !fetching.result())
        return fetching; // does not fit, or the object failed before
    m_store->pin(0, last);
    fetching.then(this, [promise, write, store = m_store, last](Result<qint64> fetched) {
            if (!fetched) {
                store->unpin(0, last);
                promise->addResult(fetched.error());
                promise->finish();
                return;
            }
            write().then([promise, store, last](Result<qint64> written) {
                store->unpin(0, last);
                promise->addResult(written);
                promise->finish();
            });
        });
    return future;
}

} // namespace sparsescope
