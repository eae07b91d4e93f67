#pragma once
// AccessTimes: when each chunk of a cache entry was last used, for the budget's least-recently-
// used eviction (cachebudget.h). `<entry>/access` holds one little-endian u32 per chunk: the
// cache-wide access tick (CacheBudget::nextTick()) of the chunk's last write or read, 0 for
// never. The file is mapped shared (mmap(2), MAP_SHARED), so every process of the entry stamps
// the same table with plain stores, no system call; the kernel writes it back, so it survives
// restarts and crashes of the process (a power loss may lose the last stamps: they are coarse
// hints, never coverage). Opening maps the file, it reads nothing: 1 Mi chunks open at once.
//
// Thread affinity: any thread; stamps are relaxed atomic stores (a stamp lost to a race is
// harmless). Not copyable.

#include "result.h"

#include <QString>

#include <atomic>
#include <vector>

namespace sparsescope {

class AccessTimes {
public:
    AccessTimes() = default;
    AccessTimes(const AccessTimes &) = delete;
    AccessTimes &operator=(const AccessTimes &) = delete;
    ~AccessTimes();

    // Opens (creating, or growing to fit) `<directory>/access` for `chunkCount` chunks and maps
    // it. Errors: LocalIo.
    Status open(const QString &directory, qint64 chunkCount);
    // Drops every stamp and fits the table to `chunkCount` (the entry was reset).
    Status reset(qint64 chunkCount);
    bool isOpen() const { return m_map != nullptr; }

    // Stamps chunks [first, last] with `tick` (skipping chunks already at `tick`, so repeated
    // reads do not dirty pages).
    void stamp(qint64 first, qint64 last, quint32 tick);
    quint32 at(qint64 chunk) const;

    // (I/O) The stamps of an entry without mapping it for writing (the evictor): `chunkCount`
    // values, zeros where the file is missing or short.
    static std::vector<quint32> read(const QString &directory, qint64 chunkCount);

private:
    Status map(qint64 chunkCount);
    void unmap();
    std::atomic<quint32> *slots() const { return static_cast<std::atomic<quint32> *>(m_map); }
    int m_fd = -1;
    void *m_map = nullptr;
    qint64 m_mapBytes = 0;
    qint64 m_count = 0;
    QString m_path;
};

} // namespace sparsescope
