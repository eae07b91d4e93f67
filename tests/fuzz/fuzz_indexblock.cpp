// libFuzzer target: the archive index's packed entries (indexblock.h) on arbitrary bytes, as a
// damaged index file would hand them over. Input: a first line of NUL-free names (separated by
// '|', for a lookup by name), then the block.
// Invariants: decoding never reads outside the block (ASan); the entries of a block that decodes,
// written again, decode the same (paths that were not UTF-8 are already U+FFFD then); a lookup by names
// returns exactly the entries of the whole decode that those names select, in the same order, and
// the block's names never say it holds none of them when it does.
#include "indexblock.h"

#include <cstdint>
#include <cstdlib>

using namespace sparsescope;

namespace {
bool same(const ArchiveEntry &a, const ArchiveEntry &b)
{
    return a.index == b.index && a.path == b.path && a.type == b.type && a.size == b.size &&
           a.compressedSize == b.compressedSize && a.mtime == b.mtime && a.mode == b.mode && a.linkTarget == b.linkTarget &&
           a.span == b.span && a.complete == b.complete && a.method == b.method && a.crc32 == b.crc32;
}

bool selects(const QString &path, const QSet<QByteArray> &names)
{
    const QByteArray p = ArchiveEntry::normalizedPath(path).toUtf8();
    for (const QByteArray &n : names)
        if (p == n || p.startsWith(n + '/'))
            return true;
    return false;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    const qsizetype nl = input.indexOf('\n');
    const QByteArray block = nl < 0 ? input : input.mid(nl + 1);
    QSet<QByteArray> names;
    for (const QByteArray &n : (nl < 0 ? QByteArray() : input.left(nl)).split('|'))
        if (!n.isEmpty() && !n.contains('\0'))
            names.insert(ArchiveEntry::normalizedPath(QString::fromUtf8(n)).toUtf8());
    names.remove(QByteArray());

    QList<ArchiveEntry> all;
    if (!IndexBlock::decode(block, all))
        return 0;
    IndexBlock again;
    for (const ArchiveEntry &e : all)
        again.add(e);
    QList<ArchiveEntry> twice;
    if (!IndexBlock::decode(again.bytes(), twice) || twice.size() != all.size())
        std::abort();
    for (qsizetype i = 0; i < all.size(); ++i)
        if (!same(all[i], twice[i]))
            std::abort(); // what was decoded is written back as it was
    if (names.isEmpty())
        return 0;
    QList<ArchiveEntry> picked;
    if (!IndexBlock::decode(again.bytes(), picked, &names))
        std::abort();
    QList<ArchiveEntry> expected;
    for (const ArchiveEntry &e : twice)
        if (selects(e.path, names))
            expected.append(e);
    if (picked.size() != expected.size())
        std::abort();
    for (qsizetype i = 0; i < picked.size(); ++i)
        if (!same(picked[i], expected[i]))
            std::abort();
    if (!picked.isEmpty() && !IndexBlock::mayHold(again.names(), names))
        std::abort(); // the block would be skipped although it holds a selected entry
    return 0;
}
