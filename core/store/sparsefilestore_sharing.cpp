// SparseFileStore, the part that shares an entry with other processes and stores (see
// sparsefilestore.h for the rules): claims, following the journal, resetting in place, and the
// drop counter reads check.
#include "sparsefilestore.h"
#include "fileutil.h"
#include "journal.h"

#include <QFile>

#include <limits>
#include <mutex>
#include <shared_mutex>
#include <sys/stat.h>
#include <unistd.h>

namespace sparsescope {

Status SparseFileStore::resetShared(const ObjectMeta &want)
{
    // Every chunk claimed (waiting for fetches under way in other processes), then: the Reset
    // record durable, the data dropped, the new meta.json. Others see the Reset when they look.
    constexpr qint64 kEveryChunk = qint64(1) << 60;
    if (Status st = m_claims.claimWaiting(0, kEveryChunk); !st)
        return st;
    auto current = ObjectMeta::load(metaPath());
    Status st = okStatus();
    if (!current || current->size != want.size || current->validator != want.validator) {
        st = appendRecords(journal::encode({JournalRecord::Reset, quint64(want.size), 0, m_writer}));
        if (st)
            m_claims.addDrop(); // durable record first, then the counter, then the bytes go
        if (st && (::ftruncate(m_dataFd, 0) != 0 || ::ftruncate(m_dataFd, want.size) != 0))
            st = makeError(ErrorKind::LocalIo, QStringLiteral("cannot reset the cache of %1: %2").arg(want.source, errnoText(errno)));
        ObjectMeta meta = want;
        meta.formatVersion = ObjectMeta::kFormatVersion;
        meta.chunkSize = current ? current->chunkSize : want.chunkSize; // the journal's header says it
        if (st)
            st = meta.save(metaPath());
        std::unique_lock l(m_stateLock);
        if (st)
            m_meta = meta;
        m_geometry = {m_meta.size, m_meta.chunkSize};
    } else {
        std::unique_lock l(m_stateLock);
        m_meta = *current;
        m_meta.source = want.source;
        m_geometry = {m_meta.size, m_meta.chunkSize};
    }
    m_claims.release(0, kEveryChunk);
    return st;
}

bool SparseFileStore::othersAppended() const
{
    struct stat st {};
    return m_shared && m_journalReadFd >= 0 && ::fstat(m_journalReadFd, &st) == 0 &&
           qint64(st.st_size) - m_tailOffset.load() > m_ownUnread.load();
}

Result<ForeignChanges> SparseFileStore::refresh()
{
    ForeignChanges changes;
    if (!m_shared)
        return changes;
    QMutexLocker t(&m_tailMutex);
    const quint64 drops = m_claims.drops(); // before the journal is read: what it covers
    struct stat st {}, named {};
    if (::fstat(m_journalReadFd, &st) != 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot stat %1: %2").arg(journalPath(), errnoText(errno)));
    // `remove` renames the entry away and deletes it while others may have it open.
    if (::stat(QFile::encodeName(journalPath()).constData(), &named) != 0 || named.st_ino != st.st_ino) {
        changes.removed = true;
        return changes;
    }
    const qint64 whole = (qint64(st.st_size) - m_tailOffset) / journal::kRecordSize * journal::kRecordSize;
    if (whole <= 0) {
        m_sharedDropsSeen = drops; // nothing new: reads need not look again until the counter moves
        return changes;
    }
    QByteArray bytes(whole, Qt::Uninitialized);
    if (Status rs = preadAll(m_journalReadFd, bytes.data(), whole, m_tailOffset, journalPath()); !rs)
        return rs.error();
    std::unique_lock l(m_stateLock);
    const qint64 count = m_geometry.chunkCount();
    auto addRun = [](QList<std::pair<qint64, qint64>> &runs, qint64 a, qint64 b) {
        if (!runs.isEmpty() && runs.last().second + 1 == a)
            runs.last().second = b;
        else
            runs.append({a, b});
    };
    qint64 applied = 0, own = 0;
    for (qint64 at = 0; at < whole; at += journal::kRecordSize) {
        JournalRecord r;
        if (!journal::decode(bytes.constData() + at, &r))
            break; // a record not completely written yet: look again later
        applied = at + journal::kRecordSize;
        if (r.writer == m_writer) {
            own += journal::kRecordSize;
            continue;
        }
        if ((r.type == JournalRecord::Present || r.type == JournalRecord::Packed) && r.chunk < quint64(count)) {
            const qint64 c = qint64(r.chunk);
            m_checksums.set(c, r.arg);
            if (!m_present.test(c)) {
                m_present.set(c);
                addRun(changes.present, c, c);
            }
            if (r.type == JournalRecord::Present) {
                m_packed.reset(c);
            } else if (m_packed.set(c)) {
                // Its loose bytes are about to be punched: a read of them under way must retry.
                changes.packed.append({c, c});
                m_recentDrops.push_back({++m_dropSeq, c, c});
            }
        } else if (r.type == JournalRecord::Evict && r.arg > 0 && r.chunk < quint64(count)) {
            const qint64 a = qint64(r.chunk), b = std::min(count - 1, qint64(r.chunk + r.arg) - 1);
            changes.evicted += m_present.setRuns(a, b);
            m_present.resetSpan(a, b);
            m_packed.resetSpan(a, b);
            m_recentDrops.push_back({++m_dropSeq, a, b});
        } else if (r.type == JournalRecord::Reset) {
            changes.reset = true;
            if (count > 0)
                changes.evicted += m_present.setRuns(0, count - 1);
            m_present.resetSpan(0, std::max<qint64>(0, count - 1));
            m_packed.resetSpan(0, std::max<qint64>(0, count - 1));
            m_recentDrops.push_back({++m_dropSeq, 0, std::numeric_limits<qint64>::max()});
        }
    }
    while (m_recentDrops.size() > 256)
        m_recentDrops.pop_front();
    m_tailOffset += applied;
    m_ownUnread -= own;
    m_sharedDropsSeen = drops;
    return changes;
}

void SparseFileStore::noteDrop(qint64 first, qint64 last)
{
    QMutexLocker t(&m_tailMutex);
    m_recentDrops.push_back({++m_dropSeq, first, last});
    while (m_recentDrops.size() > 256)
        m_recentDrops.pop_front();
}

bool SparseFileStore::droppedSince(quint64 seq, qint64 first, qint64 last)
{
    if (m_dropSeq.load() == seq)
        return false;
    QMutexLocker t(&m_tailMutex);
    if (m_recentDrops.empty() || m_recentDrops.front().seq > seq + 1)
        return true; // forgotten: assume the worst
    for (const Drop &d : m_recentDrops)
        if (d.seq > seq && d.first <= last && first <= d.last)
            return true;
    return false;
}

Result<ClaimResult> SparseFileStore::claim(qint64 first, qint64 last)
{
    ClaimResult out;
    if (!m_shared) {
        out.claimed.append({first, last});
        return out;
    }
    QList<std::pair<qint64, qint64>> runs;
    {
        QMutexLocker c(&m_claimMutex);
        auto claimed = m_claims.tryClaim(first, last);
        if (!claimed)
            return claimed.error();
        runs = *claimed;
        for (const auto &[a, b] : std::as_const(runs))
            m_claimed.setSpan(a, b);
    }
    // Another process may have stored some of them, releasing its claim just before ours.
    if (othersAppended())
        if (auto r = refresh(); !r)
            return r.error();
    for (const auto &[a, b] : std::as_const(runs)) {
        const QList<std::pair<qint64, qint64>> present = presentRuns(a, b);
        out.claimed += gapsBetween(a, b, present);
        for (const auto &[x, y] : present) {
            out.present.append({x, y});
            releaseClaims(x, y);
        }
    }
    return out;
}

Result<SparseFileStore::Runs> SparseFileStore::claimUnclaimed(const Runs &runs, bool unpinnedOnly, qint64 *ownSkipped)
{
    Runs claimed;
    for (const auto &[a, b] : runs) {
        Runs own;
        {
            QMutexLocker c(&m_claimMutex);
            own = m_claimed.setRuns(a, b);
        }
        if (ownSkipped)
            for (const auto &[x, y] : std::as_const(own))
                *ownSkipped += y - x + 1;
        for (const auto &[x, y] : gapsBetween(a, b, own)) {
            if (!m_shared) {
                claimed.append({x, y});
                continue;
            }
            Runs candidates{{x, y}};
            if (unpinnedOnly) {
                auto unpinned = m_claims.unpinnedRuns(x, y); // being read, prefetched or exported: kept
                if (!unpinned) {
                    for (const auto &[p, q] : std::as_const(claimed))
                        m_claims.release(p, q);
                    return unpinned.error();
                }
                candidates = *unpinned;
            }
            for (const auto &[p, q] : std::as_const(candidates)) {
                auto got = m_claims.tryClaim(p, q);
                if (!got) {
                    for (const auto &[r, t] : std::as_const(claimed))
                        m_claims.release(r, t);
                    return got.error();
                }
                claimed += *got;
            }
        }
    }
    return claimed;
}

void SparseFileStore::releaseClaims(qint64 first, qint64 last)
{
    QMutexLocker c(&m_claimMutex);
    releaseClaimsLocked(first, last);
}

void SparseFileStore::releaseClaimsLocked(qint64 first, qint64 last)
{
    if (!m_shared || first > last || first >= m_claimed.size())
        return;
    last = std::min(last, m_claimed.size() - 1);
    for (const auto &[a, b] : m_claimed.setRuns(first, last))
        m_claims.release(a, b);
    m_claimed.resetSpan(first, last);
}

void SparseFileStore::catchUpWithDrops()
{
    if (m_shared && m_claims.drops() != m_sharedDropsSeen.load())
        (void)refresh();
}

} // namespace sparsescope
