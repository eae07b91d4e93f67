#include "zipreader.h"

#include <QtEndian>

#include <sys/stat.h>
#include <zip.h>
#include <zlib.h>

namespace sparsescope {

struct ZipReader::SourceState {
    SparseDevice *device = nullptr;
    qint64 position = 0;
    zip_error_t error{};
    QString lastError; // our message for the last failed read
};

namespace {
zip_int64_t sourceCallback(void *userdata, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
    auto *s = static_cast<ZipReader::SourceState *>(userdata);
    switch (cmd) {
    case ZIP_SOURCE_OPEN:
        s->position = 0;
        return 0;
    case ZIP_SOURCE_READ: {
        const qint64 want = qint64(std::min<zip_uint64_t>(len, zip_uint64_t(std::max<qint64>(0, s->device->size() - s->position))));
        if (want == 0)
            return 0;
        auto bytes = s->device->read({s->position, s->position + want});
        if (!bytes) {
            s->lastError = bytes.error().message;
            zip_error_set(&s->error, ZIP_ER_READ, EIO);
            return -1;
        }
        std::memcpy(data, bytes->constData(), size_t(bytes->size()));
        s->position += bytes->size();
        return bytes->size();
    }
    case ZIP_SOURCE_CLOSE:
        return 0;
    case ZIP_SOURCE_STAT: {
        auto *st = static_cast<zip_stat_t *>(data);
        zip_stat_init(st);
        st->size = zip_uint64_t(s->device->size());
        st->valid |= ZIP_STAT_SIZE;
        return sizeof(zip_stat_t);
    }
    case ZIP_SOURCE_ERROR:
        return zip_error_to_data(&s->error, data, len);
    case ZIP_SOURCE_FREE:
        return 0;
    case ZIP_SOURCE_SEEK: {
        const zip_int64_t to = zip_source_seek_compute_offset(zip_uint64_t(s->position), zip_uint64_t(s->device->size()), data, len, &s->error);
        if (to < 0)
            return -1;
        s->position = to;
        return 0;
    }
    case ZIP_SOURCE_TELL:
        return s->position;
    case ZIP_SOURCE_SUPPORTS:
        return ZIP_SOURCE_SUPPORTS_SEEKABLE;
    default:
        zip_error_set(&s->error, ZIP_ER_OPNOTSUPP, 0);
        return -1;
    }
}

template <typename T>
T le(const QByteArray &b, qsizetype at) { return qFromLittleEndian<T>(b.constData() + at); }

// The modification time (Unix seconds, UTC) from the extra fields in [at, end) of a central
// directory record: the extended timestamp "UT" (0x5455: flags, then mtime as a signed 32-bit
// value when bit 0 is set) first, else NTFS (0x000a: attribute 1 holds mtime in 100 ns units since
// 1601-01-01). Info-ZIP's extrafld.txt; APPNOTE 4.5.5.
std::optional<qint64> extraFieldMtime(const QByteArray &cd, qsizetype at, qsizetype end)
{
    std::optional<qint64> ntfs;
    while (at + 4 <= end) {
        const quint16 id = le<quint16>(cd, at), len = le<quint16>(cd, at + 2);
        const qsizetype data = at + 4;
        if (data + len > end)
            break;
        if (id == 0x5455 && len >= 5 && (quint8(cd[data]) & 1))
            return qint64(le<qint32>(cd, data + 1));
        if (id == 0x000a && len >= 32) {
            qsizetype t = data + 4; // reserved
            while (t + 4 <= data + len) {
                const quint16 tag = le<quint16>(cd, t), size = le<quint16>(cd, t + 2);
                if (tag == 1 && size >= 24 && t + 4 + 8 <= data + len) {
                    const quint64 ticks = le<quint64>(cd, t + 4);
                    ntfs = qint64(ticks / 10000000ull) - 11644473600ll;
                    break;
                }
                t += 4 + size;
            }
        }
        at = data + len;
    }
    return ntfs;
}
} // namespace

ZipReader::ZipReader(SparseDevice &device) : m_device(device) {}

Status ZipReader::openLibzip()
{
    if (m_zip)
        return okStatus();
    m_state = std::make_unique<SourceState>();
    m_state->device = &m_device;
    zip_error_init(&m_state->error);
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t *src = zip_source_function_create(sourceCallback, m_state.get(), &error);
    if (!src)
        return makeError(ErrorKind::LocalIo, QStringLiteral("%1: libzip: %2").arg(m_device.name(), QString::fromUtf8(zip_error_strerror(&error))));
    m_zip = zip_open_from_source(src, ZIP_RDONLY, &error);
    if (!m_zip) {
        zip_source_free(src);
        const QString why = !m_state->lastError.isEmpty() ? m_state->lastError : QString::fromUtf8(zip_error_strerror(&error));
        return makeError(ErrorKind::Integrity, QStringLiteral("%1 is not a readable ZIP archive: %2").arg(m_device.name(), why));
    }
    return okStatus();
}

Result<std::unique_ptr<ZipReader>> ZipReader::open(SparseDevice &device)
{
    std::unique_ptr<ZipReader> r(new ZipReader(device));
    // The central directory in one read (libzip then reads it from the cache in small pieces); a
    // prefixed archive's directory lies elsewhere, and libzip finds it by itself. Errors wait:
    // libzip meets them first, and computeSpans() reports them otherwise.
    const Result<std::optional<Directory>> located = r->locateDirectory();
    Result<QByteArray> directory = QByteArray();
    if (located && *located)
        directory = device.read({(*located)->offset, (*located)->offset + (*located)->size});
    if (Status st = r->openLibzip(); !st)
        return st.error();
    const zip_int64_t n = zip_get_num_entries(r->m_zip, 0);
    for (zip_int64_t i = 0; i < n; ++i) {
        zip_stat_t st;
        if (zip_stat_index(r->m_zip, zip_uint64_t(i), ZIP_FL_ENC_GUESS, &st) != 0)
            continue;
        ArchiveEntry e;
        e.index = int(r->m_entries.size());
        e.path = QString::fromUtf8(st.name);
        e.size = (st.valid & ZIP_STAT_SIZE) ? qint64(st.size) : 0;
        e.compressedSize = (st.valid & ZIP_STAT_COMP_SIZE) ? qint64(st.comp_size) : -1;
        e.mtime = (st.valid & ZIP_STAT_MTIME) ? qint64(st.mtime) : 0;
        e.type = e.path.endsWith(u'/') ? ArchiveEntry::Type::Directory : ArchiveEntry::Type::File;
        e.method = (st.valid & ZIP_STAT_COMP_METHOD) ? int(st.comp_method) : -1;
        if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
            e.method = -1; // libzip says what it needs
        e.crc32 = (st.valid & ZIP_STAT_CRC) ? quint32(st.crc) : 0;
        zip_uint8_t opsys = 0;
        zip_uint32_t attributes = 0;
        if (zip_file_get_external_attributes(r->m_zip, zip_uint64_t(i), 0, &opsys, &attributes) == 0 && opsys == ZIP_OPSYS_UNIX) {
            const mode_t mode = mode_t(attributes >> 16);
            if (S_ISLNK(mode))
                e.type = ArchiveEntry::Type::Symlink;
            else if (S_ISDIR(mode))
                e.type = ArchiveEntry::Type::Directory;
            if (mode != 0)
                e.mode = int(mode & 07777);
        }
        r->m_entries.append(e);
    }
    if (Status st = r->computeSpans(located, directory); !st)
        return st.error();
    return r;
}

std::unique_ptr<ZipReader> ZipReader::fromIndex(SparseDevice &device, ArchiveListing listing)
{
    std::unique_ptr<ZipReader> r(new ZipReader(device));
    r->m_entries = std::move(listing.entries);
    return r;
}

ZipReader::~ZipReader()
{
    if (m_zip)
        zip_discard(m_zip);
}

bool ZipReader::endsWithDirectory(const QByteArray &tail)
{
    for (qsizetype i = tail.size() - 22; i >= 0; --i)
        if (le<quint32>(tail, i) == 0x06054b50 && i + 22 + le<quint16>(tail, i + 20) == tail.size())
            return true;
    return false;
}

Result<std::optional<ZipReader::Directory>> ZipReader::locateDirectory()
{
    // End of central directory (APPNOTE 4.3.16): within the last 64 KiB + 22 bytes.
    const qint64 size = m_device.size();
    const qint64 tailStart = std::max<qint64>(0, size - kTailBytes);
    auto tail = m_device.read({tailStart, size});
    if (!tail)
        return tail.error();
    qsizetype eocd = -1;
    for (qsizetype i = tail->size() - 22; i >= 0; --i)
        if (le<quint32>(*tail, i) == 0x06054b50) {
            eocd = i;
            break;
        }
    if (eocd < 0)
        return std::optional<Directory>();
    quint64 cdOffset = le<quint32>(*tail, eocd + 16);
    quint64 cdSize = le<quint32>(*tail, eocd + 12);
    if ((cdOffset == 0xffffffffu || cdSize == 0xffffffffu) && eocd >= 20 && le<quint32>(*tail, eocd - 20) == 0x07064b50) {
        // ZIP64 end of central directory locator (4.3.15) -> record (4.3.14).
        const quint64 recordAt = le<quint64>(*tail, eocd - 20 + 8);
        if (recordAt > quint64(size) - 56)
            return std::optional<Directory>();
        auto record = m_device.read({qint64(recordAt), qint64(recordAt) + 56});
        if (!record)
            return record.error();
        if (record->size() < 56 || le<quint32>(*record, 0) != 0x06064b50)
            return std::optional<Directory>();
        cdSize = le<quint64>(*record, 40);
        cdOffset = le<quint64>(*record, 48);
    }
    if (cdOffset > quint64(size) || cdSize > quint64(size) - cdOffset)
        return std::optional<Directory>();
    return std::optional<Directory>(Directory{qint64(cdOffset), qint64(cdSize)});
}

Status ZipReader::computeSpans(const Result<std::optional<Directory>> &located, const Result<QByteArray> &cd)
{
    if (!located)
        return located.error();
    if (!*located)
        return okStatus(); // libzip opened it, but we cannot place entries: leave spans empty
    if (!cd)
        return cd.error();
    const quint64 cdOffset = quint64((*located)->offset);
    QList<qint64> offsets, mtimes;
    qsizetype at = 0;
    while (at + 46 <= cd->size() && le<quint32>(*cd, at) == 0x02014b50 && offsets.size() < m_entries.size()) {
        const quint16 nameLen = le<quint16>(*cd, at + 28), extraLen = le<quint16>(*cd, at + 30), commentLen = le<quint16>(*cd, at + 32);
        quint64 offset = le<quint32>(*cd, at + 42);
        if (const auto mtime = extraFieldMtime(*cd, at + 46 + nameLen, std::min(cd->size(), at + 46 + nameLen + extraLen)))
            mtimes.append(*mtime);
        else
            mtimes.append(-1);
        if (offset == 0xffffffffu) {
            // ZIP64 extended information (4.5.3): the 8-byte fields present are those saturated above.
            qsizetype x = at + 46 + nameLen;
            const qsizetype end = std::min(cd->size(), x + extraLen);
            while (x + 4 <= end) {
                const quint16 id = le<quint16>(*cd, x), len = le<quint16>(*cd, x + 2);
                if (id == 0x0001) {
                    qsizetype f = x + 4;
                    if (le<quint32>(*cd, at + 24) == 0xffffffffu)
                        f += 8;
                    if (le<quint32>(*cd, at + 20) == 0xffffffffu)
                        f += 8;
                    if (f + 8 <= x + 4 + len)
                        offset = le<quint64>(*cd, f);
                    break;
                }
                x += 4 + len;
            }
        }
        offsets.append(qint64(offset));
        at += 46 + nameLen + extraLen + commentLen;
    }
    if (offsets.size() != m_entries.size())
        return okStatus();
    for (int i = 0; i < m_entries.size(); ++i)
        if (mtimes[i] >= 0)
            m_entries[i].mtime = mtimes[i];
    // An entry runs from its local header to the next local header (or the central directory).
    QList<qint64> sorted = offsets;
    sorted.append(qint64(cdOffset));
    std::sort(sorted.begin(), sorted.end());
    for (int i = 0; i < m_entries.size(); ++i) {
        const auto next = std::upper_bound(sorted.begin(), sorted.end(), offsets[i]);
        if (next != sorted.end())
            m_entries[i].span = ByteRange{offsets[i], *next};
    }
    return okStatus();
}

Status ZipReader::read(int index, const Sink &sink)
{
    const ArchiveEntry *found = findEntry(m_entries, index);
    if (!found || found->type != ArchiveEntry::Type::File)
        return makeError(ErrorKind::Usage, QStringLiteral("%1: entry %2 is not a regular file").arg(m_device.name()).arg(index));
    const ArchiveEntry &e = *found;
    if (e.span && e.compressedSize >= 0 && (e.method == ZIP_CM_STORE || e.method == ZIP_CM_DEFLATE))
        return readDirect(e, sink);
    return readWithLibzip(e, sink);
}

Status ZipReader::readDirect(const ArchiveEntry &e, const Sink &sink)
{
    auto damaged = [&](const QString &why) {
        return makeError(ErrorKind::Integrity, QStringLiteral("%1: entry \"%2\" is damaged: %3").arg(m_device.name(), e.path, why));
    };
    auto header = m_device.read({e.span->begin, e.span->begin + 30});
    if (!header)
        return header.error();
    if (header->size() < 30 || le<quint32>(*header, 0) != 0x04034b50)
        return damaged(QStringLiteral("no local header at offset %1").arg(e.span->begin));
    if (le<quint16>(*header, 6) & 1)
        return readWithLibzip(e, sink); // encrypted: libzip says what it needs
    const qint64 dataBegin = e.span->begin + 30 + le<quint16>(*header, 26) + le<quint16>(*header, 28);
    const qint64 dataEnd = dataBegin + e.compressedSize;
    if (dataEnd > m_device.size())
        return damaged(QStringLiteral("its data runs past the end of the archive"));
    const bool deflated = e.method == ZIP_CM_DEFLATE;
    z_stream z{};
    if (deflated && inflateInit2(&z, -MAX_WBITS) != Z_OK)
        return damaged(QStringLiteral("zlib: %1").arg(QString::fromUtf8(z.msg ? z.msg : "cannot initialise")));
    QByteArray out(deflated ? 256 << 10 : 0, Qt::Uninitialized);
    uLong crc = crc32(0, nullptr, 0);
    qint64 produced = 0;
    Status result = okStatus();
    bool streamEnd = !deflated;
    auto emit = [&](const char *data, qint64 length) {
        crc = crc32_z(crc, reinterpret_cast<const Bytef *>(data), size_t(length));
        produced += length;
        if (produced > e.size) {
            result = damaged(QStringLiteral("it holds more than its %1 bytes").arg(e.size));
            return false;
        }
        if (!sink(data, length)) {
            result = makeError(ErrorKind::Cancelled, QStringLiteral("%1: cancelled").arg(e.path));
            return false;
        }
        return true;
    };
    for (qint64 at = dataBegin; at < dataEnd && result;) {
        auto piece = m_device.readSome(at, dataEnd - at);
        if (!piece) {
            result = piece.error();
            break;
        }
        at += piece->size();
        if (!deflated) {
            emit(piece->constData(), piece->size());
            continue;
        }
        z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(piece->constData()));
        z.avail_in = uInt(piece->size());
        while (z.avail_in > 0 && result && !streamEnd) {
            z.next_out = reinterpret_cast<Bytef *>(out.data());
            z.avail_out = uInt(out.size());
            const int rc = inflate(&z, Z_NO_FLUSH);
            if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
                result = damaged(QStringLiteral("bad deflate data (%1)").arg(QString::fromUtf8(z.msg ? z.msg : "zlib error")));
                break;
            }
            const qint64 n = out.size() - qint64(z.avail_out);
            if (n > 0 && !emit(out.constData(), n))
                break;
            streamEnd = rc == Z_STREAM_END;
            if (rc == Z_BUF_ERROR && n == 0)
                break;
        }
    }
    if (deflated)
        inflateEnd(&z);
    if (!result)
        return result;
    if (!streamEnd)
        return damaged(QStringLiteral("its deflate stream ends early"));
    if (produced != e.size)
        return damaged(QStringLiteral("%1 bytes instead of %2").arg(produced).arg(e.size));
    if (quint32(crc) != e.crc32)
        return damaged(QStringLiteral("CRC-32 %1 instead of %2").arg(quint32(crc), 8, 16, QLatin1Char('0')).arg(e.crc32, 8, 16, QLatin1Char('0')));
    return okStatus();
}

