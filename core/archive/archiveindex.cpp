#include "archiveindex.h"
#include "atomicfile.h"
#include "fileutil.h"
#include "indexblock.h"
#include "sqlitedb.h"

#include <QFile>
#include <QSet>
#include <QStringList>

#include <unistd.h>

namespace sparsescope::archiveindex {

namespace {
constexpr int kFormatVersion = 3; // 3: entries packed in blocks (indexblock.h)

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
    // Names select each name itself and what lies below it; one that normalizes to "" selects all.
    QSet<QByteArray> selection;
    bool everything = names.isEmpty();
    for (const QString &n : names) {
        const QString name = ArchiveEntry::normalizedPath(n);
        everything = everything || name.isEmpty();
        selection.insert(name.toUtf8());
    }
    auto decode = [&](const Statement &st, int column) {
        const QByteArrayView block(static_cast<const char *>(sqlite3_column_blob(st.s, column)), sqlite3_column_bytes(st.s, column));
        return IndexBlock::decode(block, listing.entries, everything ? nullptr : &selection);
    };
    if (everything) {
        listing.entries.reserve(count);
        Statement st(d.db, "SELECT data FROM blocks ORDER BY first");
        if (!st)
            return std::nullopt;
        while (sqlite3_step(st.s) == SQLITE_ROW)
            if (!decode(st, 0))
                return std::nullopt; // damaged: list again
    } else {
        // The names of each block first (a few MiB for 100,000 entries), then only the blocks
        // that hold a selected entry are read and decoded.
        Statement blockNames(d.db, "SELECT first, names FROM blocks ORDER BY first");
        Statement data(d.db, "SELECT data FROM blocks WHERE first = ?1");
        if (!blockNames || !data)
            return std::nullopt;
        while (sqlite3_step(blockNames.s) == SQLITE_ROW) {
            const QByteArrayView held(static_cast<const char *>(sqlite3_column_blob(blockNames.s, 1)), sqlite3_column_bytes(blockNames.s, 1));
            if (!IndexBlock::mayHold(held, selection))
                continue;
            sqlite3_bind_int64(data.s, 1, sqlite3_column_int64(blockNames.s, 0));
            const bool ok = sqlite3_step(data.s) == SQLITE_ROW && decode(data, 0);
            sqlite3_reset(data.s);
            if (!ok)
                return std::nullopt; // damaged: list again
        }
    }
    if (everything && listing.entries.size() != count)
        return std::nullopt; // damaged: list again
    return listing;
}

struct Writer::State {
    State(AtomicFile temporary, QString target) : file(std::move(temporary)), path(std::move(target)) {}
    AtomicFile file;
    QString path;
    Db d;
    Statement insertBlock;
    IndexBlock block;    // the entries added since the last block was stored
    qint64 first = 0;    // entries before `block`
    QString insertError; // the first failure to store a block (reported by commit)

    QString fail(const QString &why) const { return QStringLiteral("cannot write the archive index %1: %2").arg(path, why); }
    void storeBlock()
    {
        if (block.count() == 0 || !insertError.isEmpty())
            return;
        sqlite3_bind_int64(insertBlock.s, 1, first);
        sqlite3_bind_blob(insertBlock.s, 2, block.names().constData(), int(block.names().size()), SQLITE_STATIC);
        sqlite3_bind_blob(insertBlock.s, 3, block.bytes().constData(), int(block.bytes().size()), SQLITE_STATIC);
        if (sqlite3_step(insertBlock.s) != SQLITE_DONE)
            insertError = fail(d.error());
        sqlite3_reset(insertBlock.s);
        first += block.count();
        block.clear();
    }
};

Writer::Writer(std::unique_ptr<State> state) : m_state(std::move(state)) {}

Writer::~Writer() = default; // an uncommitted AtomicFile removes its temporary file

Result<std::unique_ptr<Writer>> Writer::begin(const QString &path)
{
    auto file = AtomicFile::create(path, 0600);
    if (!file)
        return file.error();
    auto state = std::make_unique<State>(std::move(file).value(), path);
    Db &d = state->d;
    auto fail = [&](const QString &why) { return makeError(ErrorKind::LocalIo, state->fail(why)); };
    if (sqlite3_open_v2(QFile::encodeName(state->file.temporaryPath()).constData(), &d.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
        return fail(d.error());
    // The file is private until the rename in commit(): no journal needed; AtomicFile fsyncs it.
    // 64 KiB pages: a block (tens of KiB of names, more of records) is read in a few preads
    // instead of one per 4 KiB overflow page.
    if (!d.exec("PRAGMA page_size=65536; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN;"
                "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"
                "CREATE TABLE blocks(first INTEGER PRIMARY KEY, names BLOB, data BLOB);"))
        return fail(d.error());
    state->insertBlock = Statement(d.db, "INSERT INTO blocks VALUES(?1, ?2, ?3)");
    if (!state->insertBlock)
        return fail(d.error());
    return std::unique_ptr<Writer>(new Writer(std::move(state)));
}

void Writer::add(const ArchiveEntry &entry)
{
    m_state->block.add(entry);
    if (m_state->block.count() == IndexBlock::kEntries)
        m_state->storeBlock();
}

Status Writer::commit(qint64 objectSize, const QString &validator, const QString &format, const QString &problem)
{
    m_state->storeBlock();
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
            {QStringLiteral("problem"), problem}, {QStringLiteral("entries"), QString::number(m_state->first)}};
        for (const auto &[key, value] : rows) {
            meta.bind(1, key);
            meta.bind(2, value);
            if (sqlite3_step(meta.s) != SQLITE_DONE)
                return fail();
            sqlite3_reset(meta.s);
        }
    }
    m_state->insertBlock = Statement();
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
