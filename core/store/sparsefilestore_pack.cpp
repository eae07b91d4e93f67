// SparseFileStore and the cache's packs (packstore.h): reading present bytes, loose or packed, and
// moving loose chunks into the packs (pack).
#include "sparsefilestore.h"
#include "cachebudget.h"
#include "fileutil.h"
#include "journal.h"
#include "packstore.h"
#include "packwriter.h"

#include <QDir>
#include <QFileInfo>

#include <limits>
#include <mutex>
#include <shared_mutex>
#include <xxhash.h>

namespace sparsescope {


std::shared_ptr<PackStore> SparseFileStore::packs() const
{
    QMutexLocker l(&m_packsMutex);
    if (!m_packs) {
        const QString cache = CacheBudget::cacheOfEntry(m_dir);
        if (!cache.isEmpty())
            m_packs = PackStore::forCache(cache);
    }
    return m_packs;
}

ChunkBitmap SparseFileStore::packedChunks() const
{
    std::shared_lock l(m_stateLock);
    return m_packed;
}

SparseFileStore::ReadPlan SparseFileStore::planReadLocked(ByteRange range) const
{
    ReadPlan plan;
    const auto [first, last] = m_geometry.chunksTouching(range);
    for (qint64 c = first; c <= last;) {
        const bool packed = m_packed.test(c);
        const qint64 runEnd = std::min(last + 1, packed ? m_packed.nextClear(c) : m_packed.nextSet(c));
        if (!packed)
            plan.append({m_geometry.chunkSpan(c, runEnd - 1).intersected(range)});
        else
            for (qint64 k = c; k < runEnd; ++k) {
                const ByteRange piece = m_geometry.chunkRange(k).intersected(range);
                plan.append({piece, k, m_checksums.get(k), piece.begin - m_geometry.chunkRange(k).begin});
            }
        c = runEnd;
    }
    return plan;
}

Status SparseFileStore::readPlanned(const ReadPlan &plan, ByteRange range, char *out) const
{
    for (const ReadPiece &p : plan) {
        char *to = out + (p.range.begin - range.begin);
        const Status st = p.packedChunk < 0
            ? preadAll(m_dataFd, to, p.range.length(), p.range.begin, QStringLiteral("the cache of %1").arg(m_meta.source))
            : readPacked(p.packedChunk, p.checksum, p.offsetInChunk, to, p.range.length());
        if (!st)
            return st;
    }
    return okStatus();
}

qint64 SparseFileStore::packedBytes() const
{
    std::shared_lock l(m_stateLock);
    return bytesIn(m_packed, m_geometry);
}

Status SparseFileStore::readPacked(qint64 chunk, quint64 checksum, qint64 offset, char *out, qint64 length) const
{
    auto store = packs();
    Status st = store ? store->read(m_objectId, chunk, checksum, offset, out, length)
                      : Status(makeError(ErrorKind::Integrity, QStringLiteral("the entry is not in a cache directory with packs")));
    if (!st) { // which object and bytes, for people
        const qint64 begin = m_geometry.chunkRange(chunk).begin + offset;
        return makeError(st.error().kind, QStringLiteral("%1, bytes %2 (packed): %3")
                                              .arg(m_meta.source, ByteRange{begin, begin + length}.toInclusiveString(), st.error().message));
    }
    return st;
}

Result<SparseFileStore::PackResult> SparseFileStore::packInto(PackWriter &writer, const std::function<bool(qint64)> &progress)
{
    return packRange(writer, 0, std::numeric_limits<qint64>::max(), progress);
}

Result<SparseFileStore::PackResult> SparseFileStore::packRange(PackWriter &writer, qint64 first, qint64 last,
                                                               const std::function<bool(qint64)> &progress)
{
    constexpr qint64 kBatchBytes = 16 << 20; // per commit: one fdatasync of the pack, one index commit
    PackResult result;
    if (m_shared)
        if (auto r = refresh(); !r)
            return r.error();
    const ChunkGeometry g = geometry();
    const qint64 batchChunks = std::max<qint64>(1, kBatchBytes / g.chunkSize);
    QList<std::pair<qint64, qint64>> loose;
    last = std::min(last, g.chunkCount() - 1);
    if (first > last)
        return result;
    {
        std::shared_lock l(m_stateLock);
        for (const auto &[a, b] : m_present.setRuns(first, last))
            loose += gapsBetween(a, b, m_packed.setRuns(a, b));
    }
    // Batches of up to batchChunks loose chunks.
    QList<Runs> batches(1);
    qint64 inBatch = 0;
    for (auto [a, b] : std::as_const(loose)) {
        while (a <= b) {
            const qint64 take = std::min(b - a + 1, batchChunks - inBatch);
            batches.last().append({a, a + take - 1});
            inBatch += take;
            a += take;
            if (inBatch == batchChunks) {
                batches.append(Runs());
                inBatch = 0;
            }
        }
    }
    const QString object = m_objectId;
    QByteArray buf;
    for (const auto &batch : std::as_const(batches)) {
        // 1. Claim (skipping chunks being fetched or written, here or elsewhere).
        auto claimedRuns = claimUnclaimed(batch, /*unpinnedOnly=*/false, &result.skipped);
        if (!claimedRuns)
            return claimedRuns.error();
        const Runs claimed = std::move(claimedRuns).value();
        auto release = [&] {
            if (m_shared)
                for (const auto &[p, q] : std::as_const(claimed))
                    m_claims.release(p, q);
        };
        if (m_shared && !claimed.isEmpty())
            if (auto r = refresh(); !r) { // what others stored, dropped or packed meanwhile
                release();
                return r.error();
            }
        // 2. Stage every chunk still loose and intact.
        QList<qint64> staged;
        qint64 bytes = 0, stored = 0;
        for (const auto &[a, b] : std::as_const(claimed)) {
            for (qint64 c = a; c <= b; ++c) {
                const ByteRange r = g.chunkRange(c);
                buf.resize(r.length());
                quint64 checksum = 0;
                {
                    std::shared_lock l(m_stateLock);
                    if (!m_present.test(c) || m_packed.test(c))
                        continue;
                    checksum = m_checksums.get(c);
                }
                // Claimed: nobody drops or rewrites the chunk while it is read (without the lock).
                if (Status st = preadAll(m_dataFd, buf.data(), r.length(), r.begin, QStringLiteral("the cache of %1").arg(m_meta.source)); !st) {
                    release();
                    return st.error();
                }
                if (XXH3_64bits(buf.constData(), size_t(buf.size())) != checksum)
                    continue; // damaged: left loose for verify to find, never packed
                auto added = writer.add(object, c, buf);
                if (!added) {
                    release();
                    return added.error();
                }
                stored += *added;
                bytes += r.length();
                staged.append(c);
            }
        }
        // 3. The pack and its index durable, then the Packed records, then the punch.
        Status st = writer.commit();
        if (st && !staged.isEmpty()) {
            QMutexLocker j(&m_journalMutex);
            std::unique_lock d(m_dataLock);
            QByteArray records;
            {
                std::shared_lock l(m_stateLock);
                for (qint64 c : std::as_const(staged))
                    records += journal::encode({JournalRecord::Packed, quint64(c), m_checksums.get(c), m_writer});
            }
            st = appendRecords(records);
            if (st) {
                {
                    std::unique_lock l(m_stateLock); // readers in this process now go to the packs
                    for (qint64 c : std::as_const(staged))
                        m_packed.set(c);
                }
                if (m_shared)
                    m_claims.addDrop(); // others' reads of the loose bytes under way retry
                qint64 freed = 0;
                for (qsizetype i = 0; i < staged.size() && st;) {
                    qsizetype j = i;
                    while (j + 1 < staged.size() && staged[j + 1] == staged[j] + 1)
                        ++j;
                    noteDrop(staged[i], staged[j]); // and so do reads here
                    st = punchHoles(staged[i], staged[j]);
                    freed += g.chunkSpan(staged[i], staged[j]).length();
                    i = j + 1;
                }
                if (m_budget)
                    m_budget->account(-blockRounded(freed));
            }
        }
        release();
        if (!st)
            return st.error();
        result.chunks += staged.size();
        result.bytes += bytes;
        result.storedBytes += stored;
        if (progress && !progress(result.bytes))
            return makeError(ErrorKind::Cancelled, QStringLiteral("packing %1 was cancelled after %2 chunks").arg(m_meta.source).arg(result.chunks));
    }
    return result;
}

} // namespace sparsescope
