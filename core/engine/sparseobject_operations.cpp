// SparseObject: operations on the whole object — pause, flush and the group commits, evict,
// verify, export — and the budget's check that an operation fits in the cache at once
// (cachebudget.h).
#include "sparseobject.h"
#include "cachebudget.h"
#include "chunkassembler.h"
#include "enginelink.h"
#include "exportwriter.h"
#include "handoff.h"
#include "iopool.h"
#include "rangeparse.h"
#include "sparsefilestore.h"

#include <QTimer>

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
    // Coverage is reported once the store has dropped the chunks (on this object's thread, before
    // the result), so that no view draws an evicted chunk as present after being told.
    auto promise = std::make_shared<QPromise<Result<qint64>>>();
    promise->start();
    QFuture<Result<qint64>> future = promise->future();
    startOnPool(ioPool(), [store = m_store, spans, link = m_link, promise, this] {
        Result<qint64> result = qint64(0);
        for (const auto &[a, b] : spans) {
            auto r = store->evict(a, b);
            if (!r) {
                result = r.error();
                break;
            }
            result = *result + *r;
        }
        link->post([this, spans, promise, result] {
            for (const auto &[a, b] : spans)
                markDirty(a, b);
            promise->addResult(result);
            promise->finish();
        });
    });
    return future;
}

QFuture<Result<VerifyReport>> SparseObject::verify()
{
    auto promise = std::make_shared<QPromise<Result<VerifyReport>>>();
    promise->start();
    QFuture<Result<VerifyReport>> future = promise->future();
    startOnPool(jobPool(), [store = m_store, link = m_link, promise, this] { // reads the whole cache: a slow job
        Result<VerifyReport> report = store->verify();
        link->post([this, promise, report] {
            markDirty(0, m_geometry.chunkCount() - 1); // after the bad chunks are gone
            promise->addResult(report);
            promise->finish();
        });
    });
    return future;
}

QFuture<Result<qint64>> SparseObject::exportTo(const QString &path, ExportMode mode)
{
    auto write = [store = m_store, path, mode, size = m_geometry.objectSize] {
        return runOnPool(jobPool(), [store, path, mode, size] { // up to the whole object: a slow job
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

void SparseObject::setPaused(bool paused)
{
    if (paused == m_paused)
        return;
    m_paused = paused;
    if (!paused) {
        dispatch();
        return;
    }
    stopRunningPrefetches();
}

bool SparseObject::stopRunningPrefetches()
{
    bool stopped = false;
    for (UpstreamRequest *r : m_requests.running())
        if (r->priority == Priority::Prefetch && !r->pausing) {
            r->pausing = true; // onRequestFinished() queues what did not arrive
            r->assembler->stop();
            m_source->cancel(r->sourceId);
            stopped = true;
        }
    return stopped;
}

ChunkBitmap SparseObject::transferringChunkMap() const
{
    ChunkBitmap out(m_geometry.chunkCount());
    for (const auto &[a, b] : m_requests.transferring())
        out.setSpan(a, b);
    return out;
}

void SparseObject::copyCoverage(qint64 first, qint64 last, CoverageLayers *layers) const
{
    const qint64 count = m_geometry.chunkCount();
    for (ChunkBitmap *b : {&layers->present, &layers->packed, &layers->inFlight, &layers->transferring, &layers->errors})
        if (b->size() != count) {
            *b = ChunkBitmap(count);
            first = 0;
            last = count - 1;
        }
    last = std::min(last, count - 1);
    if (first > last)
        return;
    m_store->copyCoverage(first, last, &layers->present, &layers->packed);
    layers->inFlight.copySpan(m_inFlight, first, last);
    layers->errors.copySpan(m_errors, first, last);
    layers->transferring.resetSpan(first, last);
    for (const auto &[a, b] : m_requests.transferring())
        if (a <= last && first <= b)
            layers->transferring.setSpan(std::max(a, first), std::min(b, last));
}

void SparseObject::scheduleCommit(bool force)
{
    const auto budget = m_store->budget();
    if (m_requests.runningInteractive() > 0 && !force && !(budget && budget->isTight())) {
        // (With the budget tight, uncommitted chunks, which it cannot evict, must not pile up.)
        // An fdatasync of the data file now would stall the user's chunk writes on the same file:
        // commit once the interactive requests are done (the chunks are readable meanwhile), or
        // after a second at the latest, so that a stalled read cannot postpone durability.
        if (!m_commitDeferred)
            QTimer::singleShot(1000, this, [this] {
                if (m_commitDeferred) {
                    m_commitDeferred = false;
                    scheduleCommit(true);
                }
            });
        m_commitDeferred = true;
        return;
    }
    if (m_commitRunning) {
        m_commitAgain = true;
        return;
    }
    m_commitRunning = true;
    startOnPool(ioPool(), [store = m_store, link = m_link, this] {
        const Status st = store->commit();
        link->post([this, st] {
            m_commitRunning = false;
            if (!st && !m_fatal) {
                m_fatal = st.error();
                Q_EMIT errorOccurred(st.error().message);
                failAll(*m_fatal); // every reader and prefetch learns why, not just "cancelled"
            }
            if (m_commitAgain && !m_fatal) {
                m_commitAgain = false;
                scheduleCommit();
            }
        });
    });
}

} // namespace sparsescope
