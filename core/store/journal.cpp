#include "journal.h"
#include "fileutil.h"

#include <QFile>

#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

namespace sparsescope::journal {

namespace {
constexpr quint32 kMagic = 0x314a5353; // "SSJ1" little-endian
constexpr int kFormat = 2;    // written; format 1 (writer always 0, no Reset) is read too

template <typename T>
void put(char *p, T v) { std::memcpy(p, &v, sizeof v); }
template <typename T>
T get(const char *p) { T v; std::memcpy(&v, p, sizeof v); return v; }
} // namespace

QByteArray encode(const JournalRecord &record)
{
    QByteArray out(kRecordSize, Qt::Uninitialized);
    char *p = out.data();
    put<quint32>(p, kMagic);
    put<quint16>(p + 4, record.type);
    put<quint16>(p + 6, record.writer);
    put<quint64>(p + 8, record.chunk);
    put<quint64>(p + 16, record.arg);
    put<quint64>(p + 24, XXH3_64bits(p, 24));
    return out;
}

bool decode(const char *p, JournalRecord *out)
{
    if (get<quint32>(p) != kMagic || get<quint64>(p + 24) != XXH3_64bits(p, 24))
        return false;
    out->type = get<quint16>(p + 4);
    out->writer = get<quint16>(p + 6);
    out->chunk = get<quint64>(p + 8);
    out->arg = get<quint64>(p + 16);
    return out->type <= JournalRecord::Packed;
}

JournalState replay(const QByteArray &bytes, qint64 chunkCount, qint64 chunkSize)
{
    JournalState s;
    s.present.resize(chunkCount);
    s.checksums.resize(chunkCount);
    s.packed.resize(chunkCount);
    const qint64 n = bytes.size() / kRecordSize;
    // First pass: the decodable prefix after a valid header, and its last Reset.
    qint64 end = 0, lastReset = 0;
    for (qint64 i = 0; i < n; ++i) {
        JournalRecord r;
        if (!decode(bytes.constData() + i * kRecordSize, &r))
            break;
        if (i == 0 && (r.type != JournalRecord::Header || (r.chunk != 1 && r.chunk != quint64(kFormat)) || r.arg != quint64(chunkSize)))
            break;
        if (i > 0 && r.type == JournalRecord::Header)
            break; // a second header
        if (r.type == JournalRecord::Reset)
            lastReset = i;
        end = i + 1;
    }
    // Second pass: what came after the last Reset, against this object's chunks.
    s.validRecords = std::min<qint64>(end, lastReset + 1);
    for (qint64 i = std::max<qint64>(1, lastReset + 1); i < end; ++i) {
        JournalRecord r;
        decode(bytes.constData() + i * kRecordSize, &r);
        if (r.type == JournalRecord::Present || r.type == JournalRecord::Packed) {
            if (r.chunk >= quint64(chunkCount))
                break;
            s.present.set(qint64(r.chunk));
            s.checksums.set(qint64(r.chunk), r.arg);
            if (r.type == JournalRecord::Packed)
                s.packed.set(qint64(r.chunk));
            else
                s.packed.reset(qint64(r.chunk));
        } else if (r.type == JournalRecord::Evict) {
            if (r.arg == 0 || r.chunk >= quint64(chunkCount) || r.arg > quint64(chunkCount) - r.chunk)
                break;
            s.present.resetSpan(qint64(r.chunk), qint64(r.chunk + r.arg) - 1);
            s.packed.resetSpan(qint64(r.chunk), qint64(r.chunk + r.arg) - 1);
        }
        s.validRecords = i + 1;
    }
    s.validBytes = s.validRecords * kRecordSize;
    s.droppedBytes = bytes.size() - s.validBytes;
    return s;
}

Result<JournalState> load(const QString &path, qint64 chunkCount, qint64 chunkSize, bool repair)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot read coverage journal %1: %2").arg(path, f.errorString()));
    // Replayed in place from a read-only mapping (mmap(2)): copying a journal of a million
    // records out first cost more than replaying it.
    JournalState s;
    const qint64 size = f.size();
    uchar *mapped = size > 0 ? f.map(0, size) : nullptr;
    if (mapped) {
        s = replay(QByteArray::fromRawData(reinterpret_cast<const char *>(mapped), size), chunkCount, chunkSize);
        f.unmap(mapped);
    } else {
        s = replay(f.readAll(), chunkCount, chunkSize);
    }
    f.close();
    if (repair && (s.droppedBytes > 0 || s.validRecords == 0)) {
        if (s.validRecords == 0) {
            // Not even a header survived: start an empty journal.
            ChunkBitmap none(chunkCount);
            ChecksumTable noSums;
            noSums.resize(chunkCount);
            if (Status st = rewrite(path, chunkSize, none, noSums, none); !st)
                return st.error();
            s.packed = none;
            s.present = std::move(none);
            s.validRecords = 1;
            s.validBytes = kRecordSize;
        } else {
            const int fd = ::open(QFile::encodeName(path).constData(), O_WRONLY | O_CLOEXEC);
            if (fd < 0 || ::ftruncate(fd, s.validBytes) != 0 || ::fsync(fd) != 0) {
                const int err = errno;
                if (fd >= 0)
                    ::close(fd);
                return makeError(ErrorKind::LocalIo, QStringLiteral("cannot truncate the torn tail of %1: %2").arg(path, errnoText(err)));
            }
            ::close(fd);
        }
    }
    return s;
}

Status rewrite(const QString &path, qint64 chunkSize, const ChunkBitmap &present, const ChecksumTable &checksums, const ChunkBitmap &packed)
{
    QByteArray bytes;
    bytes.reserve((present.count() + 1) * kRecordSize);
    bytes += encode({JournalRecord::Header, quint64(kFormat), quint64(chunkSize)});
    for (qint64 i = present.nextSet(0); i < present.size(); i = present.nextSet(i + 1))
        bytes += encode({i < packed.size() && packed.test(i) ? JournalRecord::Packed : JournalRecord::Present, quint64(i), checksums.get(i)});
    return writeFileAtomically(path, bytes);
}

} // namespace sparsescope::journal
