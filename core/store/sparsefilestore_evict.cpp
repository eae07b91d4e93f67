// SparseFileStore: dropping chunks — evictions asked for by a user (evict), by the budget
// (evictUnclaimed, freeOrphanBlocks: cachebudget.h) and by verify.
#include "sparsefilestore.h"
#include "cachebudget.h"
#include "fileutil.h"
#include "journal.h"
#include "packstore.h"

#include <xxhash.h>

#include <cerrno>
#include <mutex>
#include <shared_mutex>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sparsescope {

Result<qint64> SparseFileStore::evict(qint64 first, qint64 last)
{
    last = std::min(last, geometry().chunkCount() - 1);
    if (first > last)
        return qint64(0);
    // Other processes' fetches of these chunks finish first (their claims), and what they stored
    // is learnt, so that it is dropped too and no fetch writes into a punched range.
    QList<std::pair<qint64, qint64>> ownClaims;
    if (m_shared) {
        {
            QMutexLocker c(&m_claimMutex);
            ownClaims = m_claimed.setRuns(first, last);
        }
        if (Status st = m_claims.claimWaiting(first, last); !st)
            return st.error();
        if (auto r = refresh(); !r) {
            m_claims.release(first, last);
            return r.error();
        }
    }
    QList<qint64> unpending;
    Result<qint64> result = dropClaimed(first, last, &unpending);
    if (m_shared) {
        // Give back the span, except the claims of this store's own fetches still under way.
        QMutexLocker c(&m_claimMutex);
        for (const auto &[a, b] : gapsBetween(first, last, ownClaims))
            m_claims.release(a, b);
        for (qint64 chunk : std::as_const(unpending)) // written, now dropped: never committed
            releaseClaimsLocked(chunk, chunk);
    }
    return result;
}

Result<qint64> SparseFileStore::dropClaimed(qint64 first, qint64 last, QList<qint64> *unpending, qint64 *chunks)
{
    Result<qint64> result = qint64(0);
    QMutexLocker j(&m_journalMutex);
    std::unique_lock d(m_dataLock);
    QList<std::pair<qint64, qint64>> runs;
    qint64 dropped = 0, looseDropped = 0;
    {
        std::unique_lock l(m_stateLock);
        runs = m_present.setRuns(first, last);
        for (const auto &[a, b] : runs) {
            dropped += m_geometry.chunkSpan(a, b).length();
            for (const auto &[x, y] : gapsBetween(a, b, m_packed.setRuns(a, b)))
                looseDropped += m_geometry.chunkSpan(x, y).length();
            if (chunks)
                *chunks += b - a + 1;
        }
        m_present.resetSpan(first, last);
        m_packed.resetSpan(first, last); // their contents stay in the packs until repack
        for (const Pending &p : m_pending)
            if (p.chunk >= first && p.chunk <= last)
                unpending->append(p.chunk);
        std::erase_if(m_pending, [&](const Pending &p) { return p.chunk >= first && p.chunk <= last; });
    }
    if (!runs.isEmpty()) {
        noteDrop(first, last); // reads of these chunks under way here retry
        // Record first: once the Evict record is durable, a crash can no longer resurrect the chunks.
        if (Status st = appendRecords(journal::encode({JournalRecord::Evict, quint64(first), quint64(last - first + 1), m_writer})); !st)
            result = st.error();
        else
            m_claims.addDrop(); // durable record first, then the counter, then the punch
        for (const auto &[a, b] : runs)
            if (Status st = punchHoles(a, b); !st && result)
                result = st.error();
        if (m_budget)
            m_budget->account(-blockRounded(looseDropped));
    }
    if (result)
        result = dropped;
    return result;
}

Result<VerifyReport> SparseFileStore::verify()
{
    VerifyReport report;
    if (auto p = packs())
        p->forget(); // decompressed frames cached in memory are not what is on disk
    const ChunkBitmap snapshot = presentChunks();
    QByteArray buf;
    for (qint64 i = snapshot.nextSet(0); i < snapshot.size(); i = snapshot.nextSet(i + 1)) {
        const ByteRange r = m_geometry.chunkRange(i);
        buf.resize(r.length());
        bool good = false, gone = false;
        bool dropped = false;
        for (int attempt = 0; attempt < 3 && !good && !gone; ++attempt) {
            catchUpWithDrops(); // evicted or packed by another process?
            const quint64 drops = m_dropSeq.load();
            quint64 expected = 0;
            ReadPlan plan;
            {
                std::shared_lock l(m_stateLock);
                if (!m_present.test(i)) {
                    gone = true; // evicted meanwhile
                    break;
                }
                expected = m_checksums.get(i);
                plan = planReadLocked(r);
            }
            // A packed chunk is read from its pack, every frame decompressed and checked.
            const Status st = readPlanned(plan, r, buf.data());
            catchUpWithDrops();
            dropped = droppedSince(drops, i, i); // what was read may not be what is there now
            if (!st && st.error().kind == ErrorKind::LocalIo && !dropped)
                return st.error();
            good = st && XXH3_64bits(buf.constData(), size_t(buf.size())) == expected;
        }
        if (gone || (!good && (dropped || !isPresent(i))))
            continue;
        ++report.checkedChunks;
        if (!good) {
            report.badChunks.append(i);
            bool packedChunk = false;
            {
                std::shared_lock l(m_stateLock);
                packedChunk = m_packed.test(i);
            }
            if (auto p = packedChunk ? packs() : nullptr)
                if (auto where = p->locate(m_objectId, i))
                    (void)p->markBad(where->hash); // never deduplicated onto again
            auto ev = evict(i, i);
            if (!ev)
                return ev.error();
        }
    }
    return report;
}

