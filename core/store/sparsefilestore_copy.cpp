// SparseFileStore: present bytes read (read) or copied out into another file (export, in the
// kernel where it can: copy_file_range(2)), planned under the state lock, done without it, and
// checked afterwards against drops made meanwhile, here or by other processes.
#include "sparsefilestore.h"
#include "fileutil.h"

#include <cerrno>
#include <fcntl.h>
#include <linux/falloc.h>
#include <mutex>
#include <shared_mutex>
#include <unistd.h>

namespace sparsescope {

Result<QByteArray> SparseFileStore::read(ByteRange range, bool stampAccess) const
{
    QByteArray out(range.length(), Qt::Uninitialized);
    auto *self = const_cast<SparseFileStore *>(this); // refresh() only catches up with the journal
    for (int attempt = 0;; ++attempt) {
        self->catchUpWithDrops(); // an eviction elsewhere before this read: learn it first
        const quint64 drops = m_dropSeq.load();
        const quint64 shared = m_claims.drops();
        qint64 first = 0, last = -1;
        ReadPlan plan;
        {
            std::shared_lock l(m_stateLock);
            std::tie(first, last) = m_geometry.chunksTouching(range);
            if (range.isEmpty())
                return QByteArray();
            if (range.end > m_geometry.objectSize || m_present.countInSpan(first, last) != last - first + 1)
                return makeError(ErrorKind::Integrity, QStringLiteral("bytes %1 of %2 are not all present in the cache")
                                                           .arg(range.toInclusiveString(), m_meta.source));
            plan = planReadLocked(range);
        }
        const Status st = readPlanned(plan, range, out.data()); // no lock held: writers and the GUI go on
        // A drop here or elsewhere is counted (after its record is durable) before its bytes go: if
        // none touched these chunks during the read, none of the bytes just read was a hole.
        if (m_claims.drops() != shared)
            (void)self->refresh();
        const bool dropped = self->droppedSince(drops, first, last);
        if (!st && !dropped)
            return st.error();
        if (!dropped) {
            if (stampAccess)
                stamp(first, last);
            return out;
        }
        if (attempt >= 3 || countPresent(first, last) != last - first + 1)
            return makeError(ErrorKind::Integrity, QStringLiteral("bytes %1 of %2 kept being evicted while being read; try again")
                                                       .arg(range.toInclusiveString(), m_meta.source));
        // Still present: moved into the packs meanwhile. Read again from where they are now.
    }
}

Status SparseFileStore::copyPresentTo(int fd, ByteRange range, bool requireAll) const
{
    constexpr qint64 kBlock = 64 << 20;
    const ChunkGeometry g = geometry();
    const qint64 blockChunks = std::max<qint64>(1, kBlock / g.chunkSize);
    const auto [first, last] = g.chunksTouching(range);
    auto *self = const_cast<SparseFileStore *>(this); // refresh() only catches up with the journal
    for (qint64 b = first; b <= last; b += blockChunks) {
        const qint64 e = std::min(last, b + blockChunks - 1);
        for (int attempt = 0;; ++attempt) {
            self->catchUpWithDrops();
            const quint64 drops = m_dropSeq.load();
            const quint64 shared = m_claims.drops();
            ReadPlan plan;
            {
                std::shared_lock l(m_stateLock);
                if (requireAll && m_present.countInSpan(b, e) != e - b + 1)
                    return makeError(ErrorKind::Integrity, QStringLiteral("bytes %1 of %2 were evicted before they could be exported")
                                                               .arg(g.chunkSpan(b, e).toInclusiveString(), m_meta.source));
                for (const auto &[x, y] : m_present.setRuns(b, e))
                    plan += planReadLocked(g.chunkSpan(x, y).intersected(range));
            }
            const Status copied = copyPlanned(fd, plan); // no lock held: up to 64 MiB of I/O
            if (m_claims.drops() != shared)
                (void)self->refresh();
            const bool dropped = self->droppedSince(drops, b, e);
            if (!copied && !dropped)
                return copied;
            if (!dropped) {
                stamp(b, e);
                break;
            }
            // Evicted or packed meanwhile (here or by another process): what was copied may hold
            // holes. Copy the block again over a clean target (a few times; then say so).
            if (attempt >= 3)
                return makeError(ErrorKind::Integrity, QStringLiteral("bytes %1 of %2 kept being evicted during the "
                                                                      "export; try again when it is done")
                                                           .arg(g.chunkSpan(b, e).toInclusiveString(), m_meta.source));
            const ByteRange block = g.chunkSpan(b, e).intersected(range);
            (void)::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, block.begin, block.length());
        }
    }
    return okStatus();
}

Status SparseFileStore::copyPlanned(int fd, const ReadPlan &plan) const
{
    QByteArray buf;
    for (const ReadPiece &p : plan) {
        if (p.packedChunk < 0) {
            if (Status st = copyRun(fd, p.range); !st)
                return st;
            continue;
        }
        buf.resize(p.range.length());
        if (Status st = readPacked(p.packedChunk, p.checksum, p.offsetInChunk, buf.data(), p.range.length()); !st)
            return st;
        if (Status st = pwriteAll(fd, buf.constData(), p.range.length(), p.range.begin, QStringLiteral("the export file")); !st)
            return st;
    }
    return okStatus();
}

Status SparseFileStore::copyRun(int fd, ByteRange span) const
{
    QByteArray buf;
    qint64 off = span.begin;
    while (off < span.end) {
        // copy_file_range(2) stays in the kernel; fall back to pread/pwrite across filesystems.
        loff_t in = off, out = off;
        const ssize_t n = ::copy_file_range(m_dataFd, &in, fd, &out, size_t(span.end - off), 0);
        if (n > 0) {
            off += n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            return makeError(ErrorKind::Integrity, QStringLiteral("the cache of %1 ends at offset %2 (truncated?)").arg(m_meta.source).arg(off));
        if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
            return makeError(ErrorKind::LocalIo, QStringLiteral("cannot copy bytes %1 of %2: %3")
                                                     .arg(ByteRange{off, span.end}.toInclusiveString(), m_meta.source, errnoText(errno)));
        const qint64 len = std::min<qint64>(span.end - off, 4 << 20);
        buf.resize(len);
        if (Status st = preadAll(m_dataFd, buf.data(), len, off, QStringLiteral("the cache of %1").arg(m_meta.source)); !st)
            return st;
        if (Status st = pwriteAll(fd, buf.constData(), len, off, QStringLiteral("the export file")); !st)
            return st;
        off += len;
    }
    return okStatus();
}

} // namespace sparsescope
