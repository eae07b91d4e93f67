#include "sparsedevice.h"
#include "handoff.h"
#include "sparseobject.h"

#include <QThread>

#include <condition_variable>
#include <mutex>

namespace sparsescope {

SparseDevice::SparseDevice(SparseObject *object)
    : m_object(object), m_size(object->geometry().objectSize), m_chunkSize(object->geometry().chunkSize),
      m_name(object->sourceInfo().displayName), m_validator(object->sourceInfo().validator),
      m_entryDirectory(object->cachePath())
{
}

void SparseDevice::setReadAheadPlan(QList<ByteRange> plan)
{
    std::sort(plan.begin(), plan.end(), [](ByteRange a, ByteRange b) { return a.begin < b.begin; });
    m_plan.clear();
    for (const ByteRange &r : std::as_const(plan)) {
        if (!m_plan.isEmpty() && r.begin <= m_plan.last().end)
            m_plan.last().end = std::max(m_plan.last().end, r.end);
        else
            m_plan.append(r);
    }
    m_planIssuedTo = 0;
}

void SparseDevice::prefetch(QList<ByteRange> ranges, std::shared_ptr<std::atomic<int>> running)
{
    if (ranges.isEmpty())
        return;
    SparseObject *object = m_object;
    if (running)
        ++*running;
    // A failed read-ahead costs nothing, the read itself reports the error.
    postTo(object, [object, ranges = std::move(ranges), running] {
        auto done = object->prefetch(ranges, Priority::Prefetch, /*readAhead=*/true);
        if (running) // done: stored, failed, or dropped with the object
            done.then(QtFuture::Launch::Sync, [running](const QFuture<Result<qint64>> &) { --*running; })
                .onCanceled([running] { --*running; });
    });
}

void SparseDevice::readAhead(ByteRange window)
{
    // The window's cap, by measurement (bench_engine 8, 1 GiB in 4 KiB reads over loopback): a
    // 16 MiB window keeps too little in flight (its 8 MiB top-ups, split over the connections,
    // leave them idle between batches: 0.4-0.7x curl), 64 MiB keeps them busy (0.8-1.9x).
    constexpr qint64 kPlanAhead = 32 << 20, kMaxWindow = 64 << 20;
    if (!m_plan.isEmpty()) {
        const qint64 horizon = std::min(m_size, window.end + kPlanAhead);
        if (horizon - m_planIssuedTo < kPlanAhead / 4)
            return; // prefetch in batches of at least 8 MiB
        QList<ByteRange> batch;
        for (const ByteRange &r : std::as_const(m_plan)) {
            const ByteRange part = r.intersected({std::max(m_planIssuedTo, window.begin), horizon});
            if (!part.isEmpty())
                batch.append(part);
        }
        m_planIssuedTo = horizon;
        prefetch(std::move(batch));
        return;
    }
    // No plan: grow a window while the reader keeps going forward from where it stopped.
    const bool sequential = m_sequentialEnd >= 0 && window.begin >= m_sequentialEnd - m_chunkSize &&
                            window.begin <= m_sequentialEnd + 2 * m_chunkSize;
    const bool contiguous = sequential && window.begin <= m_sequentialEnd; // skipped nothing
    const bool caughtUp = std::exchange(m_caughtUp, false);
    m_sequentialEnd = window.end;
    if (!sequential) {
        m_window = 0;
        m_aheadIssuedTo = window.end;
        return;
    }
    // Doubling while the read-ahead keeps ahead of the reader. A reader that reads every byte
    // and caught up with it (its last read waited for bytes) grows it eight times: a window it
    // empties within a round trip is too small for the link (doubling took eleven round trips to
    // list a 45 MB tar through 100 ms of latency; curl | tar tf: three). A reader that skips
    // (a tar listing jumping over bodies) keeps doubling, so that it fetches few of them.
    m_window = std::clamp(m_window * (caughtUp && contiguous ? 8 : 2), m_chunkSize, kMaxWindow);
    // One read-ahead request at a time, until the running one is nearly used: a reader consumes
    // its bytes in order, and two streams at once share the link (and, on loopback, the CPU), so
    // the later one fills bytes the reader needs last while it waits for the earlier one (a
    // 30,000-entry tar listing: 96 -> 87 ms). The next one goes out before the reader reaches
    // the end, so that a slow link does not idle for its round trip.
    if (m_aheadRunning->load() > 0 && m_aheadIssuedTo - window.end > std::max(m_window / 16, 4 * m_chunkSize))
        return;
    const qint64 from = std::max(m_aheadIssuedTo, window.end);
    const qint64 to = std::min(m_size, window.end + m_window);
    // Keep requests large: top up when half the window is used, or at once when the window
    // reaches the object's end (waiting for half a window there would let the link idle until
    // the reader has used every byte asked for, then make it wait for the rest).
    if (to <= from || (to - from < m_window / 2 && to < m_size))
        return;
    m_aheadIssuedTo = to;
    prefetch({ByteRange{from, to}}, m_aheadRunning);
}

std::optional<Result<QByteArray>> SparseDevice::readIfPresent(ByteRange range) const
{
    return m_object->readPresent(range);
}

Result<QByteArray> SparseDevice::fetch(ByteRange range)
{
    if (m_cancelled)
        return makeError(ErrorKind::Cancelled, QStringLiteral("%1: cancelled").arg(m_name));
    Q_ASSERT(QThread::currentThread() != m_object->thread());
    if (auto warm = m_object->readPresent(range))
        return *warm; // every chunk present: no trip through the engine's thread
    m_caughtUp = true;
    // The read is made on the object's thread; this thread waits for its result, but gives up
    // within 20 ms of cancel(), so that a thread waiting for this one (say, the GUI thread that
    // owns the object, closing a pane) can never wait for itself.
    struct Wait {
        std::mutex mutex;
        std::condition_variable done;
        bool finished = false;
        Result<QByteArray> result;
    };
    auto wait = std::make_shared<Wait>();
    SparseObject *object = m_object;
    postTo(object, [object, range, wait] {
        object->read(range, Priority::Interactive).then(QtFuture::Launch::Sync, [wait](QFuture<Result<QByteArray>> f) {
            std::lock_guard lock(wait->mutex);
            if (!f.isCanceled() && f.resultCount() > 0)
                wait->result = f.result();
            wait->finished = true;
            wait->done.notify_all();
        });
    });
    std::unique_lock lock(wait->mutex);
    while (!wait->done.wait_for(lock, std::chrono::milliseconds(20), [&] { return wait->finished; }))
        if (m_cancelled)
            return makeError(ErrorKind::Cancelled, QStringLiteral("%1: cancelled").arg(m_name));
    if (!wait->result && wait->result.error().kind == ErrorKind::Cancelled)
        return makeError(ErrorKind::Cancelled, QStringLiteral("%1: cancelled").arg(m_name));
    return std::move(wait->result);
}

Result<QByteArray> SparseDevice::read(ByteRange range)
{
    range = range.intersected({0, m_size});
    if (range.isEmpty())
        return QByteArray();
    if (m_cached.contains(range))
        return m_cache.mid(range.begin - m_cached.begin, range.length());
    // Widen to whole chunks: they are fetched whole anyway.
    const ByteRange window{range.begin / m_chunkSize * m_chunkSize,
                           std::min(m_size, (range.end + m_chunkSize - 1) / m_chunkSize * m_chunkSize)};
    readAhead(window);
    auto bytes = fetch(window);
    if (!bytes)
        return bytes;
    m_cached = window;
    m_cache = std::move(bytes).value();
    return m_cache.mid(range.begin - window.begin, range.length());
}

Result<QByteArray> SparseDevice::readSome(qint64 offset, qint64 maxBytes)
{
    if (offset >= m_size || maxBytes <= 0)
        return QByteArray();
    const qint64 chunkEnd = std::min(m_size, (offset / m_chunkSize + 1) * m_chunkSize);
    return read({offset, std::min(chunkEnd, offset + maxBytes)});
}

} // namespace sparsescope
