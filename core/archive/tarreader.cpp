#include "tarreader.h"
#include "rangeparse.h"

#include <archive.h>
#include <archive_entry.h>

namespace sparsescope {

namespace {
la_ssize_t readCallback(archive *, void *client, const void **buffer)
{
    auto *s = static_cast<TarReader::Stream *>(client);
    auto bytes = s->device->readSome(s->position, 64 << 10);
    if (!bytes) {
        s->lastError = bytes.error().message;
        return -1;
    }
    s->buffer = std::move(bytes).value();
    s->position += s->buffer.size();
    *buffer = s->buffer.constData();
    return s->buffer.size();
}

la_int64_t skipCallback(archive *, void *client, la_int64_t request)
{
    auto *s = static_cast<TarReader::Stream *>(client);
    const la_int64_t n = std::min<la_int64_t>(request, s->device->size() - s->position);
    s->position += n;
    return n;
}

la_int64_t seekCallback(archive *, void *client, la_int64_t offset, int whence)
{
    auto *s = static_cast<TarReader::Stream *>(client);
    qint64 to = whence == SEEK_SET ? offset : whence == SEEK_CUR ? s->position + offset : s->device->size() + offset;
    if (to < 0 || to > s->device->size())
        return ARCHIVE_FATAL;
    s->position = to;
    return to;
}

ArchiveEntry::Type typeOf(archive_entry *e)
{
    switch (archive_entry_filetype(e)) {
    case AE_IFREG: return ArchiveEntry::Type::File;
    case AE_IFDIR: return ArchiveEntry::Type::Directory;
    case AE_IFLNK: return ArchiveEntry::Type::Symlink;
    default: return ArchiveEntry::Type::Other;
    }
}
} // namespace

Result<archive *> TarReader::start()
{
    m_stream = Stream{&m_device, 0, {}, {}};
    archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    archive_read_support_filter_all(a);
    archive_read_set_read_callback(a, readCallback);
    archive_read_set_skip_callback(a, skipCallback);
    archive_read_set_seek_callback(a, seekCallback);
    archive_read_set_callback_data(a, &m_stream);
    if (archive_read_open1(a) != ARCHIVE_OK) {
        const QString why = !m_stream.lastError.isEmpty() ? m_stream.lastError : QString::fromUtf8(archive_error_string(a));
        archive_read_free(a);
        return makeError(ErrorKind::Integrity, QStringLiteral("%1 is not a readable tar archive: %2").arg(m_device.name(), why));
    }
    return a;
}

Result<std::unique_ptr<TarReader>> TarReader::open(SparseDevice &device, bool sequential)
{
    std::unique_ptr<TarReader> r(new TarReader(device));
    auto a = r->start();
    if (!a)
        return a.error();
    r->m_archive = *a;
    // A decompression filter means the entries can only be found by reading the whole stream.
    const bool compressed = archive_filter_count(r->m_archive) > 1;
    if (compressed) {
        const QString filter = QString::fromUtf8(archive_filter_name(r->m_archive, 0));
        r->m_format = QStringLiteral("tar.%1").arg(filter);
        if (!sequential)
            return makeError(ErrorKind::Usage,
                             QStringLiteral("%1 is a %2-compressed tar: its entries can only be found by reading the whole "
                                            "stream (%3); run again with --sequential to read it from start to end")
                                 .arg(device.name(), filter, formatBytes(device.size())));
    }
    archive_entry *entry = nullptr;
    int rc = ARCHIVE_OK;
    int index = 0;
    while ((rc = archive_read_next_header(r->m_archive, &entry)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
        ArchiveEntry e;
        e.index = index++;
        const char *utf8 = archive_entry_pathname_utf8(entry);
        e.path = utf8 ? QString::fromUtf8(utf8) : QString::fromLocal8Bit(archive_entry_pathname(entry));
        e.type = typeOf(entry);
        e.size = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : 0;
        e.mtime = archive_entry_mtime_is_set(entry) ? archive_entry_mtime(entry) : 0;
        if (e.type == ArchiveEntry::Type::Symlink && archive_entry_symlink_utf8(entry))
            e.linkTarget = QString::fromUtf8(archive_entry_symlink_utf8(entry));
        if (!compressed)
            e.span = ByteRange{archive_read_header_position(r->m_archive), 0};
        r->m_entries.append(e);
        if (archive_read_data_skip(r->m_archive) != ARCHIVE_OK)
            break;
    }
    if (rc == ARCHIVE_FATAL) {
        const QString why = !r->m_stream.lastError.isEmpty() ? r->m_stream.lastError : QString::fromUtf8(archive_error_string(r->m_archive));
        return makeError(ErrorKind::Integrity, QStringLiteral("%1: the tar archive is damaged after %2 entries: %3")
                                                   .arg(device.name()).arg(r->m_entries.size()).arg(why));
    }
    // An entry runs from its header (with any pax/GNU extension headers) to the next one.
    for (int i = 0; i < r->m_entries.size(); ++i) {
        if (!r->m_entries[i].span)
            continue;
        const qint64 begin = r->m_entries[i].span->begin;
        const qint64 end = i + 1 < r->m_entries.size() && r->m_entries[i + 1].span
                               ? r->m_entries[i + 1].span->begin
                               : std::min(device.size(), begin + 512 + (r->m_entries[i].size + 511) / 512 * 512);
        r->m_entries[i].span = ByteRange{begin, end};
    }
    return r;
}

TarReader::~TarReader()
{
    if (m_archive)
        archive_read_free(m_archive);
}

Status TarReader::read(int index, const Sink &sink)
{
    if (index < 0 || index >= m_entries.size() || m_entries[index].type != ArchiveEntry::Type::File)
        return makeError(ErrorKind::Usage, QStringLiteral("%1: entry %2 is not a regular file").arg(m_device.name()).arg(index));
    // Walk the headers again (they are in the cache now) and stream the one entry.
    archive_read_free(m_archive);
    m_archive = nullptr;
    auto a = start();
    if (!a)
        return a.error();
    m_archive = *a;
    archive_entry *entry = nullptr;
    for (int i = 0; i <= index; ++i) {
        const int rc = archive_read_next_header(m_archive, &entry);
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
            return makeError(ErrorKind::Integrity, QStringLiteral("%1: entry %2 vanished: %3")
                                                       .arg(m_device.name(), m_entries[index].path, QString::fromUtf8(archive_error_string(m_archive))));
        if (i < index && archive_read_data_skip(m_archive) != ARCHIVE_OK)
            return makeError(ErrorKind::Integrity, QStringLiteral("%1: %2").arg(m_device.name(), QString::fromUtf8(archive_error_string(m_archive))));
    }
    QByteArray buf(256 << 10, Qt::Uninitialized);
    while (true) {
        const la_ssize_t n = archive_read_data(m_archive, buf.data(), size_t(buf.size()));
        if (n < 0) {
            const QString why = !m_stream.lastError.isEmpty() ? m_stream.lastError : QString::fromUtf8(archive_error_string(m_archive));
            return makeError(ErrorKind::Integrity, QStringLiteral("%1: reading %2 failed: %3").arg(m_device.name(), m_entries[index].path, why));
        }
        if (n == 0)
            return okStatus();
        if (!sink(buf.constData(), n))
            return makeError(ErrorKind::Cancelled, QStringLiteral("%1: cancelled").arg(m_entries[index].path));
    }
}

} // namespace sparsescope
