#include "packwriter.h"
#include "cachebudget.h"
#include "cachepaths.h"
#include "chunkcodec.h"
#include "chunkgeometry.h"
#include "fileutil.h"
#include "journal.h"
#include "objectmeta.h"
#include "packstore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sparsescope {

namespace {
using Kind = chunkcodec::Encoded::Kind;
} // namespace

Result<std::unique_ptr<PackWriter>> PackWriter::begin(const QString &cacheDir, int waitMs, const std::function<void(const QString &)> &waiting)
{
    const QString dir = PackStore::packsDirectory(cacheDir);
    if (Status st = makePrivateDirectory(dir); !st)
        return st.error();
    std::unique_ptr<PackWriter> w(new PackWriter);
    w->m_cacheDir = cacheDir;
    auto lock = ObjectLock::acquire(dir, waitMs, ObjectLock::Mode::Exclusive, [&](const QString &why) {
        if (waiting)
            waiting(QStringLiteral("another pack or repack of %1 is running; waiting for it (%2)").arg(cacheDir, why));
    });
    if (!lock)
        return makeError(ErrorKind::LocalIo, QStringLiteral("another pack or repack of %1 is still running: %2").arg(cacheDir, lock.error().message));
    w->m_lock = std::move(lock).value();
    auto index = PackIndex::open(dir + QStringLiteral("/index.sqlite"), /*create=*/true);
    if (!index)
        return index.error();
    w->m_index = std::move(index).value();
    w->m_budget = CacheBudget::forCache(cacheDir);
    if (Status st = w->openCurrentPack(); !st)
        return st.error();
    return w;
}

PackWriter::~PackWriter()
{
    if (m_packFd >= 0)
        ::close(m_packFd);
    for (int fd : std::as_const(m_closedFds))
        ::close(fd);
}

qint64 PackWriter::packFileBytes() const
{
    auto packs = m_index->packs();
    return packs ? PackStore::packFilesDiskBytes(m_cacheDir, *packs) : 0;
}

