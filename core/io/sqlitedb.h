#pragma once
// Thin RAII holders for SQLite's C API (https://sqlite.org/c3ref/intro.html): one connection and
// one prepared statement, each released on scope exit. Everything else is SQLite's own API.

#include <QByteArray>
#include <QString>

#include <sqlite3.h>

namespace sparsescope {

// One connection, closed on scope exit.
struct SqliteDb {
    sqlite3 *db = nullptr;
    SqliteDb() = default;
    SqliteDb(const SqliteDb &) = delete;
    SqliteDb &operator=(const SqliteDb &) = delete;
    ~SqliteDb() { sqlite3_close(db); }
    bool exec(const char *sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK; }
    QString error() const { return db ? QString::fromUtf8(sqlite3_errmsg(db)) : QStringLiteral("out of memory"); }
};

// One prepared statement (sqlite3_prepare_v2), finalized on scope exit; reset() for reuse.
struct SqliteStatement {
    sqlite3_stmt *s = nullptr;
    SqliteStatement() = default;
    SqliteStatement(sqlite3 *db, const char *sql) { sqlite3_prepare_v2(db, sql, -1, &s, nullptr); }
    SqliteStatement(const SqliteStatement &) = delete;
    SqliteStatement &operator=(const SqliteStatement &) = delete;
    SqliteStatement(SqliteStatement &&o) noexcept : s(std::exchange(o.s, nullptr)) {}
    SqliteStatement &operator=(SqliteStatement &&o) noexcept
    {
        std::swap(s, o.s);
        return *this;
    }
    ~SqliteStatement() { sqlite3_finalize(s); }
    explicit operator bool() const { return s != nullptr; }
    QString text(int column) const
    {
        const auto *p = reinterpret_cast<const char *>(sqlite3_column_text(s, column));
        return p ? QString::fromUtf8(p, sqlite3_column_bytes(s, column)) : QString();
    }
    QByteArray blob(int column) const
    {
        const auto *p = static_cast<const char *>(sqlite3_column_blob(s, column));
        return p ? QByteArray(p, sqlite3_column_bytes(s, column)) : QByteArray();
    }
    void bind(int at, const QString &value)
    {
        const QByteArray utf8 = value.toUtf8();
        sqlite3_bind_text(s, at, utf8.constData(), int(utf8.size()), SQLITE_TRANSIENT);
    }
    void bind(int at, const QByteArray &value) { sqlite3_bind_blob(s, at, value.constData(), int(value.size()), SQLITE_TRANSIENT); }
    void bind(int at, qint64 value) { sqlite3_bind_int64(s, at, value); }
    void reset()
    {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
    }
};

} // namespace sparsescope
