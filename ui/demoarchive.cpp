#include "demoarchive.h"
#include "fileutil.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QStandardPaths>

#include <cstring>

namespace sparsescope::demo {

namespace {
constexpr int kEntries = 48;
constexpr qint64 kBlock = 512;

qint64 entrySize(int i)
{
    static const qint64 sizes[] = {180 << 10, 700 << 10, 1 << 20, 1536 << 10, 300 << 10, 2 << 20};
    return sizes[i % 6] + i * 1237;
}

QString entryName(int i)
{
    static const char *dirs[] = {"docs", "logs", "data", "images"};
    static const char *ext[] = {"txt", "log", "bin", "raw"};
    return QStringLiteral("sparsescope-demo/%1/part-%2.%3")
        .arg(QLatin1String(dirs[i % 4])).arg(i, 2, 10, QLatin1Char('0')).arg(QLatin1String(ext[i % 4]));
}

QByteArray header(const QString &name, qint64 size)
{
    QByteArray h(kBlock, '\0');
    auto put = [&](int offset, const QByteArray &value) { std::memcpy(h.data() + offset, value.constData(), size_t(value.size())); };
    put(0, name.toUtf8().left(99));
    put(100, "0000644");
    put(108, "0001750");
    put(116, "0001750");
    put(124, QByteArray::number(size, 8).rightJustified(11, '0'));
    put(136, QByteArray::number(qint64(1767225600), 8).rightJustified(11, '0')); // 2026-01-01
    h[156] = '0';
    put(257, QByteArray("ustar\0", 6));
    put(263, "00");
    put(265, "sparsescope");
    put(297, "sparsescope");
    std::memset(h.data() + 148, ' ', 8);
    unsigned sum = 0;
    for (char c : h)
        sum += uchar(c);
    put(148, QByteArray::number(sum, 8).rightJustified(6, '0') + QByteArray("\0 ", 2));
    return h;
}

QByteArray body(int i, qint64 size)
{
    QByteArray out;
    out.reserve(size);
    if (i % 4 == 2 || i % 4 == 3) { // binary entries
        QRandomGenerator gen(quint32(1000 + i));
        out.resize(size);
        for (qint64 k = 0; k + 4 <= size; k += 4) {
            const quint32 v = gen.generate();
            std::memcpy(out.data() + k, &v, 4);
        }
        return out;
    }
    qint64 line = 0;
    while (out.size() < size)
        out += QStringLiteral("%1 line %2: SparseScope fetched only the chunks this entry needed.\n")
                   .arg(entryName(i)).arg(++line, 6, 10, QLatin1Char('0')).toUtf8();
    out.truncate(size);
    return out;
}

qint64 padded(qint64 n) { return (n + kBlock - 1) / kBlock * kBlock; }
} // namespace

QList<Entry> entries()
{
    QList<Entry> out;
    qint64 at = 0;
    for (int i = 0; i < kEntries; ++i) {
        out.append({entryName(i), at, entrySize(i)});
        at += kBlock + padded(entrySize(i));
    }
    return out;
}

QString archivePath()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/demo/sparsescope-demo.tar");
}

Status ensureArchive(const QString &path)
{
    const QList<Entry> list = entries();
    const qint64 total = list.last().headerOffset + kBlock + padded(list.last().size) + 2 * kBlock;
    if (QFileInfo(path).size() == total)
        return okStatus();
    if (Status st = makePrivateDirectory(QFileInfo(path).absolutePath()); !st)
        return st;
    QByteArray archive;
    archive.reserve(total);
    for (int i = 0; i < list.size(); ++i) {
        archive += header(list[i].name, list[i].size);
        archive += body(i, list[i].size);
        archive += QByteArray(padded(list[i].size) - list[i].size, '\0');
    }
    archive += QByteArray(2 * kBlock, '\0'); // end-of-archive marker
    return writeFileAtomically(path, archive);
}

} // namespace sparsescope::demo