Status ZipReader::readWithLibzip(const ArchiveEntry &e, const Sink &sink)
{
    if (Status st = openLibzip(); !st)
        return st;
    zip_file_t *f = zip_fopen_index(m_zip, zip_uint64_t(e.index), 0);
    if (!f)
        return makeError(ErrorKind::Integrity, QStringLiteral("%1: cannot open %2: %3")
                                                   .arg(m_device.name(), e.path, QString::fromUtf8(zip_strerror(m_zip))));
    QByteArray buf(256 << 10, Qt::Uninitialized);
    Status result = okStatus();
    while (true) {
        const zip_int64_t n = zip_fread(f, buf.data(), zip_uint64_t(buf.size()));
        if (n < 0) {
            const QString why = !m_state->lastError.isEmpty() ? m_state->lastError : QString::fromUtf8(zip_file_strerror(f));
            result = makeError(ErrorKind::Integrity, QStringLiteral("%1: reading %2 failed: %3").arg(m_device.name(), e.path, why));
            break;
        }
        if (n == 0)
            break;
        if (!sink(buf.constData(), n)) {
            result = makeError(ErrorKind::Cancelled, QStringLiteral("%1: cancelled").arg(e.path));
            break;
        }
    }
    zip_fclose(f);
    return result;
}

Status ZipReader::visit(const QList<int> &indices, const Visitor &visitor)
{
    QList<const ArchiveEntry *> order;
    for (int index : inArchiveOrder(indices)) {
        const ArchiveEntry *e = findEntry(m_entries, index);
        if (!e)
            return makeError(ErrorKind::Usage, QStringLiteral("%1 has no entry %2").arg(m_device.name()).arg(index));
        order.append(e);
    }
    // Archive order is the order of the local headers, which the central directory need not keep.
    std::stable_sort(order.begin(), order.end(), [&](const ArchiveEntry *a, const ArchiveEntry *b) {
        return (a->span ? a->span->begin : m_device.size()) < (b->span ? b->span->begin : m_device.size());
    });
    QList<ByteRange> plan;
    for (const ArchiveEntry *e : std::as_const(order))
        if (e->span && e->type != ArchiveEntry::Type::Directory)
            plan.append(*e->span);
    m_device.setReadAheadPlan(plan);
    for (const ArchiveEntry *e : std::as_const(order)) {
        const int index = e->index;
        ArchiveEntry entry = *e;
        if (entry.type == ArchiveEntry::Type::Symlink && entry.linkTarget.isEmpty()) {
            // A symlink's target is its body.
            QByteArray target;
            ArchiveEntry asFile = entry;
            asFile.type = ArchiveEntry::Type::File;
            const Status st = entry.span && (entry.method == ZIP_CM_STORE || entry.method == ZIP_CM_DEFLATE)
                                  ? readDirect(asFile, [&](const char *d, qint64 n) { target.append(d, n); return target.size() <= 4096; })
                                  : readWithLibzip(asFile, [&](const char *d, qint64 n) { target.append(d, n); return target.size() <= 4096; });
            if (st)
                entry.linkTarget = QString::fromUtf8(target);
        }
        bool used = false;
        const BodyReader body = [&](const Sink &sink) -> Status {
            if (std::exchange(used, true))
                return makeError(ErrorKind::Usage, QStringLiteral("%1: entry %2 was read already").arg(m_device.name(), entry.path));
            return read(index, sink);
        };
        if (Status st = visitor(entry, body); !st)
            return st;
    }
    return okStatus();
}

} // namespace sparsescope
