#pragma once
// The persistent archive index: the listing of one version of an archive, kept in the object's
// cache entry as an SQLite database (`archive-index.sqlite`, https://sqlite.org/c3ref/intro.html),
// so that an archive is walked once per version. It survives evictions of the object's chunks
// (by hand or by the budget), goes with `remove` (it lives in the entry's directory), and is
// ignored and deleted when the object's size or validator no longer match the ones it was made
// for. Written under a temporary name, fsynced and renamed into place, so readers in other
// processes see a whole index or none. The entries are stored in blocks of 1,024 (indexblock.h),
// one BLOB each, not one row each: a row per entry cost more than the rest of a tar's listing.
//
// Thread affinity: none (each call opens its own connection). Blocking file I/O: never call from
// the GUI thread.

#include "archiveentry.h"
#include "result.h"

#include <memory>
#include <optional>

namespace sparsescope::archiveindex {

// The index file of the cache entry directory `entryDirectory`.
QString pathIn(const QString &entryDirectory);

// The listing stored at `path` if it was made for this version of the object (same size and
// validator); nullopt when there is none, it is stale (then it is deleted) or it cannot be read.
// With `names` (as `extract` takes them), only the entries they can select are loaded (each name
// itself and everything below it, compared without "./" and a trailing "/"): the blocks are read
// whole but only the selected entries decoded (an archive of 100,000 entries: a few ms).
std::optional<ArchiveListing> load(const QString &path, qint64 objectSize, const QString &validator,
                                   const QStringList &names = {});

// Stores `listing` at `path` for this version of the object, replacing any older index.
// Errors: LocalIo (cannot write the cache entry).
Status save(const QString &path, qint64 objectSize, const QString &validator, const ArchiveListing &listing);

// An index written while the archive is walked: a tar listing hands its entries over as it finds
// them (each packed in ~0.1 µs, a block stored every 1,024), so that writing the index costs the
// walk little and nothing is left to do once it ends. The index is private under a temporary
// name until commit(); destroyed without commit(), it leaves no file. Thread affinity: one
// thread at a time calls it.
class Writer {
public:
    // Starts an index for `path`. Errors: LocalIo.
    static Result<std::unique_ptr<Writer>> begin(const QString &path);
    ~Writer(); // without commit(): stops inserting and removes the temporary file
    // Appends one entry (entries in archive order, as entries() gives them); never fails (a
    // failure to store a block is reported by commit()).
    void add(const ArchiveEntry &entry);
    // Stores the last block, writes the listing's metadata (its entries are those added),
    // makes the file durable and renames it over `path`. Errors: LocalIo.
    Status commit(qint64 objectSize, const QString &validator, const QString &format, const QString &problem);

private:
    struct State;
    explicit Writer(std::unique_ptr<State> state);
    std::unique_ptr<State> m_state;
};

} // namespace sparsescope::archiveindex
