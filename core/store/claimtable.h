#pragma once
// ClaimTable: which process fetches which chunk of a cache entry, when many processes have it
// open. A claim on chunks [first, last] is an open-file-description write lock (F_OFD_SETLK,
// fcntl(2), "Open file description locks") on bytes [first, last + 1) of the entry's `claims`
// file, which holds no data. The kernel releases a claim when its holder closes the file or dies,
// so a process killed mid-fetch never leaves a chunk claimed forever, and another process takes
// the chunk over. Locks of one open file description never conflict with each other: each
// ChunkStore has its own, so two stores of one entry in one process exclude each other too.
//
// Rules (see SparseFileStore): a chunk is fetched only by the holder of its claim; the claim is
// released after the chunk's Present record is durable (or when the fetch failed); evictions
// and resets claim the chunks they drop, waiting for fetches under way to finish.
//
// Thread affinity: any thread; the kernel serializes. Non-blocking calls never wait for I/O.

#include "result.h"

#include <QList>
#include <QString>

#include <atomic>
#include <utility>

namespace sparsescope {

class ClaimTable {
public:
    ClaimTable() = default;
    ClaimTable(const ClaimTable &) = delete;
    ClaimTable &operator=(const ClaimTable &) = delete;
    ~ClaimTable(); // releases every claim (closing the file)

    // Opens (creating) `<directory>/claims`. Errors: LocalIo.
    Status open(const QString &directory);
    bool isOpen() const { return m_fd >= 0; }

    // Claims what it can of [first, last] without waiting; returns the runs now claimed by this
    // table (possibly none: every chunk is claimed by another process). Errors: LocalIo.
    Result<QList<std::pair<qint64, qint64>>> tryClaim(qint64 first, qint64 last);
    // Claims all of [first, last], waiting for other holders (for evictions and resets).
    Status claimWaiting(qint64 first, qint64 last);
    // Releases [first, last] (what this table does not hold is ignored).
    void release(qint64 first, qint64 last);
    // A counter every process of the entry shares (the first 8 bytes of the claims file, mapped
    // MAP_SHARED; mmap(2)): an eviction or reset adds one after its journal record is durable and
    // before it drops any byte. A reader that sees it unchanged across its pread(2), and equal to
    // what it last caught up with, read no dropped byte. Lock-free; any thread.
    quint64 drops() const;
    void addDrop();

    // Pins: a chunk that a read or export of some process still needs is *pinned*: a
    // shared lock (F_RDLCK) on byte kPinBase + chunk of the claims file. The budget's evictor
    // leaves pinned chunks alone (unpinnedRuns). Pins of one table do not stack (the kernel merges
    // overlapping locks of one open file description): the caller counts (SparseFileStore does).
    static constexpr qint64 kPinBase = qint64(1) << 61; // past every claim, even a reset's (0 .. 2^60)
    bool pin(qint64 first, qint64 last);
    void unpin(qint64 first, qint64 last);
    // The runs of [first, last] that no other open file description pins (F_OFD_GETLK), in order.
    // Pins taken after this call are not seen: an eviction racing a new pin costs that reader a
    // fetch again ("evicted meanwhile"), never a wrong byte. Errors: LocalIo.
    Result<QList<std::pair<qint64, qint64>>> unpinnedRuns(qint64 first, qint64 last) const;

private:
    bool lock(qint64 first, qint64 last, short type, bool wait);
    std::atomic<quint64> *counter() const;
    int m_fd = -1;
    void *m_map = nullptr; // one page of the claims file
    QString m_path;
};

} // namespace sparsescope
