#pragma once
// One block of the archive index: up to kEntries consecutive entries of a listing, packed into one
// byte string that the index stores as a single SQLite BLOB (archiveindex.h). Packing a block
// costs ~0.1 µs an entry where a table row each cost ~1.8 µs (SQLite's insert path, with an index
// on the name): the index of a 30,000-entry tar is written while it is listed for a few ms.
//
// Layout (little-endian base-128 varints, "zigzag" for values that may be negative), one record
// per entry, in archive order:
//   path length, path (UTF-8, as stored), rest length, rest
// where rest = index, type, size, compressed size, mtime, mode, link length, link (UTF-8),
// span flag [, span begin, span length], complete, method, crc32.
// The path comes first with the length of the rest, so a lookup by name reads each path and skips
// the entries it does not select without decoding them. Beside the records, names() holds each
// entry's normalized path (ArchiveEntry::normalizedPath, UTF-8) between NUL bytes
// ("\0a\0b/c\0"), so that a lookup by name can tell with one memmem(3) of that short string
// whether a block holds anything it selects, and decode only the blocks that do.
//
// Thread affinity: none (values only).

#include "archiveentry.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QSet>

#include <optional>

namespace sparsescope {

class IndexBlock {
public:
    static constexpr int kEntries = 1024; // ~50-100 KiB a block for typical paths

    // Appends one entry's record.
    void add(const ArchiveEntry &entry);
    int count() const { return m_count; }
    const QByteArray &bytes() const { return m_bytes; }
    const QByteArray &names() const { return m_names; }
    void clear()
    {
        m_bytes.resize(0); // both keep their capacity for the next block
        m_names.resize(0);
        m_count = 0;
    }

    // Whether a block whose names() are `names` may hold an entry that one of `selection` (as
    // decode takes them) selects: never false when it does; true without one only for a path that
    // holds a NUL byte (which no tar or ZIP path can), and decode() makes the final choice anyway.
    static bool mayHold(QByteArrayView names, const QSet<QByteArray> &selection);

    // The entries of a stored block, appended to `out` in the block's order; false when the bytes
    // are damaged (a record runs past the end, or a field does not fit), with `out` then partly
    // appended. With `names` (normalized UTF-8 paths, as ArchiveEntry::normalizedPath gives them,
    // none empty), only the entries they select: each name itself and everything below it.
    static bool decode(QByteArrayView block, QList<ArchiveEntry> &out, const QSet<QByteArray> *names = nullptr);

private:
    QByteArray m_bytes;
    QByteArray m_names;
    int m_count = 0;
};

} // namespace sparsescope
