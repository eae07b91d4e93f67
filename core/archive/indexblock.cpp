#include "indexblock.h"

#include <algorithm>

namespace sparsescope {

namespace {
// LEB128: 7 bits a byte, low bits first; at most 10 bytes. Returns the end of what it wrote.
char *putVarint(char *out, quint64 v)
{
    while (v >= 0x80) {
        *out++ = char(v | 0x80);
        v >>= 7;
    }
    *out++ = char(v);
    return out;
}

char *putSigned(char *out, qint64 v) { return putVarint(out, (quint64(v) << 1) ^ quint64(v >> 63)); } // zigzag

char *putRaw(char *out, QByteArrayView bytes) { return std::copy_n(bytes.data(), bytes.size(), out); }

// Reads fields from [at, end); any read past `end` makes ok() false (and yields zeros).
struct Reader {
    const char *at;
    const char *end;
    bool good = true;

    quint64 varint()
    {
        quint64 v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (at >= end)
                break;
            const auto byte = quint8(*at++);
            v |= quint64(byte & 0x7f) << shift;
            if (!(byte & 0x80))
                return v;
        }
        good = false;
        return 0;
    }
    int byte() // 0-255, or -1 past the end
    {
        if (at >= end) {
            good = false;
            return -1;
        }
        return quint8(*at++);
    }
    qint64 signedVarint()
    {
        const quint64 v = varint();
        return qint64(v >> 1) ^ -qint64(v & 1);
    }
    QByteArrayView bytes()
    {
        const quint64 n = varint();
        if (!good || n > quint64(end - at)) {
            good = false;
            return {};
        }
        const QByteArrayView view(at, qsizetype(n));
        at += n;
        return view;
    }
};

// ArchiveEntry::normalizedPath of UTF-8 bytes.
QByteArrayView normalized(QByteArrayView path)
{
    while (path.startsWith("./"))
        path = path.sliced(2);
    while (path.endsWith('/'))
        path.chop(1);
    return path;
}

// Whether the normalized form of `path` is one of `names` or lies below one of them.
bool selected(QByteArrayView path, const QSet<QByteArray> &names)
{
    path = normalized(path);
    if (names.size() <= 8) { // a few names (the usual extract): compared, not hashed
        for (const QByteArray &name : names)
            if (path.startsWith(name) && (path.size() == name.size() || path[name.size()] == '/'))
                return true;
        return false;
    }
    if (names.contains(QByteArray::fromRawData(path.data(), path.size())))
        return true;
    for (qsizetype i = 0; i < path.size(); ++i)
        if (path[i] == '/' && names.contains(QByteArray::fromRawData(path.data(), i)))
            return true;
    return false;
}
} // namespace

void IndexBlock::add(const ArchiveEntry &e)
{
    // A record: the path (length, bytes), then the other fields (length, bytes) — made in place
    // at the end of m_bytes, a few appends of QByteArray each were 4 % of a tar walk.
    const QByteArray path = e.path.toUtf8();
    const QByteArray link = e.linkTarget.toUtf8();
    char before[7 * 10]; // the fields before the link target: seven varints of at most 10 bytes
    char *b = putVarint(before, quint64(e.index));
    b = putVarint(b, quint64(e.type));
    b = putSigned(b, e.size);
    b = putSigned(b, e.compressedSize);
    b = putSigned(b, e.mtime);
    b = putSigned(b, e.mode);
    b = putVarint(b, quint64(link.size()));
    char after[2 + 4 * 10]; // those after it: two flags and four varints
    char *a = after;
    *a++ = char(e.span ? 1 : 0);
    if (e.span) {
        a = putSigned(a, e.span->begin);
        a = putSigned(a, e.span->end - e.span->begin); // not length(), which is never negative
    }
    *a++ = char(e.complete ? 1 : 0);
    a = putSigned(a, e.method);
    a = putVarint(a, e.crc32);
    const qsizetype restLength = (b - before) + link.size() + (a - after);
    const qsizetype at = m_bytes.size();
    m_bytes.resize(at + 10 + path.size() + 10 + restLength); // the most the record can take
    char *out = putVarint(m_bytes.data() + at, quint64(path.size()));
    out = putRaw(out, path);
    out = putVarint(out, quint64(restLength));
    out = putRaw(out, QByteArrayView(before, b - before));
    out = putRaw(out, link);
    out = putRaw(out, QByteArrayView(after, a - after));
    m_bytes.resize(out - m_bytes.constData()); // keeps the capacity
    if (m_names.isEmpty())
        m_names.append('\0');
    m_names.append(normalized(path));
    m_names.append('\0');
    ++m_count;
}

bool IndexBlock::mayHold(QByteArrayView names, const QSet<QByteArray> &selection)
{
    QByteArray needle;
    for (const QByteArray &name : selection) {
        // "\0name\0" is the name itself, "\0name/" something below it.
        needle = '\0' + name + '\0';
        if (names.indexOf(needle) >= 0)
            return true;
        needle.back() = '/';
        if (names.indexOf(needle) >= 0)
            return true;
    }
    return false;
}

bool IndexBlock::decode(QByteArrayView block, QList<ArchiveEntry> &out, const QSet<QByteArray> *names)
{
    Reader in{block.data(), block.data() + block.size()};
    while (in.good && in.at < in.end) {
        const QByteArrayView path = in.bytes();
        const QByteArrayView rest = in.bytes();
        if (!in.good)
            return false;
        if (names && !selected(path, *names))
            continue;
        Reader f{rest.data(), rest.data() + rest.size()};
        ArchiveEntry e;
        e.path = QString::fromUtf8(path);
        e.index = int(f.varint());
        const quint64 type = f.varint();
        if (type > quint64(ArchiveEntry::Type::Other))
            return false;
        e.type = ArchiveEntry::Type(type);
        e.size = f.signedVarint();
        e.compressedSize = f.signedVarint();
        e.mtime = f.signedVarint();
        e.mode = int(f.signedVarint());
        e.linkTarget = QString::fromUtf8(f.bytes());
        const int hasSpan = f.byte();
        if (hasSpan == 1) {
            const qint64 begin = f.signedVarint(), length = f.signedVarint();
            qint64 end = 0;
            if (__builtin_add_overflow(begin, length, &end)) // stored as begin and end - begin
                return false;
            e.span = ByteRange{begin, end};
        } else if (hasSpan != 0) {
            return false;
        }
        const int complete = f.byte();
        if (complete != 0 && complete != 1)
            return false;
        e.complete = complete == 1;
        e.method = int(f.signedVarint());
        e.crc32 = quint32(f.varint());
        if (!f.good || f.at != f.end)
            return false;
        out.append(std::move(e));
    }
    return in.good;
}

} // namespace sparsescope
