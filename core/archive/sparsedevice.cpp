#include "sparsedevice.h"
#include "handoff.h"
#include "sparseobject.h"

#include <QThread>

namespace sparsescope {

SparseDevice::SparseDevice(SparseObject *object)
    : m_object(object), m_size(object->geometry().objectSize), m_chunkSize(object->geometry().chunkSize),
      m_name(object->sourceInfo().displayName)
{
}

Result<QByteArray> SparseDevice::fetch(ByteRange range)
{
    if (m_cancelled)
        return makeError(ErrorKind::Cancelled, QStringLiteral("%1: cancelled").arg(m_name));
    Q_ASSERT(QThread::currentThread() != m_object->thread());
    if (auto warm = m_object->readPresent(range))
        return *warm; // every chunk present: no trip through the engine's thread
    QFuture<Result<QByteArray>> future;
    runBlockingOn(m_object, [&] { future = m_object->read(range, Priority::Interactive); });
    future.waitForFinished();
    if (future.isCanceled() || future.resultCount() == 0)
        return makeError(ErrorKind::Cancelled, QStringLiteral("%1: cancelled").arg(m_name));
    return future.result();
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
