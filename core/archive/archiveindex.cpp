#include "archiveindex.h"
#include "atomicfile.h"
#include "fileutil.h"
#include "sqlitedb.h"

#include <QFile>
#include <QStringList>

#include <condition_variable>
#include <map>
#include <mutex>
#include <pthread.h>
#include <thread>
#include <vector>
#include <unistd.h>

namespace sparsescope::archiveindex {

namespace {
constexpr int kFormatVersion = 2;

using Db = SqliteDb;
using Statement = SqliteStatement;

QString metaValue(sqlite3 *db, const char *key)
{
    Statement st(db, "SELECT value FROM meta WHERE key = ?1");
    if (!st)
        return {};
    sqlite3_bind_text(st.s, 1, key, -1, SQLITE_STATIC);
    return sqlite3_step(st.s) == SQLITE_ROW ? st.text(0) : QString();
}
} // namespace

QString pathIn(const QString &entryDirectory) { return entryDirectory + QStringLiteral("/archive-index.sqlite"); }

namespace {
ArchiveEntry entryFrom(const Statement &st)
{
    ArchiveEntry e;
    e.index = sqlite3_column_int(st.s, 0);
    e.path = st.text(1);
    e.type = ArchiveEntry::Type(sqlite3_column_int(st.s, 2));
    e.size = sqlite3_column_int64(st.s, 3);
    e.compressedSize = sqlite3_column_int64(st.s, 4);
    e.mtime = sqlite3_column_int64(st.s, 5);
    e.mode = sqlite3_column_int(st.s, 6);
    e.linkTarget = st.text(7);
    if (sqlite3_column_type(st.s, 8) != SQLITE_NULL)
        e.span = ByteRange{sqlite3_column_int64(st.s, 8), sqlite3_column_int64(st.s, 9)};
    e.complete = sqlite3_column_int(st.s, 10) != 0;
    e.method = sqlite3_column_int(st.s, 11);
    e.crc32 = quint32(sqlite3_column_int64(st.s, 12));
    return e;
}
constexpr const char *kColumns = "idx, path, type, size, csize, mtime, mode, link, span_begin, span_end, complete, method, crc";
} // namespace

std::optional<ArchiveListing> load(const QString &path, qint64 objectSize, const QString &validator, const QStringList &names)
{
    if (!QFile::exists(path))
        return std::nullopt;
    Db d;
    if (sqlite3_open_v2(QFile::encodeName(path).constData(), &d.db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
        return std::nullopt;
    if (metaValue(d.db, "version") != QString::number(kFormatVersion))
        return std::nullopt;
    if (metaValue(d.db, "size") != QString::number(objectSize) || metaValue(d.db, "validator") != validator) {
        ::unlink(QFile::encodeName(path).constData()); // made for another version of the object
        return std::nullopt;
    }
    ArchiveListing listing;
    listing.format = metaValue(d.db, "format");
    listing.problem = metaValue(d.db, "problem");
    const qint64 count = metaValue(d.db, "entries").toLongLong();
    bool everything = names.isEmpty();
    for (const QString &n : names)
        everything = everything || ArchiveEntry::normalizedPath(n).isEmpty();
    if (!everything) {
        // Each name, and what lies below it: norm in [name + "/", name + "0") ('0' follows '/').
        Statement st(d.db, (QByteArray("SELECT ") + kColumns + " FROM entries WHERE norm = ?1 OR (norm >= ?2 AND norm < ?3)").constData());
        if (!st)
            return std::nullopt;
        std::map<int, ArchiveEntry> found;
        for (const QString &n : names) {
            const QString name = ArchiveEntry::normalizedPath(n);
            st.bind(1, name);
            st.bind(2, name + u'/');
            st.bind(3, name + u'0');
            while (sqlite3_step(st.s) == SQLITE_ROW) {
                ArchiveEntry e = entryFrom(st);
                found.emplace(e.index, std::move(e));
            }
            sqlite3_reset(st.s);
        }
        for (auto &[index, e] : found)
            listing.entries.append(std::move(e));
        return listing;
    }
    listing.entries.reserve(count);
    Statement st(d.db, (QByteArray("SELECT ") + kColumns + " FROM entries ORDER BY idx").constData());
    if (!st)
        return std::nullopt;
    while (sqlite3_step(st.s) == SQLITE_ROW)
        listing.entries.append(entryFrom(st));
    if (listing.entries.size() != count)
        return std::nullopt; // damaged: list again
    return listing;
}

struct Writer::State {
    State(AtomicFile temporary, QString target) : file(std::move(temporary)), path(std::move(target)) {}
    AtomicFile file;
    QString path;
    Db d;
    Statement row;
    qint64 count = 0;
    // Rows are inserted on `inserter`, so that add() costs the walk almost nothing.
    std::mutex mutex;
    std::condition_variable wake;
    std::vector<ArchiveEntry> queue; // guarded by mutex
    bool closing = false;            // guarded by mutex: no more entries; finish the queue and stop
    bool abandon = false;            // guarded by mutex: stop at once (no commit follows)
    QString insertError;             // written by inserter, read after join
    std::thread inserter;

    QString fail(const QString &why) const { return QStringLiteral("cannot write the archive index %1: %2").arg(path, why); }
    bool insert(const ArchiveEntry &e);
    void run();
    void stop(bool abandonQueue)
    {
        {
            std::lock_guard lock(mutex);
            closing = true;
            abandon = abandonQueue;
        }
        wake.notify_one();
        if (inserter.joinable())
            inserter.join();
    }
};

bool Writer::State::insert(const ArchiveEntry &e)
{
    sqlite3_bind_int(row.s, 1, e.index);
    row.bind(2, e.path);
    sqlite3_bind_int(row.s, 3, int(e.type));
    sqlite3_bind_int64(row.s, 4, e.size);
    sqlite3_bind_int64(row.s, 5, e.compressedSize);
    sqlite3_bind_int64(row.s, 6, e.mtime);
    sqlite3_bind_int(row.s, 7, e.mode);
    row.bind(8, e.linkTarget);
    if (e.span) {
        sqlite3_bind_int64(row.s, 9, e.span->begin);
        sqlite3_bind_int64(row.s, 10, e.span->end);
    } else {
        sqlite3_bind_null(row.s, 9);
        sqlite3_bind_null(row.s, 10);
    }
    sqlite3_bind_int(row.s, 11, e.complete ? 1 : 0);
    sqlite3_bind_int(row.s, 12, e.method);
    sqlite3_bind_int64(row.s, 13, qint64(e.crc32));
    row.bind(14, ArchiveEntry::normalizedPath(e.path));
    const int rc = sqlite3_step(row.s);
    sqlite3_reset(row.s);
    ++count;
    return rc == SQLITE_DONE;
}

void Writer::State::run()
{
    std::vector<ArchiveEntry> batch;
    while (true) {
        {
            std::unique_lock lock(mutex);
            wake.wait(lock, [&] { return closing || !queue.empty(); });
            if (abandon || (closing && queue.empty()))
                return;
            batch.swap(queue);
        }
        for (const ArchiveEntry &e : batch)
            if (!insert(e)) {
                insertError = fail(d.error());
                return;
            }
        batch.clear();
    }
}

Writer::Writer(std::unique_ptr<State> state) : m_state(std::move(state))
{
    m_state->inserter = std::thread([state = m_state.get()] {
        pthread_setname_np(pthread_self(), "sparsescope-idx"); // for top and perf
        state->run();
    });
}

Writer::~Writer()
{
    m_state->stop(true); // an uncommitted AtomicFile then removes its temporary file
}

Result<std::unique_ptr<Writer>> Writer::begin(const QString &path)
{
    auto file = AtomicFile::create(path, 0600);
    if (!file)
        return file.error();
    auto state = std::make_unique<State>(std::move(file).value(), path);
    Db &d = state->d;
    auto fail = [&](const QString &why) { return makeError(ErrorKind::LocalIo, state->fail(why)); };
    // NOMUTEX: one thread at a time uses the connection (the inserter, then commit() after joining it).
    if (sqlite3_open_v2(QFile::encodeName(state->file.temporaryPath()).constData(), &d.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
        return fail(d.error());
    // The file is private until the rename in commit(): no journal needed; AtomicFile fsyncs it.
    if (!d.exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN;"
                "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
                "CREATE TABLE entries(idx INTEGER PRIMARY KEY, path TEXT, type INTEGER, size INTEGER, csize INTEGER,"
                " mtime INTEGER, mode INTEGER, link TEXT, span_begin INTEGER, span_end INTEGER, complete INTEGER,"
                " method INTEGER, crc INTEGER, norm TEXT);"
                // Kept up by the inserter as the walk goes, not built after it: a CREATE INDEX in
                // commit() sorted every row once the walk had ended (8-12 ms of 30,000 rows).
                "CREATE INDEX entries_norm ON entries(norm);"))
        return fail(d.error());
    state->row = Statement(d.db, "INSERT INTO entries VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
    if (!state->row)
        return fail(d.error());
    return std::unique_ptr<Writer>(new Writer(std::move(state)));
}

void Writer::add(ArchiveEntry entry)
{
    bool wasEmpty = false;
    {
        std::lock_guard lock(m_state->mutex);
        wasEmpty = m_state->queue.empty();
        m_state->queue.push_back(std::move(entry));
    }
    if (wasEmpty)
        m_state->wake.notify_one();
}

Status Writer::commit(qint64 objectSize, const QString &validator, const QString &format, const QString &problem)
{
    m_state->stop(false);
    if (!m_state->insertError.isEmpty())
        return makeError(ErrorKind::LocalIo, m_state->insertError);
    Db &d = m_state->d;
    auto fail = [&] { return makeError(ErrorKind::LocalIo, m_state->fail(d.error())); };
    {
        Statement meta(d.db, "INSERT INTO meta VALUES(?1, ?2)");
        if (!meta)
            return fail();
        const QList<std::pair<QString, QString>> rows = {
            {QStringLiteral("version"), QString::number(kFormatVersion)}, {QStringLiteral("size"), QString::number(objectSize)},
            {QStringLiteral("validator"), validator}, {QStringLiteral("format"), format},
            {QStringLiteral("problem"), problem}, {QStringLiteral("entries"), QString::number(m_state->count)}};
        for (const auto &[key, value] : rows) {
            meta.bind(1, key);
            meta.bind(2, value);
            if (sqlite3_step(meta.s) != SQLITE_DONE)
                return fail();
            sqlite3_reset(meta.s);
        }
    }
    m_state->row = Statement();
    if (!d.exec("COMMIT;"))
        return fail();
    sqlite3_close(std::exchange(d.db, nullptr));
    return m_state->file.commit(AtomicFile::Durability::File);
}

Status save(const QString &path, qint64 objectSize, const QString &validator, const ArchiveListing &listing)
{
    auto writer = Writer::begin(path);
    if (!writer)
        return writer.error();
    for (const ArchiveEntry &e : listing.entries)
        (*writer)->add(e);
    return (*writer)->commit(objectSize, validator, listing.format, listing.problem);
}

} // namespace sparsescope::archiveindex