Status PackWriter::openCurrentPack()
{
    auto packs = m_index->packs();
    if (!packs)
        return packs.error();
    if (packs->isEmpty() || packs->last().bytes >= kMaxPackBytes)
        return startNewPack();
    m_pack = packs->last().id;
    m_packEnd = packs->last().bytes;
    const QString path = PackStore::packPath(m_cacheDir, m_pack);
    m_packFd = ::open(QFile::encodeName(path).constData(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (m_packFd < 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot open %1: %2").arg(path, errnoText(errno)));
    // Bytes past the committed length were appended by a packer that died before its commit:
    // nothing refers to them.
    struct stat st {};
    if (::fstat(m_packFd, &st) == 0 && st.st_size > m_packEnd) {
        const qint64 before = allocatedBytesOf(m_packFd);
        if (::ftruncate(m_packFd, m_packEnd) != 0)
            return makeError(ErrorKind::LocalIo, QStringLiteral("cannot truncate %1: %2").arg(path, errnoText(errno)));
        if (m_budget)
            m_budget->account(allocatedBytesOf(m_packFd) - before);
    }
    return okStatus();
}

Status PackWriter::startNewPack()
{
    if (m_packFd >= 0)
        m_closedFds.append(m_packFd); // synced and closed by the next commit
    m_packFd = -1;
    qint64 id = 0;
    if (Status st = m_index->transaction([&] {
            auto added = m_index->addPack();
            if (!added)
                return Status(added.error());
            id = *added;
            return okStatus();
        });
        !st)
        return st;
    m_pack = id;
    m_packEnd = 0;
    const QString path = PackStore::packPath(m_cacheDir, m_pack);
    m_packFd = ::open(QFile::encodeName(path).constData(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (m_packFd < 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot create %1: %2").arg(path, errnoText(errno)));
    return syncDirectory(PackStore::packsDirectory(m_cacheDir));
}

Status PackWriter::appendToPack(QByteArrayView data, qint64 *offset)
{
    if (m_packEnd >= kMaxPackBytes)
        if (Status st = startNewPack(); !st)
            return st;
    const qint64 before = m_packEnd;
    if (Status st = pwriteAll(m_packFd, data.data(), data.size(), m_packEnd, PackStore::packPath(m_cacheDir, m_pack)); !st)
        return st;
    *offset = before;
    m_packEnd += data.size();
    if (m_budget)
        m_budget->account(blockRounded(m_packEnd) - blockRounded(before));
    return okStatus();
}

Result<qint64> PackWriter::add(const QString &object, qint64 chunk, QByteArrayView bytes)
{
    const QByteArray hash = chunkcodec::sha256(bytes);
    m_rows.append({object, chunk, hash});
    if (m_stagedHashes.contains(hash))
        return qint64(0);
    auto known = m_index->blob(hash);
    if (!known)
        return known.error();
    if (*known && !(*known)->bad)
        return qint64(0);
    auto encoded = chunkcodec::encode(bytes);
    if (!encoded)
        return encoded.error();
    BlobLocation b;
    b.hash = hash;
    b.kind = encoded->kind;
    b.size = bytes.size();
    b.frames = encoded->frames;
    b.length = encoded->data.size();
    if (b.kind != Kind::Zero) {
        b.pack = m_pack;
        if (Status st = appendToPack(encoded->data, &b.offset); !st)
            return st.error();
        b.pack = m_pack; // appendToPack may have started a new one
    }
    m_blobs.append(b);
    m_stagedHashes.insert(hash);
    return b.length;
}

Status PackWriter::commit()
{
    if (m_rows.isEmpty() && m_closedFds.isEmpty())
        return okStatus();
    for (int fd : {m_packFd}) // the contents first: a row never points at bytes a crash can lose
        if (fd >= 0 && dataSync(fd) != 0)
            return makeError(ErrorKind::LocalIo, QStringLiteral("cannot fsync %1: %2").arg(PackStore::packPath(m_cacheDir, m_pack), errnoText(errno)));
    for (int fd : std::as_const(m_closedFds)) {
        if (dataSync(fd) != 0)
            return makeError(ErrorKind::LocalIo, QStringLiteral("cannot fsync a pack of %1: %2").arg(m_cacheDir, errnoText(errno)));
        ::close(fd);
    }
    m_closedFds.clear();
    const Status st = m_index->transaction([&] {
        QHash<qint64, qint64> ends;
        Status s = okStatus();
        for (const BlobLocation &b : std::as_const(m_blobs)) {
            if (s)
                s = m_index->putBlob(b);
            if (b.kind != Kind::Zero)
                ends[b.pack] = std::max(ends.value(b.pack), b.offset + b.length);
        }
        for (const Row &r : std::as_const(m_rows))
            if (s)
                s = m_index->putChunk(r.object, r.chunk, r.hash);
        for (auto it = ends.cbegin(); it != ends.cend() && s; ++it)
            s = m_index->setPackBytes(it.key(), it.value());
        return s;
    });
    m_blobs.clear();
    m_rows.clear();
    m_stagedHashes.clear();
    return st;
}

Result<PackWriter::RepackReport> PackWriter::repack(const std::function<void(qint64, qint64)> &progress)
{
    RepackReport report;
    report.bytesBefore = packFileBytes();
    if (Status st = commit(); !st)
        return st.error();
    // 1. Rows of chunks their entry no longer records packed.
    auto objects = m_index->objects();
    if (!objects)
        return objects.error();
    const QString root = cachepaths::objectsRoot(m_cacheDir);
    for (const QString &object : std::as_const(*objects)) {
        const QString dir = root + u'/' + object;
        QList<qint64> stale;
        auto meta = ObjectMeta::load(dir + QStringLiteral("/meta.json"));
        bool gone = !QFileInfo::exists(dir);
        if (!gone && meta) {
            const ChunkGeometry g{meta->size, meta->chunkSize};
            auto state = journal::load(dir + QStringLiteral("/journal"), g.chunkCount(), meta->chunkSize, /*repair=*/false);
            if (!state)
                return state.error();
            auto rows = m_index->chunksOf(object);
            if (!rows)
                return rows.error();
            for (const PackedChunkRow &r : std::as_const(*rows))
                if (r.chunk >= state->packed.size() || !state->packed.test(r.chunk))
                    stale.append(r.chunk);
        } else if (!gone) {
            continue; // unreadable now (being created?): left for the next repack
        }
        if (!gone && stale.isEmpty())
            continue;
        if (gone) {
            auto rows = m_index->chunksOf(object);
            report.forgottenChunks += rows ? rows->size() : 0;
        } else {
            report.forgottenChunks += stale.size();
        }
        if (Status st = m_index->transaction([&] { return m_index->deleteChunks(object, gone ? QList<qint64>{} : stale); }); !st)
            return st.error();
    }
    // 2. Contents nothing uses; packs holding any are rewritten without them.
    auto unused = m_index->unreferencedBlobs();
    if (!unused)
        return unused.error();
    QHash<qint64, QList<QByteArray>> garbageByPack;
    for (const BlobLocation &b : std::as_const(*unused))
        garbageByPack[b.pack].append(b.hash);
    report.droppedContents = unused->size();
    if (garbageByPack.contains(0)) { // all-zero contents: nothing on disk
        const QList<QByteArray> zeros = garbageByPack.take(0);
        if (Status st = m_index->transaction([&] {
                Status s = okStatus();
                for (const QByteArray &h : zeros)
                    if (s)
                        s = m_index->deleteBlob(h);
                return s;
            });
            !st)
            return st.error();
    }
    // Every pack with bytes no used content occupies: unused contents, and the damaged copies a
    // good one replaced.
    auto live = m_index->liveBytesByPack();
    auto packs = m_index->packs();
    if (!live)
        return live.error();
    if (!packs)
        return packs.error();
    QList<qint64> doomed;
    for (const PackIndex::Pack &p : std::as_const(*packs))
        if (live->value(p.id) < p.bytes || garbageByPack.contains(p.id))
            doomed.append(p.id);
    qint64 done = 0;
    for (qint64 pack : doomed) {
        if (progress)
            progress(done, doomed.size());
        if (pack == m_pack)
            if (Status st = startNewPack(); !st) // never append to a pack being rewritten
                return st.error();
        auto blobs = m_index->blobsIn(pack);
        if (!blobs)
            return blobs.error();
        const QSet<QByteArray> garbage(garbageByPack[pack].cbegin(), garbageByPack[pack].cend());
        const QString oldPath = PackStore::packPath(m_cacheDir, pack);
        const int oldFd = ::open(QFile::encodeName(oldPath).constData(), O_RDONLY | O_CLOEXEC);
        if (oldFd < 0)
            return makeError(ErrorKind::LocalIo, QStringLiteral("cannot open %1: %2").arg(oldPath, errnoText(errno)));
        QList<BlobLocation> moved;
        Status st = okStatus();
        QByteArray buf;
        for (const BlobLocation &b : std::as_const(*blobs)) {
            if (garbage.contains(b.hash))
                continue;
            buf.resize(b.length);
            if (st)
                st = preadAll(oldFd, buf.data(), b.length, b.offset, oldPath);
            BlobLocation n = b;
            if (st)
                st = appendToPack(buf, &n.offset);
            n.pack = m_pack;
            moved.append(n);
        }
        ::close(oldFd);
        if (st && dataSync(m_packFd) != 0)
            st = makeError(ErrorKind::LocalIo, QStringLiteral("cannot fsync %1: %2").arg(PackStore::packPath(m_cacheDir, m_pack), errnoText(errno)));
        for (int fd : std::as_const(m_closedFds))
            if (st && dataSync(fd) != 0)
                st = makeError(ErrorKind::LocalIo, QStringLiteral("cannot fsync a pack of %1: %2").arg(m_cacheDir, errnoText(errno)));
        if (st)
            st = m_index->transaction([&] {
                Status s = okStatus();
                for (const BlobLocation &n : std::as_const(moved))
                    if (s)
                        s = m_index->putBlob(n);
                for (const QByteArray &h : std::as_const(garbage))
                    if (s)
                        s = m_index->deleteBlob(h);
                if (s)
                    s = m_index->setPackBytes(m_pack, m_packEnd);
                if (s)
                    s = m_index->removePack(pack);
                return s;
            });
        if (!st)
            return st.error();
        // The index points elsewhere now: the old pack can go (readers that have it open keep it).
        const qint64 oldBytes = PackStore::packFilesDiskBytes(m_cacheDir, {PackIndex::Pack{pack, 0}});
        ::unlink(QFile::encodeName(oldPath).constData());
        if (m_budget)
            m_budget->account(-oldBytes);
        ++report.rewrittenPacks;
        ++done;
    }
    if (progress)
        progress(doomed.size(), doomed.size());
    if (auto store = PackStore::forCache(m_cacheDir))
        store->forget();
    report.bytesAfter = packFileBytes();
    return report;
}

Result<QList<QByteArray>> PackWriter::verifyContents(const std::function<void(qint64, qint64)> &progress)
{
    auto blobs = m_index->allBlobs();
    if (!blobs)
        return blobs.error();
    auto store = PackStore::forCache(m_cacheDir);
    QList<QByteArray> bad;
    qint64 done = 0;
    for (const BlobLocation &b : std::as_const(*blobs)) {
        if (progress && done % 256 == 0)
            progress(done, blobs->size());
        ++done;
        if (b.bad)
            continue; // reported before; no chunk reads it any more, repack drops it
        auto bytes = store->readBlob(b, QStringLiteral("a content of %1").arg(PackStore::packPath(m_cacheDir, b.pack)));
        if (bytes && chunkcodec::sha256(*bytes) == b.hash)
            continue;
        bad.append(b.hash);
        if (Status st = m_index->transaction([&] { return m_index->markBad(b.hash); }); !st)
            return st.error();
    }
    if (progress)
        progress(done, blobs->size());
    if (!bad.isEmpty())
        store->forget();
    return bad;
}

} // namespace sparsescope
