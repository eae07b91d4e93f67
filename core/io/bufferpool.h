#pragma once
// Buffer and BufferPool: reusable page-aligned memory for bytes on their way from a source to the
// store (read blocks, chunk bodies), so that a steady transfer allocates nothing per chunk.
// Freshly allocated large blocks cost a page fault per 4 KiB on first touch (and glibc hands them
// back to the kernel on free); measured on a 1 GiB HTTP prefetch, that churn doubled the time.
//
// Thread affinity: BufferPool's methods are thread-safe. A Buffer is used by one thread at a time
// (it may move between threads); destroying it returns its memory to the pool from any thread.

#include <QByteArrayView>
#include <QtGlobal>

#include <atomic>
#include <map>
#include <mutex>
#include <vector>

namespace sparsescope {

class BufferPool;

// Call once at the start of main(), before threads start. Qt's HTTP stack reads each socket
// batch into a fresh heap block; with glibc's defaults (dynamic mmap threshold, heap trimming,
// mallopt(3)) those blocks go back to the kernel when freed and every read faults its pages in
// again: on a 1 GiB loopback download that was half of the time (80,000 page faults, 2.1 s →
// 1.1 s). Keeps blocks up to 8 MiB on the heap and up to 64 MiB of free heap untrimmed.
void tuneAllocatorForTransfers();

class Buffer {
public:
    Buffer() = default;
    Buffer(Buffer &&other) noexcept { *this = std::move(other); }
    Buffer &operator=(Buffer &&other) noexcept;
    Buffer(const Buffer &) = delete;
    Buffer &operator=(const Buffer &) = delete;
    ~Buffer() { release(); }

    bool isNull() const { return m_data == nullptr; }
    char *data() { return m_data; }
    const char *constData() const { return m_data; }
    qint64 size() const { return m_size; }         // bytes in use, <= capacity()
    qint64 capacity() const { return m_capacity; } // bytes allocated
    void resize(qint64 bytes);                      // 0 <= bytes <= capacity(); contents kept
    void append(const char *bytes, qint64 length);  // size() + length <= capacity()
    QByteArrayView view() const { return QByteArrayView(m_data, m_size); }
    void release(); // back to the pool now; the Buffer becomes null

private:
    friend class BufferPool;
    BufferPool *m_pool = nullptr;
    char *m_data = nullptr;
    qint64 m_capacity = 0;
    qint64 m_size = 0;
};

class BufferPool {
public:
    // Keeps at most idleLimitBytes of released buffers for reuse; beyond that they are freed.
    explicit BufferPool(qint64 idleLimitBytes = 32 << 20) : m_idleLimit(idleLimitBytes) {}
    ~BufferPool();
    BufferPool(const BufferPool &) = delete;
    BufferPool &operator=(const BufferPool &) = delete;

    // The process-wide pool (32 MiB idle limit), used by sources and the engine.
    static BufferPool &shared();

    // A buffer of capacity `bytes` rounded up to 4 KiB, aligned to 4 KiB, size() 0. Reuses an idle
    // buffer of that capacity when there is one. Throws std::bad_alloc like operator new.
    Buffer acquire(qint64 bytes);

    qint64 allocations() const { return m_allocations; } // buffers allocated so far (not reused)
    qint64 idleBytes() const;

private:
    friend class Buffer;
    void giveBack(char *data, qint64 capacity);

    const qint64 m_idleLimit;
    mutable std::mutex m_mutex;
    std::map<qint64, std::vector<char *>> m_idle; // by capacity
    qint64 m_idleBytes = 0;
    std::atomic<qint64> m_allocations{0};
};

} // namespace sparsescope
