// ObjectLibrary: the operations on an entry (prefetch, evict, export, verify, read), how they are
// tracked for the table and the activity panel, retried after an upstream failure, cancelled and
// paused.
#include "objectlibrary.h"
#include "rangeparse.h"
#include "sparseobject.h"

namespace sparsescope {

namespace {
// What an operation on an entry whose object is not open (yet) yields.
template <typename T>
QFuture<Result<T>> notOpen()
{
    return QtFuture::makeReadyFuture(Result<T>(makeError(ErrorKind::Usage, ObjectLibrary::tr("the object is not open yet"))));
}
} // namespace

template <typename T>
QFuture<Result<T>> ObjectLibrary::track(int row, const QString &operation, const QList<ByteRange> &ranges,
                                        QFuture<Result<T>> future, std::function<void()> again,
                                        std::function<QString(const T &)> describe)
{
    LibraryEntry &e = m_entries[size_t(row)];
    e.retryAtMs = -1; // a new operation (or this retry) runs now
    e.operation = operation;
    e.operationPercent = 0;
    e.operationRanges = ranges;
    e.state = EntryState::Working;
    Q_EMIT entryChanged(row);
    SparseObject *raw = e.object.get();
    const qint64 startedMs = m_clock.elapsed();
    future.then(this, [this, raw, operation, describe, again, startedMs](Result<T> result) {
        const int r = rowOfObject(raw);
        if (r < 0)
            return;
        LibraryEntry &e = m_entries[size_t(r)];
        if (e.operation == operation) {
            e.operation.clear();
            e.operationPercent = -1;
            e.operationRanges.clear();
        }
        if (e.state == EntryState::Working)
            e.state = EntryState::Idle;
        const qint64 elapsed = m_clock.elapsed() - startedMs;
        if (result) {
            e.retry = {};
            e.retries = 0;
            Q_EMIT activity(e.name, describe(result.value()), false);
            Q_EMIT operationEnded(e.name, describe(result.value()), true, elapsed);
        } else if (result.error().kind == ErrorKind::Cancelled) {
            e.retry = {};
            Q_EMIT activity(e.name, tr("%1 cancelled").arg(operation), false);
        } else {
            e.state = result.error().kind == ErrorKind::Changed ? EntryState::ChangedUpstream : EntryState::Error;
            e.lastError = result.error().message;
            Q_EMIT activity(e.name, result.error().message, true);
            Q_EMIT operationEnded(e.name, result.error().message, false, elapsed);
            // The server may come back: try again by itself a few times, later each time.
            e.retry = again;
            if (again && result.error().kind == ErrorKind::Upstream && e.retries < kMaxRetries) {
                const qint64 wait = std::min(kMaxRetryMs, kFirstRetryMs << e.retries);
                e.retryAtMs = m_clock.elapsed() + wait; // counted down in the State column; no line of its own,
                                                        // so that an outage stays one grouped activity entry
            }
        }
        refresh();
    }).onCanceled(this, [this, raw, operation] {
        const int r = rowOfObject(raw);
        if (r < 0)
            return;
        m_entries[size_t(r)].operation.clear();
        m_entries[size_t(r)].state = EntryState::Idle;
        Q_EMIT activity(m_entries[size_t(r)].name, tr("%1 cancelled").arg(operation), false);
        Q_EMIT entryChanged(r);
    });
    return future;
}

QFuture<Result<qint64>> ObjectLibrary::prefetch(int row, const QList<ByteRange> &ranges)
{
    SparseObject *o = m_entries[size_t(row)].object.get();
    if (!o)
        return notOpen<qint64>();
    const QString source = m_entries[size_t(row)].source;
    auto again = [this, source, ranges] {
        if (const int r = rowOf(source); r >= 0)
            prefetch(r, ranges);
    };
    return track<qint64>(row, tr("Prefetching"), ranges, o->prefetch(ranges, Priority::Prefetch), again,
                         [](const qint64 &bytes) { return tr("prefetched %1").arg(formatBytes(bytes)); });
}

QFuture<Result<qint64>> ObjectLibrary::evict(int row, const QList<ByteRange> &ranges)
{
    SparseObject *o = m_entries[size_t(row)].object.get();
    if (!o)
        return notOpen<qint64>();
    return track<qint64>(row, tr("Evicting"), {}, o->evict(ranges), {},
                         [](const qint64 &bytes) { return tr("evicted %1 and freed its disk blocks").arg(formatBytes(bytes)); });
}

QFuture<Result<qint64>> ObjectLibrary::exportTo(int row, const QString &path, ExportMode mode)
{
    SparseObject *o = m_entries[size_t(row)].object.get();
    if (!o)
        return notOpen<qint64>();
    const QList<ByteRange> whole = mode == ExportMode::Full ? QList<ByteRange>{{0, o->geometry().objectSize}} : QList<ByteRange>{};
    const QString source = m_entries[size_t(row)].source;
    auto again = [this, source, path, mode] {
        if (const int r = rowOf(source); r >= 0)
            exportTo(r, path, mode);
    };
    return track<qint64>(row, tr("Exporting"), whole, o->exportTo(path, mode), again, [path, mode](const qint64 &bytes) {
        return mode == ExportMode::Sparse ? tr("exported %1 present to %2 (sparse)").arg(formatBytes(bytes), path)
                                          : tr("exported to %1").arg(path);
    });
}

QFuture<Result<VerifyReport>> ObjectLibrary::verify(int row)
{
    SparseObject *o = m_entries[size_t(row)].object.get();
    if (!o)
        return notOpen<VerifyReport>();
    return track<VerifyReport>(row, tr("Verifying"), {}, o->verify(), {}, [](const VerifyReport &r) {
        return r.badChunks.isEmpty() ? tr("verified %1 present chunks: all good").arg(r.checkedChunks)
                                     : tr("%1 of %2 chunks were damaged and dropped; they will be fetched again")
                                           .arg(r.badChunks.size()).arg(r.checkedChunks);
    });
}

QFuture<Result<QByteArray>> ObjectLibrary::read(int row, ByteRange range)
{
    SparseObject *o = m_entries[size_t(row)].object.get();
    if (!o)
        return notOpen<QByteArray>();
    return o->read(range, Priority::Interactive);
}

void ObjectLibrary::retry(int row)
{
    LibraryEntry &e = m_entries[size_t(row)];
    if (!e.retry || !e.object)
        return;
    const auto again = e.retry; // track() of the new run replaces it
    e.retryAtMs = -1;
    ++e.retries;
    e.state = EntryState::Idle;
    again();
}

qint64 ObjectLibrary::retryInSeconds(int row) const
{
    const LibraryEntry &e = m_entries[size_t(row)];
    return e.retryAtMs < 0 ? -1 : std::max<qint64>(0, (e.retryAtMs - m_clock.elapsed() + 999) / 1000);
}

void ObjectLibrary::cancel(int row)
{
    m_entries[size_t(row)].retry = {};
    m_entries[size_t(row)].retryAtMs = -1;
    if (auto &o = m_entries[size_t(row)].object)
        o->cancelAll();
}

void ObjectLibrary::setPaused(int row, bool paused)
{
    LibraryEntry &e = m_entries[size_t(row)];
    if (!e.object || e.object->isPaused() == paused)
        return;
    e.object->setPaused(paused);
    Q_EMIT activity(e.name, paused ? tr("paused") : tr("resumed"), false);
    Q_EMIT entryChanged(row);
}

} // namespace sparsescope
