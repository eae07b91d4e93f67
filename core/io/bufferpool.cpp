#include "bufferpool.h"

#include <cstdlib>
#include <malloc.h>
#include <cstring>
#include <new>

namespace sparsescope {

namespace {
constexpr qint64 kPage = 4096;
}

void tuneAllocatorForTransfers()
{
    ::mallopt(M_MMAP_THRESHOLD, 8 << 20);
    ::mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

Buffer &Buffer::operator=(Buffer &&other) noexcept
{
    if (this != &other) {
        release();
        m_pool = std::exchange(other.m_pool, nullptr);
        m_data = std::exchange(other.m_data, nullptr);
        m_capacity = std::exchange(other.m_capacity, 0);
        m_size = std::exchange(other.m_size, 0);
    }
    return *this;
}

void Buffer::resize(qint64 bytes)
{
    Q_ASSERT(bytes >= 0 && bytes <= m_capacity);
    m_size = bytes;
}

void Buffer::append(const char *bytes, qint64 length)
{
    Q_ASSERT(m_size + length <= m_capacity);
    std::memcpy(m_data + m_size, bytes, size_t(length));
    m_size += length;
}

void Buffer::release()
{
    if (m_data)
        m_pool->giveBack(m_data, m_capacity);
    m_pool = nullptr;
    m_data = nullptr;
    m_capacity = m_size = 0;
}

BufferPool::~BufferPool()
{
    for (auto &[capacity, list] : m_idle)
        for (char *p : list)
            std::free(p);
}

BufferPool &BufferPool::shared()
{
    static BufferPool *pool = new BufferPool; // lives for the process: buffers may outlive statics
    return *pool;
}

Buffer BufferPool::acquire(qint64 bytes)
{
    const qint64 capacity = std::max<qint64>(kPage, (bytes + kPage - 1) / kPage * kPage);
    Buffer b;
    b.m_pool = this;
    b.m_capacity = capacity;
    {
        std::lock_guard l(m_mutex);
        auto it = m_idle.find(capacity);
        if (it != m_idle.end() && !it->second.empty()) {
            b.m_data = it->second.back();
            it->second.pop_back();
            m_idleBytes -= capacity;
            return b;
        }
    }
    b.m_data = static_cast<char *>(std::aligned_alloc(size_t(kPage), size_t(capacity)));
    if (!b.m_data) {
        b.m_pool = nullptr;
        throw std::bad_alloc();
    }
    ++m_allocations;
    return b;
}

qint64 BufferPool::idleBytes() const
{
    std::lock_guard l(m_mutex);
    return m_idleBytes;
}

void BufferPool::giveBack(char *data, qint64 capacity)
{
    {
        std::lock_guard l(m_mutex);
        if (m_idleBytes + capacity <= m_idleLimit) {
            m_idle[capacity].push_back(data);
            m_idleBytes += capacity;
            return;
        }
    }
    std::free(data);
}

} // namespace sparsescope
