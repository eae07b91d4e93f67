#include "sparsefilestore.h"
#include "cachebudget.h"
#include "cachepaths.h"
#include "fileutil.h"
#include "journal.h"
#include "rangeparse.h"
#include "uringwriter.h"

#include <QCoreApplication>
#include <QRandomGenerator>

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <cerrno>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

namespace sparsescope {

namespace {
int openFile(const QString &path, int flags)
{
    return ::open(QFile::encodeName(path).constData(), flags | O_CLOEXEC, 0600);
}

Status createDataFile(const QString &path, qint64 size)
{
    ::unlink(QFile::encodeName(path).constData());
    const int fd = openFile(path, O_RDWR | O_CREAT | O_EXCL);
    if (fd < 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot create data file %1: %2").arg(path, errnoText(errno)));
    const int rc = ::ftruncate(fd, size);
    const int err = errno;
    ::close(fd);
    if (rc != 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot size data file %1 to %2 bytes: %3").arg(path).arg(size).arg(errnoText(err)));
    return okStatus();
}

} // namespace

Result<std::unique_ptr<SparseFileStore>> SparseFileStore::open(const QString &directory, const ObjectMeta &want, int lockWaitMs)
{
    std::unique_ptr<SparseFileStore> s(new SparseFileStore);
    s->m_dir = directory;
    s->m_objectId = QFileInfo(QDir::cleanPath(directory)).fileName();
    if (Status st = makePrivateDirectory(directory); !st)
        return st.error();
    s->m_shared = !ObjectLock::onNetworkFilesystem(directory);
    // The entry to ourselves if no one else has it open (to create, repair or compact it), else
    // shared; on a network filesystem always to ourselves.
    auto lock = ObjectLock::acquire(directory, s->m_shared ? 0 : lockWaitMs, ObjectLock::Mode::Exclusive);
    const bool exclusive = lock.ok();
    if (!exclusive) {
        if (!s->m_shared)
            return lock.error();
        lock = ObjectLock::acquire(directory, lockWaitMs, ObjectLock::Mode::Shared);
        if (!lock)
            return lock.error();
    }
    s->m_lock = std::move(lock).value();
    s->m_writer = quint16(1 + QRandomGenerator::global()->bounded(65535));
    if (Status st = s->m_claims.open(directory); !st)
        return st.error();
    if (Status st = s->initialize(want, exclusive); !st)
        return st.error();
    if (exclusive && s->m_shared)
        s->m_lock.downgrade(); // set up: others may open it now
    s->attachBudget();
    return s;
}

Status SparseFileStore::initialize(const ObjectMeta &want, bool exclusive)
{
    if (!exclusive) {
        // Other processes have the entry open: adopt it as it is, reset it in place if the object
        // changed, repair and compact nothing (a record being appended is not a torn tail).
        auto meta = ObjectMeta::load(metaPath());
        if (!meta)
            return makeError(ErrorKind::LocalIo, QStringLiteral("%1: the cache entry %2 is open in another process but unreadable: %3; "
                                                                "close the other processes and try again")
                                                     .arg(want.source, m_dir, meta.error().message));
        m_dataFd = openFile(dataPath(), O_RDWR);
        m_journalFd = openFile(journalPath(), O_WRONLY | O_APPEND);
        m_journalReadFd = openFile(journalPath(), O_RDONLY);
        if (m_dataFd < 0 || m_journalFd < 0 || m_journalReadFd < 0)
            return makeError(ErrorKind::LocalIo, QStringLiteral("cannot open the cache entry %1: %2").arg(m_dir, errnoText(errno)));
        if (meta->size != want.size || meta->validator != want.validator) {
            m_warnings << QStringLiteral("%1 changed upstream since it was cached (size %2 -> %3); its cached data was dropped")
                              .arg(want.source).arg(meta->size).arg(want.size);
            if (Status st = resetShared(want); !st)
                return st;
        } else {
            m_meta = *meta;
            m_meta.source = want.source;
            m_geometry = {m_meta.size, m_meta.chunkSize};
        }
        auto state = journal::load(journalPath(), m_geometry.chunkCount(), m_meta.chunkSize, /*repair=*/false);
        if (!state)
            return state.error();
        m_present = std::move(state->present);
        m_packed = std::move(state->packed);
        m_checksums = std::move(state->checksums);
        m_tailOffset = state->validBytes;
        m_claimed.resize(m_geometry.chunkCount());
        return dropChunksInHoles();
    }
    // 1. Metadata: adopt the entry's if it describes the same object, else start over.
    bool fresh = true;
    if (QFileInfo::exists(metaPath())) {
        auto meta = ObjectMeta::load(metaPath());
        if (!meta) {
            m_warnings << QStringLiteral("%1: %2; starting this cache entry afresh").arg(want.source, meta.error().message);
        } else if (meta->size != want.size || meta->validator != want.validator) {
            m_warnings << QStringLiteral("%1 changed upstream since it was cached (size %2 -> %3, validator %4 -> %5); "
                                         "its cached data was dropped")
                              .arg(want.source).arg(meta->size).arg(want.size)
                              .arg(meta->validator.isEmpty() ? QStringLiteral("none") : meta->validator,
                                   want.validator.isEmpty() ? QStringLiteral("none") : want.validator);
        } else {
            m_meta = *meta;
            m_meta.source = want.source;
            fresh = false;
        }
    }
    if (fresh) {
        m_meta = want;
        m_meta.formatVersion = ObjectMeta::kFormatVersion;
        if (Status st = createDataFile(dataPath(), m_meta.size); !st)
            return st;
        ChunkBitmap none(ChunkGeometry{m_meta.size, m_meta.chunkSize}.chunkCount());
        ChecksumTable sums;
        sums.resize(none.size());
        if (Status st = journal::rewrite(journalPath(), m_meta.chunkSize, none, sums); !st)
            return st;
        if (Status st = m_meta.save(metaPath()); !st) // last: an entry with meta.json is complete
            return st;
    }
    m_geometry = {m_meta.size, m_meta.chunkSize};

    // 2. Data file: must exist with the object's size.
    m_dataFd = openFile(dataPath(), O_RDWR);
    if (m_dataFd < 0) {
        if (errno != ENOENT)
            return makeError(ErrorKind::LocalIo, QStringLiteral("cannot open %1: %2").arg(dataPath(), errnoText(errno)));
        m_warnings << QStringLiteral("%1: the cache's data file was missing; its coverage was dropped").arg(m_meta.source);
        if (Status st = createDataFile(dataPath(), m_meta.size); !st)
            return st;
        ChunkBitmap none(m_geometry.chunkCount());
        ChecksumTable sums;
        sums.resize(none.size());
        if (Status st = journal::rewrite(journalPath(), m_meta.chunkSize, none, sums); !st)
            return st;
        m_dataFd = openFile(dataPath(), O_RDWR);
        if (m_dataFd < 0)
            return makeError(ErrorKind::LocalIo, QStringLiteral("cannot open %1: %2").arg(dataPath(), errnoText(errno)));
    }

    // 3. Coverage: replay the journal, dropping a torn tail.
    auto state = journal::load(journalPath(), m_geometry.chunkCount(), m_meta.chunkSize, /*repair=*/true);
    if (!state)
        return state.error();
    if (state->droppedBytes > 0)
        m_warnings << QStringLiteral("%1: dropped %2 bytes of torn or corrupt coverage journal; "
                                     "chunks they recorded will be fetched again").arg(m_meta.source).arg(state->droppedBytes);
    const qint64 replayedPresent = state->present.count();
    m_present = std::move(state->present);
    m_packed = std::move(state->packed);
    m_checksums = std::move(state->checksums);

    struct stat st {};
    if (::fstat(m_dataFd, &st) == 0 && st.st_size != m_meta.size) {
        m_warnings << QStringLiteral("%1: the cache's data file has %2 bytes instead of %3; chunks beyond were dropped")
                          .arg(m_meta.source).arg(st.st_size).arg(m_meta.size);
        if (st.st_size < m_meta.size) {
            const qint64 firstLost = st.st_size / m_meta.chunkSize;
            if (firstLost < m_geometry.chunkCount())
                for (const auto &[a, b] : gapsBetween(firstLost, m_geometry.chunkCount() - 1, m_packed.setRuns(firstLost, m_geometry.chunkCount() - 1)))
                    m_present.resetSpan(a, b); // loose ones: packed chunks are not in the data file
        }
        if (::ftruncate(m_dataFd, m_meta.size) != 0)
            return makeError(ErrorKind::LocalIo, QStringLiteral("cannot resize %1: %2").arg(dataPath(), errnoText(errno)));
    }
    if (Status s2 = dropChunksInHoles(); !s2)
        return s2;

    // 4. Compact a journal that is mostly history, or that lost records above.
    m_journalFd = -1;
    if (state->validRecords > 2 * m_present.count() + 1024 || m_present.count() != replayedPresent ||
        st.st_size != m_meta.size) {
        if (Status s2 = journal::rewrite(journalPath(), m_meta.chunkSize, m_present, m_checksums, m_packed); !s2)
            return s2;
    }
    m_journalFd = openFile(journalPath(), O_WRONLY | O_APPEND);
    m_journalReadFd = openFile(journalPath(), O_RDONLY);
    if (m_journalFd < 0 || m_journalReadFd < 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot open %1: %2").arg(journalPath(), errnoText(errno)));
    struct stat js {};
    m_tailOffset = ::fstat(m_journalReadFd, &js) == 0 ? qint64(js.st_size) / journal::kRecordSize * journal::kRecordSize : 0;
    m_claimed.resize(m_geometry.chunkCount());
    return okStatus();
}

Status SparseFileStore::dropChunksInHoles()
{
    // A chunk recorded present must have all its blocks allocated: a hole would read as zeros
    // (the data file was punched or rewritten behind our back). SEEK_HOLE costs one call per hole.
    // Packed chunks have no blocks in the data file: only loose runs are looked at.
    qint64 dropped = 0;
    QList<std::pair<qint64, qint64>> loose;
    for (const auto &[a, b] : m_present.setRuns(0, m_geometry.chunkCount() - 1))
        loose += gapsBetween(a, b, m_packed.setRuns(a, b));
    for (const auto &[first, last] : std::as_const(loose)) {
        const ByteRange span = m_geometry.chunkSpan(first, last);
        qint64 pos = span.begin;
        while (pos < span.end) {
            const off_t hole = ::lseek(m_dataFd, pos, SEEK_HOLE);
            if (hole < 0 || hole >= span.end)
                break;
            off_t data = ::lseek(m_dataFd, hole, SEEK_DATA);
            if (data < 0 || data > span.end)
                data = span.end;
            const qint64 c0 = hole / m_geometry.chunkSize;
            const qint64 c1 = (qint64(data) - 1) / m_geometry.chunkSize;
            dropped += m_present.countInSpan(c0, c1);
            m_present.resetSpan(c0, c1);
            pos = data;
        }
    }
    if (dropped > 0)
        m_warnings << QStringLiteral("%1: %2 chunks recorded present had no data on disk (holes); they were dropped")
                          .arg(m_meta.source).arg(dropped);
    return okStatus();
}

SparseFileStore::~SparseFileStore()
{
    (void)commit();
    if (m_dataFd >= 0)
        ::close(m_dataFd);
    if (m_journalFd >= 0)
        ::close(m_journalFd);
    if (m_journalReadFd >= 0)
        ::close(m_journalReadFd);
}

ChunkGeometry SparseFileStore::geometry() const
{
    std::shared_lock l(m_stateLock);
    return m_geometry;
}

Status SparseFileStore::setValidator(const QString &validator)
{
    QMutexLocker j(&m_journalMutex); // as a reset, which also rewrites meta.json
    ObjectMeta meta;
    {
        std::shared_lock l(m_stateLock);
        meta = m_meta;
    }
    meta.validator = validator;
    if (Status st = meta.save(metaPath()); !st)
        return st;
    std::unique_lock l(m_stateLock);
    m_meta.validator = validator;
    return okStatus();
}

QString SparseFileStore::validator() const
{
    std::shared_lock l(m_stateLock);
    return m_meta.validator;
}

bool SparseFileStore::isPresent(qint64 chunk) const
{
    std::shared_lock l(m_stateLock);
    return chunk >= 0 && chunk < m_present.size() && m_present.test(chunk);
}

qint64 SparseFileStore::countPresent(qint64 first, qint64 last) const
{
    std::shared_lock l(m_stateLock);
    return m_present.countInSpan(first, std::min(last, m_present.size() - 1));
}

ChunkBitmap SparseFileStore::presentChunks() const
{
    std::shared_lock l(m_stateLock);
    return m_present;
}

void SparseFileStore::copyCoverage(qint64 first, qint64 last, ChunkBitmap *present, ChunkBitmap *packed) const
{
    std::shared_lock l(m_stateLock);
    last = std::min(last, m_present.size() - 1);
    if (present && present->size() == m_present.size())
        present->copySpan(m_present, first, last);
    if (packed && packed->size() == m_packed.size())
        packed->copySpan(m_packed, first, last);
}

QList<std::pair<qint64, qint64>> SparseFileStore::presentRuns(qint64 first, qint64 last) const
{
    std::shared_lock l(m_stateLock);
    return m_present.setRuns(first, last);
}

qint64 SparseFileStore::presentBytesLocked() const { return bytesIn(m_present, m_geometry); }

qint64 SparseFileStore::presentBytes() const
{
    std::shared_lock l(m_stateLock);
    return presentBytesLocked();
}

qint64 SparseFileStore::allocatedBytes() const { return allocatedBytesOf(m_dataFd); }

Status SparseFileStore::writeChunk(qint64 index, QByteArrayView bytes)
{
    if (m_budget)
        m_budget->beforeWrite(bytes.size()); // may evict least recently used chunks first (no lock held)
    std::shared_lock d(m_dataLock);
    ByteRange r;
    {
        std::shared_lock l(m_stateLock);
        if (m_failed)
            return makeError(ErrorKind::LocalIo, m_failure);
        if (index < 0 || index >= m_geometry.chunkCount())
            return makeError(ErrorKind::Usage, QStringLiteral("chunk %1 is outside %2").arg(index).arg(m_meta.source));
        r = m_geometry.chunkRange(index);
    }
    if (bytes.size() != r.length())
        return makeError(ErrorKind::Usage, QStringLiteral("chunk %1 of %2 needs %3 bytes, got %4")
                                               .arg(index).arg(m_meta.source).arg(r.length()).arg(bytes.size()));
    const quint64 sum = XXH3_64bits(bytes.constData(), size_t(bytes.size()));
    const QString what = QStringLiteral("the cache");
    const Status written = uring::storeWrites() ? uring::writeAll(m_dataFd, bytes.constData(), bytes.size(), r.begin, what)
                                              : pwriteAll(m_dataFd, bytes.constData(), bytes.size(), r.begin, what);
    if (Status st = written; !st) {
        // Free whatever a partial write allocated, so the disk never holds more than what is present.
        ::fallocate(m_dataFd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, r.begin, r.length());
        return makeError(ErrorKind::LocalIo, QStringLiteral("%1 bytes %2: %3").arg(m_meta.source, r.toInclusiveString(), st.error().message));
    }
    if (m_budget)
        m_budget->account(blockRounded(r.length()));
    stamp(index, index);
    std::unique_lock l(m_stateLock);
    m_present.set(index);
    m_packed.reset(index);
    m_checksums.set(index, sum);
    m_pending.push_back({index, sum});
    return okStatus();
}

Status SparseFileStore::appendRecords(const QByteArray &records)
{
    const QString what = QStringLiteral("coverage journal of %1").arg(m_meta.source);
    qint64 done = 0;
    while (done < records.size()) {
        const ssize_t n = ::write(m_journalFd, records.constData() + done, size_t(records.size() - done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return makeError(ErrorKind::LocalIo, QStringLiteral("cannot append to the %1: %2").arg(what, errnoText(errno)));
        done += n;
    }
    m_ownUnread += records.size();
    if (dataSync(m_journalFd) != 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot fsync the %1: %2").arg(what, errnoText(errno)));
    return okStatus();
}

Status SparseFileStore::commit()
{
    bool nothingToCommit = false;
    {
        std::shared_lock l(m_stateLock);
        nothingToCommit = m_pending.empty();
    }
    if (m_budget && !nothingToCommit)
        m_budget->beforeCommit(); // the budget holds before each group commit (no lock held)
    QMutexLocker j(&m_journalMutex);
    std::vector<Pending> batch;
    {
        std::unique_lock l(m_stateLock);
        if (m_failed)
            return makeError(ErrorKind::LocalIo, m_failure);
        batch.swap(m_pending);
    }
    if (batch.empty())
        return okStatus();
    // Data first (fdatasync(2)), then the records that point at it.
    Status st = okStatus();
    if (dataSync(m_dataFd) != 0) {
        const int err = errno;
        const QString dropped = batch.size() == 1 ? QStringLiteral("the chunk written since the last commit is dropped")
                                                  : QStringLiteral("the %1 chunks written since the last commit are dropped").arg(batch.size());
        st = makeError(ErrorKind::LocalIo, QStringLiteral("cannot fsync the cache of %1: %2; %3 and this object's cache is unusable "
                                                          "until it is reopened").arg(m_meta.source, errnoText(err), dropped));
    }
    if (st) {
        QByteArray records;
        records.reserve(qsizetype(batch.size()) * journal::kRecordSize);
        for (const Pending &p : batch)
            records += journal::encode({JournalRecord::Present, quint64(p.chunk), p.checksum, m_writer});
        st = appendRecords(records);
    }
    if (st) {
        // Durable: other processes waiting for these chunks may read them now.
        QMutexLocker c(&m_claimMutex);
        for (const Pending &p : batch)
            releaseClaimsLocked(p.chunk, p.chunk);
    }

    if (!st) {
        // The kernel may have dropped the dirty pages (fsync(2), "errors"): nothing written since
        // the last good commit can be trusted. Forget it and refuse further writes.
        std::unique_lock l(m_stateLock);
        m_failed = true;
        m_failure = st.error().message;
        for (const Pending &p : batch)
            m_present.reset(p.chunk);
    }
    j.unlock();
    if (st && m_budget)
        m_budget->afterCommit(); // those chunks may be evicted now: a pass that was short may go on
    return st;
}

Status SparseFileStore::punchHoles(qint64 first, qint64 last)
{
    const ByteRange span = m_geometry.chunkSpan(first, last);
    // The object's last block is freed whole: past the end of the file there is nothing to keep.
    const qint64 end = span.end == m_geometry.objectSize ? blockRounded(span.end) : span.end;
    if (::fallocate(m_dataFd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, span.begin, end - span.begin) != 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot free the blocks of bytes %1 of %2: %3 (the chunks are no longer "
                                                            "recorded present; only disk space is not reclaimed)")
                                                 .arg(span.toInclusiveString(), m_meta.source, errnoText(errno)));
    return okStatus();
}

Status SparseFileStore::reset(qint64 newSize, const QString &newValidator)
{
    QMutexLocker j(&m_journalMutex);
    std::unique_lock d(m_dataLock);
    ObjectMeta want;
    {
        std::unique_lock l(m_stateLock); // nothing is present from here on: reads fail or retry
        want = m_meta;
        m_present.resetSpan(0, std::max<qint64>(0, m_present.size() - 1));
        m_packed.resetSpan(0, std::max<qint64>(0, m_packed.size() - 1));
    }
    noteDrop(0, std::numeric_limits<qint64>::max());
    want.size = newSize;
    want.validator = newValidator;
    const qint64 allocatedBefore = allocatedBytesOf(m_dataFd);
    Status st = resetShared(want); // a Reset record, so that other processes see it too
    if (m_budget)
        m_budget->account(allocatedBytesOf(m_dataFd) - allocatedBefore);
    if (Status a = m_access.reset(geometry().chunkCount()); !a && st)
        st = a;
    std::unique_lock l(m_stateLock);
    m_present = ChunkBitmap(m_geometry.chunkCount());
    m_packed = ChunkBitmap(m_geometry.chunkCount());
    m_checksums = ChecksumTable();
    m_checksums.resize(m_present.size());
    m_pending.clear();
    QMutexLocker c(&m_claimMutex);
    m_claimed = ChunkBitmap(m_geometry.chunkCount());
    return st;
}

qint64 SparseFileStore::bytesIn(const ChunkBitmap &present, const ChunkGeometry &g)
{
    qint64 n = present.count() * g.chunkSize;
    // The last chunk may be short.
    if (g.chunkCount() > 0 && present.test(g.chunkCount() - 1))
        n -= g.chunkSize - g.chunkRange(g.chunkCount() - 1).length();
    return n;
}

} // namespace sparsescope
