#include "packindex.h"

#include <QFile>

#include <functional>

namespace sparsescope {

namespace {
using Kind = chunkcodec::Encoded::Kind;
constexpr const char *kBlobColumns = "kind, pack, offset, length, size, frames, bad, hash";

BlobLocation blobFrom(const SqliteStatement &st, int at)
{
    BlobLocation b;
    b.kind = Kind(sqlite3_column_int(st.s, at));
    b.pack = sqlite3_column_int64(st.s, at + 1);
    b.offset = sqlite3_column_int64(st.s, at + 2);
    b.length = sqlite3_column_int64(st.s, at + 3);
    b.size = sqlite3_column_int64(st.s, at + 4);
    b.frames = chunkcodec::framesFromBlob(st.blob(at + 5));
    b.bad = sqlite3_column_int(st.s, at + 6) != 0;
    b.hash = st.blob(at + 7);
    return b;
}
} // namespace

Error PackIndex::failure(const char *what) const
{
    return makeError(ErrorKind::LocalIo, QStringLiteral("the pack index %1: cannot %2: %3").arg(m_path, QString::fromLatin1(what), m_db.error()));
}

Result<std::unique_ptr<PackIndex>> PackIndex::open(const QString &path, bool create)
{
    std::unique_ptr<PackIndex> x(new PackIndex);
    x->m_path = path;
    const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(QFile::encodeName(path).constData(), &x->m_db.db, flags, nullptr) != SQLITE_OK)
        return x->failure("open it");
    sqlite3_busy_timeout(x->m_db.db, 30000); // the packer commits in short transactions
    if (!x->m_db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"))
        return x->failure("set WAL mode");
    if (create &&
        !x->m_db.exec("CREATE TABLE IF NOT EXISTS packs(id INTEGER PRIMARY KEY AUTOINCREMENT, bytes INTEGER NOT NULL);"
                      "CREATE TABLE IF NOT EXISTS blobs(hash BLOB PRIMARY KEY, kind INTEGER NOT NULL, pack INTEGER NOT NULL,"
                      " offset INTEGER NOT NULL, length INTEGER NOT NULL, size INTEGER NOT NULL, frames BLOB,"
                      " bad INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
                      "CREATE TABLE IF NOT EXISTS chunks(object TEXT NOT NULL, chunk INTEGER NOT NULL, hash BLOB NOT NULL,"
                      " PRIMARY KEY(object, chunk)) WITHOUT ROWID;"
                      "CREATE INDEX IF NOT EXISTS chunks_by_hash ON chunks(hash);"
                      "CREATE INDEX IF NOT EXISTS blobs_by_pack ON blobs(pack, offset);"))
        return x->failure("create its tables");
    x->m_locate = SqliteStatement(x->m_db.db, "SELECT b.kind, b.pack, b.offset, b.length, b.size, b.frames, b.bad, b.hash"
                                              " FROM chunks c JOIN blobs b ON b.hash = c.hash WHERE c.object = ?1 AND c.chunk = ?2");
    x->m_blob = SqliteStatement(x->m_db.db, (QByteArray("SELECT ") + kBlobColumns + " FROM blobs WHERE hash = ?1").constData());
    x->m_putBlob = SqliteStatement(x->m_db.db, "INSERT OR REPLACE INTO blobs(hash, kind, pack, offset, length, size, frames, bad)"
                                               " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)");
    x->m_putChunk = SqliteStatement(x->m_db.db, "INSERT OR REPLACE INTO chunks(object, chunk, hash) VALUES(?1, ?2, ?3)");
    if (!x->m_locate || !x->m_blob || !x->m_putBlob || !x->m_putChunk)
        return x->failure("read it (is it a SparseScope pack index?)");
    return x;
}

Status PackIndex::step(SqliteStatement &st, const char *what)
{
    const int rc = sqlite3_step(st.s);
    st.reset();
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return failure(what);
    return okStatus();
}

Result<std::optional<BlobLocation>> PackIndex::locate(const QString &object, qint64 chunk)
{
    m_locate.bind(1, object);
    m_locate.bind(2, chunk);
    const int rc = sqlite3_step(m_locate.s);
    std::optional<BlobLocation> out;
    if (rc == SQLITE_ROW)
        out = blobFrom(m_locate, 0);
    m_locate.reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return failure("look up a chunk");
    return out;
}

Result<std::optional<BlobLocation>> PackIndex::blob(const QByteArray &hash)
{
    m_blob.bind(1, hash);
    const int rc = sqlite3_step(m_blob.s);
    std::optional<BlobLocation> out;
    if (rc == SQLITE_ROW)
        out = blobFrom(m_blob, 0);
    m_blob.reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return failure("look up a content hash");
    return out;
}

Status PackIndex::begin() { return m_db.exec("BEGIN IMMEDIATE") ? okStatus() : Status(failure("begin a transaction")); }
Status PackIndex::commit() { return m_db.exec("COMMIT") ? okStatus() : Status(failure("commit")); }
void PackIndex::rollback() { m_db.exec("ROLLBACK"); }

Status PackIndex::transaction(const std::function<Status()> &work)
{
    Status st = begin();
    if (!st)
        return st;
    st = work();
    if (st)
        st = commit();
    if (!st)
        rollback();
    return st;
}

Status PackIndex::putBlob(const BlobLocation &b)
{
    m_putBlob.bind(1, b.hash);
    m_putBlob.bind(2, qint64(b.kind));
    m_putBlob.bind(3, b.pack);
    m_putBlob.bind(4, b.offset);
    m_putBlob.bind(5, b.length);
    m_putBlob.bind(6, b.size);
    if (b.frames.isEmpty())
        sqlite3_bind_null(m_putBlob.s, 7);
    else
        m_putBlob.bind(7, chunkcodec::framesToBlob(b.frames));
    return step(m_putBlob, "record a stored content");
}

Status PackIndex::putChunk(const QString &object, qint64 chunk, const QByteArray &hash)
{
    m_putChunk.bind(1, object);
    m_putChunk.bind(2, chunk);
    m_putChunk.bind(3, hash);
    return step(m_putChunk, "record a packed chunk");
}

Status PackIndex::setPackBytes(qint64 pack, qint64 bytes)
{
    SqliteStatement st(m_db.db, "UPDATE packs SET bytes = ?2 WHERE id = ?1");
    st.bind(1, pack);
    st.bind(2, bytes);
    return step(st, "record a pack's length");
}

Result<qint64> PackIndex::addPack()
{
    SqliteStatement st(m_db.db, "INSERT INTO packs(bytes) VALUES(0)");
    if (Status s = step(st, "add a pack"); !s)
        return s.error();
    return qint64(sqlite3_last_insert_rowid(m_db.db));
}

Status PackIndex::removePack(qint64 pack)
{
    SqliteStatement st(m_db.db, "DELETE FROM packs WHERE id = ?1");
    st.bind(1, pack);
    return step(st, "remove a pack");
}

Status PackIndex::markBad(const QByteArray &hash)
{
    SqliteStatement st(m_db.db, "UPDATE blobs SET bad = 1 WHERE hash = ?1");
    st.bind(1, hash);
    return step(st, "mark a damaged content");
}

Status PackIndex::deleteChunks(const QString &object, const QList<qint64> &chunks)
{
    if (chunks.isEmpty()) {
        SqliteStatement st(m_db.db, "DELETE FROM chunks WHERE object = ?1");
        st.bind(1, object);
        return step(st, "forget a removed entry's chunks");
    }
    SqliteStatement st(m_db.db, "DELETE FROM chunks WHERE object = ?1 AND chunk = ?2");
    for (qint64 c : chunks) {
        st.bind(1, object);
        st.bind(2, c);
        if (Status s = step(st, "forget an evicted chunk"); !s)
            return s;
    }
    return okStatus();
}

Status PackIndex::deleteBlob(const QByteArray &hash)
{
    SqliteStatement st(m_db.db, "DELETE FROM blobs WHERE hash = ?1");
    st.bind(1, hash);
    return step(st, "forget a content");
}

Result<QList<PackIndex::Pack>> PackIndex::packs()
{
    SqliteStatement st(m_db.db, "SELECT id, bytes FROM packs ORDER BY id");
    QList<Pack> out;
    int rc;
    while ((rc = sqlite3_step(st.s)) == SQLITE_ROW)
        out.append({sqlite3_column_int64(st.s, 0), sqlite3_column_int64(st.s, 1)});
    if (rc != SQLITE_DONE)
        return failure("list the packs");
    return out;
}

Result<QStringList> PackIndex::objects()
{
    SqliteStatement st(m_db.db, "SELECT DISTINCT object FROM chunks");
    QStringList out;
    int rc;
    while ((rc = sqlite3_step(st.s)) == SQLITE_ROW)
        out << st.text(0);
    if (rc != SQLITE_DONE)
        return failure("list the packed entries");
    return out;
}

Result<QList<PackedChunkRow>> PackIndex::chunksOf(const QString &object)
{
    SqliteStatement st(m_db.db, "SELECT chunk, hash FROM chunks WHERE object = ?1 ORDER BY chunk");
    st.bind(1, object);
    QList<PackedChunkRow> out;
    int rc;
    while ((rc = sqlite3_step(st.s)) == SQLITE_ROW)
        out.append({object, sqlite3_column_int64(st.s, 0), st.blob(1)});
    if (rc != SQLITE_DONE)
        return failure("list an entry's packed chunks");
    return out;
}

namespace {
Result<QList<BlobLocation>> collect(SqliteStatement &st, const std::function<Error()> &failed)
{
    QList<BlobLocation> out;
    int rc;
    while ((rc = sqlite3_step(st.s)) == SQLITE_ROW)
        out.append(blobFrom(st, 0));
    if (rc != SQLITE_DONE)
        return failed();
    return out;
}
} // namespace

Result<QList<BlobLocation>> PackIndex::blobsIn(qint64 pack)
{
    SqliteStatement st(m_db.db, (QByteArray("SELECT ") + kBlobColumns + " FROM blobs WHERE pack = ?1 ORDER BY offset").constData());
    st.bind(1, pack);
    return collect(st, [this] { return failure("list a pack's contents"); });
}

Result<QList<BlobLocation>> PackIndex::unreferencedBlobs()
{
    SqliteStatement st(m_db.db, (QByteArray("SELECT ") + kBlobColumns +
                                 " FROM blobs WHERE NOT EXISTS (SELECT 1 FROM chunks WHERE chunks.hash = blobs.hash)").constData());
    return collect(st, [this] { return failure("find unused contents"); });
}

Result<QHash<qint64, qint64>> PackIndex::liveBytesByPack()
{
    SqliteStatement st(m_db.db, "SELECT pack, SUM(length) FROM blobs WHERE EXISTS (SELECT 1 FROM chunks WHERE chunks.hash = blobs.hash)"
                                " GROUP BY pack");
    QHash<qint64, qint64> out;
    int rc;
    while ((rc = sqlite3_step(st.s)) == SQLITE_ROW)
        out.insert(sqlite3_column_int64(st.s, 0), sqlite3_column_int64(st.s, 1));
    if (rc != SQLITE_DONE)
        return failure("measure the packs' live contents");
    return out;
}

Result<QList<BlobLocation>> PackIndex::allBlobs()
{
    SqliteStatement st(m_db.db, (QByteArray("SELECT ") + kBlobColumns + " FROM blobs ORDER BY pack, offset").constData());
    return collect(st, [this] { return failure("list the stored contents"); });
}

Result<PackIndex::Totals> PackIndex::totals()
{
    Totals t;
    SqliteStatement a(m_db.db, "SELECT COUNT(*), COALESCE(SUM(b.size), 0) FROM chunks c JOIN blobs b ON b.hash = c.hash");
    SqliteStatement b(m_db.db, "SELECT COUNT(*), COALESCE(SUM(size), 0), COALESCE(SUM(length), 0) FROM blobs");
    if (sqlite3_step(a.s) != SQLITE_ROW || sqlite3_step(b.s) != SQLITE_ROW)
        return failure("count the packed chunks");
    t.chunkRows = sqlite3_column_int64(a.s, 0);
    t.logicalBytes = sqlite3_column_int64(a.s, 1);
    t.blobs = sqlite3_column_int64(b.s, 0);
    t.blobBytes = sqlite3_column_int64(b.s, 1);
    t.storedBytes = sqlite3_column_int64(b.s, 2);
    return t;
}

Result<QHash<QString, qint64>> PackIndex::storedBytesByObject()
{
    SqliteStatement st(m_db.db, "SELECT c.object, SUM(CAST(b.length AS REAL) / r.refs) FROM chunks c JOIN blobs b ON b.hash = c.hash"
                                " JOIN (SELECT hash, COUNT(*) AS refs FROM chunks GROUP BY hash) r ON r.hash = c.hash GROUP BY c.object");
    QHash<QString, qint64> out;
    int rc;
    while ((rc = sqlite3_step(st.s)) == SQLITE_ROW)
        out.insert(st.text(0), qint64(sqlite3_column_double(st.s, 1) + 0.5));
    if (rc != SQLITE_DONE)
        return failure("share out the packs' bytes");
    return out;
}

} // namespace sparsescope