Result<SparseFileStore::Dropped> SparseFileStore::evictUnclaimed(qint64 first, qint64 last)
{
    last = std::min(last, geometry().chunkCount() - 1);
    Dropped out;
    if (first > last)
        return out;
    // Chunks of this store's own fetches are left alone, and so is every chunk another store or
    // process has claimed (a fetch or an uncommitted write) or pinned (a read or an export).
    auto claimed = claimUnclaimed({{first, last}}, /*unpinnedOnly=*/true);
    if (!claimed)
        return claimed.error();
    const Runs runs = std::move(claimed).value();
    Status st = okStatus();
    if (m_shared && !runs.isEmpty())
        if (auto r = refresh(); !r) // what others stored or dropped meanwhile
            st = r.error();
    for (const auto &[a, b] : std::as_const(runs)) {
        if (!st)
            break;
        QList<qint64> unpending; // stays empty: uncommitted chunks are claimed by their writer
        {
            std::shared_lock l(m_stateLock);
            out.packedChunks += m_packed.countInSpan(a, b);
        }
        auto dropped = dropClaimed(a, b, &unpending, &out.chunks);
        if (!dropped)
            st = dropped.error();
        else
            out.bytes += *dropped;
    }
    if (m_shared)
        for (const auto &[a, b] : std::as_const(runs))
            m_claims.release(a, b);
    if (!st)
        return st.error();
    return out;
}

Result<qint64> SparseFileStore::freeOrphanBlocks()
{
    const ChunkGeometry g = geometry();
    if (g.objectSize == 0)
        return qint64(0);
    // The allocated extents first (SEEK_DATA/SEEK_HOLE), without locks.
    QList<std::pair<qint64, qint64>> allocatedChunks;
    for (off_t at = 0; at < off_t(g.objectSize);) {
        const off_t data = ::lseek(m_dataFd, at, SEEK_DATA);
        if (data < 0)
            break; // ENXIO: no data after `at`
        off_t hole = ::lseek(m_dataFd, data, SEEK_HOLE);
        if (hole < 0)
            hole = off_t(g.objectSize);
        const auto [a, b] = g.chunksTouching(ByteRange{qint64(data), std::min<qint64>(hole, g.objectSize)});
        if (a <= b)
            allocatedChunks.append({a, b});
        at = hole;
    }
    const qint64 before = allocatedBytesOf(m_dataFd);
    for (const auto &[a, b] : std::as_const(allocatedChunks)) {
        for (const auto &[x, y] : gapsBetween(a, b, presentRuns(a, b))) {
            QList<std::pair<qint64, qint64>> own;
            {
                QMutexLocker c(&m_claimMutex);
                own = m_claimed.setRuns(x, y);
            }
            for (const auto &[p, q] : gapsBetween(x, y, own)) {
                auto got = m_shared ? m_claims.tryClaim(p, q) : Result<QList<std::pair<qint64, qint64>>>(QList<std::pair<qint64, qint64>>{{p, q}});
                if (!got)
                    return got.error();
                if (m_shared && !got->isEmpty())
                    (void)refresh(); // a chunk stored meanwhile is present now: keep it
                for (const auto &[c, d] : std::as_const(*got)) {
                    {
                        std::unique_lock dl(m_dataLock);
                        QList<std::pair<qint64, qint64>> holes;
                        {
                            std::shared_lock l(m_stateLock);
                            holes = gapsBetween(c, d, m_present.setRuns(c, d));
                        }
                        for (const auto &[h0, h1] : std::as_const(holes))
                            (void)punchHoles(h0, h1);
                    }
                    if (m_shared)
                        m_claims.release(c, d);
                }
            }
        }
    }
    const qint64 freed = std::max<qint64>(0, before - allocatedBytesOf(m_dataFd));
    if (m_budget && freed > 0)
        m_budget->account(-freed);
    return freed;
}

} // namespace sparsescope
