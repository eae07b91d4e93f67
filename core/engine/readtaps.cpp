#include "readtaps.h"

namespace sparsescope {

void ReadTaps::want(qint64 chunk, qint64 chunkBegin, quint64 waiter, ByteRange range)
{
    QMutexLocker l(&m_mutex);
    QList<Want> &wants = m_wants[chunk];
    wants.removeIf([waiter](const Want &w) { return w.waiter == waiter; });
    wants.append(Want{waiter, range.begin - chunkBegin, range.length()});
    m_count.store(m_wants.size(), std::memory_order_release);
}

void ReadTaps::drop(qint64 chunk, quint64 waiter)
{
    if (m_count.load(std::memory_order_acquire) == 0)
        return;
    QMutexLocker l(&m_mutex);
    auto it = m_wants.find(chunk);
    if (it == m_wants.end())
        return;
    it->removeIf([waiter](const Want &w) { return w.waiter == waiter; });
    if (it->isEmpty())
        m_wants.erase(it);
    m_count.store(m_wants.size(), std::memory_order_release);
}

QList<ReadTaps::Tapped> ReadTaps::take(qint64 chunk, QByteArrayView chunkBytes)
{
    if (m_count.load(std::memory_order_acquire) == 0)
        return {};
    QList<Want> wants;
    {
        QMutexLocker l(&m_mutex);
        wants = m_wants.take(chunk);
        m_count.store(m_wants.size(), std::memory_order_release);
    }
    QList<Tapped> out;
    for (const Want &w : std::as_const(wants))
        if (w.offset >= 0 && w.length >= 0 && w.offset + w.length <= chunkBytes.size())
            out.append(Tapped{w.waiter, chunkBytes.sliced(w.offset, w.length).toByteArray()});
    return out;
}

} // namespace sparsescope
