#include "zipreader.h"

#include <QtEndian>

#include <sys/stat.h>
#include <zip.h>

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
} // namespace

ZipReader::ZipReader(SparseDevice &device) : m_device(device) {}

Result<std::unique_ptr<ZipReader>> ZipReader::open(SparseDevice &device)
{
    std::unique_ptr<ZipReader> r(new ZipReader(device));
    r->m_state = std::make_unique<SourceState>();
    r->m_state->device = &device;
    zip_error_init(&r->m_state->error);
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t *src = zip_source_function_create(sourceCallback, r->m_state.get(), &error);
    if (!src)
        return makeError(ErrorKind::LocalIo, QStringLiteral("%1: libzip: %2").arg(device.name(), QString::fromUtf8(zip_error_strerror(&error))));
    r->m_zip = zip_open_from_source(src, ZIP_RDONLY, &error);
    if (!r->m_zip) {
        zip_source_free(src);
        const QString why = !r->m_state->lastError.isEmpty() ? r->m_state->lastError : QString::fromUtf8(zip_error_strerror(&error));
        return makeError(ErrorKind::Integrity, QStringLiteral("%1 is not a readable ZIP archive: %2").arg(device.name(), why));
    }
    const zip_int64_t n = zip_get_num_entries(r->m_zip, 0);
    for (zip_int64_t i = 0; i < n; ++i) {
        zip_stat_t st;
        if (zip_stat_index(r->m_zip, zip_uint64_t(i), ZIP_FL_ENC_GUESS, &st) != 0)
            continue;
        ArchiveEntry e;
        e.index = int(i);
        e.path = QString::fromUtf8(st.name);
        e.size = (st.valid & ZIP_STAT_SIZE) ? qint64(st.size) : 0;
        e.compressedSize = (st.valid & ZIP_STAT_COMP_SIZE) ? qint64(st.comp_size) : -1;
        e.mtime = (st.valid & ZIP_STAT_MTIME) ? qint64(st.mtime) : 0;
        e.type = e.path.endsWith(u'/') ? ArchiveEntry::Type::Directory : ArchiveEntry::Type::File;
        zip_uint8_t opsys = 0;
        zip_uint32_t attributes = 0;
        if (zip_file_get_external_attributes(r->m_zip, zip_uint64_t(i), 0, &opsys, &attributes) == 0 && opsys == ZIP_OPSYS_UNIX) {
            const mode_t mode = mode_t(attributes >> 16);
            if (S_ISLNK(mode))
                e.type = ArchiveEntry::Type::Symlink;
            else if (S_ISDIR(mode))
                e.type = ArchiveEntry::Type::Directory;
        }
        r->m_entries.append(e);
    }
    if (Status st = r->computeSpans(); !st)
        return st.error();
    return r;
}

ZipReader::~ZipReader()
{
    if (m_zip)
        zip_discard(m_zip);
}

Status ZipReader::computeSpans()
{
    // End of central directory (APPNOTE 4.3.16): within the last 64 KiB + 22 bytes.
    const qint64 size = m_device.size();
    const qint64 tailStart = std::max<qint64>(0, size - (65535 + 22));
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
        return okStatus(); // libzip opened it, but we cannot place entries: leave spans empty
    quint64 cdOffset = le<quint32>(*tail, eocd + 16);
    quint64 cdSize = le<quint32>(*tail, eocd + 12);
    if ((cdOffset == 0xffffffffu || cdSize == 0xffffffffu) && eocd >= 20 && le<quint32>(*tail, eocd - 20) == 0x07064b50) {
        // ZIP64 end of central directory locator (4.3.15) -> record (4.3.14).
        const quint64 recordAt = le<quint64>(*tail, eocd - 20 + 8);
        auto record = m_device.read({qint64(recordAt), qint64(recordAt) + 56});
        if (!record || record->size() < 56 || le<quint32>(*record, 0) != 0x06064b50)
            return okStatus();
        cdSize = le<quint64>(*record, 40);
        cdOffset = le<quint64>(*record, 48);
    }
    if (cdOffset + cdSize > quint64(size))
        return okStatus();
    auto cd = m_device.read({qint64(cdOffset), qint64(cdOffset + cdSize)});
    if (!cd)
        return cd.error();
    QList<qint64> offsets;
    qsizetype at = 0;
    while (at + 46 <= cd->size() && le<quint32>(*cd, at) == 0x02014b50 && offsets.size() < m_entries.size()) {
        const quint16 nameLen = le<quint16>(*cd, at + 28), extraLen = le<quint16>(*cd, at + 30), commentLen = le<quint16>(*cd, at + 32);
        quint64 offset = le<quint32>(*cd, at + 42);
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
    if (index < 0 || index >= m_entries.size() || m_entries[index].type != ArchiveEntry::Type::File)
        return makeError(ErrorKind::Usage, QStringLiteral("%1: entry %2 is not a regular file").arg(m_device.name()).arg(index));
    zip_file_t *f = zip_fopen_index(m_zip, zip_uint64_t(index), 0);
    if (!f)
        return makeError(ErrorKind::Integrity, QStringLiteral("%1: cannot open %2: %3")
                                                   .arg(m_device.name(), m_entries[index].path, QString::fromUtf8(zip_strerror(m_zip))));
    QByteArray buf(256 << 10, Qt::Uninitialized);
    Status result = okStatus();
    while (true) {
        const zip_int64_t n = zip_fread(f, buf.data(), zip_uint64_t(buf.size()));
        if (n < 0) {
            const QString why = !m_state->lastError.isEmpty() ? m_state->lastError : QString::fromUtf8(zip_file_strerror(f));
            result = makeError(ErrorKind::Integrity, QStringLiteral("%1: reading %2 failed: %3").arg(m_device.name(), m_entries[index].path, why));
            break;
        }
        if (n == 0)
            break;
        if (!sink(buf.constData(), n)) {
            result = makeError(ErrorKind::Cancelled, QStringLiteral("%1: cancelled").arg(m_entries[index].path));
            break;
        }
    }
    zip_fclose(f);
    return result;
}

} // namespace sparsescope
