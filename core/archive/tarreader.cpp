#include "tarreader.h"
#include "archiveindex.h"
#include "logging.h"
#include "rangeparse.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>

namespace sparsescope {

namespace {
la_ssize_t readCallback(archive *, void *client, const void **buffer)
{
    auto *s = static_cast<TarReader::Stream *>(client);
    // Up to the end of the chunk, asked for from the chunk's start: the device's chunk buffer
    // itself, shared rather than copied (a read from the middle of a chunk, where a skip ends,
    // was a copy of the rest of it; 64 KiB pieces were each a copy).
    const qint64 from = s->pipe ? s->position : s->position / s->device->chunkSize() * s->device->chunkSize();
    auto bytes = s->pipe ? s->pipe->next() : s->device->readSome(from, s->device->size() - from);
    if (!bytes) {
        s->lastError = bytes.error().message;
        return -1;
    }
    s->buffer = std::move(bytes).value();
    const qint64 skip = std::min<qint64>(s->position - from, s->buffer.size());
    s->position += s->buffer.size() - skip;
    *buffer = s->buffer.constData() + skip;
    return s->buffer.size() - skip;
}

la_int64_t skipCallback(archive *, void *client, la_int64_t request)
{
    auto *s = static_cast<TarReader::Stream *>(client);
    if (s->pipe)
        return 0; // a pipe cannot skip: libarchive reads through
    // Never past the end: libarchive then knows the archive is truncated.
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
    if (archive_entry_hardlink(e))
        return ArchiveEntry::Type::Hardlink;
    switch (archive_entry_filetype(e)) {
    case AE_IFREG: return ArchiveEntry::Type::File;
    case AE_IFDIR: return ArchiveEntry::Type::Directory;
    case AE_IFLNK: return ArchiveEntry::Type::Symlink;
    default: return ArchiveEntry::Type::Other;
    }
}

QString pathOf(archive_entry *entry)
{
    // Most names are ASCII, the same bytes in the locale's charset as in UTF-8: taken as they are.
    // libarchive's UTF-8 form goes through wide characters (mbrtowc per byte: 4 % of a listing).
    if (const char *stored = archive_entry_pathname(entry)) {
        const QByteArrayView bytes(stored);
        if (std::all_of(bytes.begin(), bytes.end(), [](char c) { return uchar(c) < 0x80; }))
            return QString::fromLatin1(bytes);
    }
    const char *utf8 = archive_entry_pathname_utf8(entry);
    return utf8 ? QString::fromUtf8(utf8) : QString::fromLocal8Bit(archive_entry_pathname(entry));
}
} // namespace

QString TarReader::archiveError() const
{
    return !m_stream.lastError.isEmpty() ? m_stream.lastError : QString::fromUtf8(archive_error_string(m_archive));
}

Status TarReader::start(qint64 offset)
{
    if (m_archive)
        archive_read_free(m_archive);
    m_next = -1;
    m_pipe.reset();
    if (m_xz) { // a new pass from the start, decompressed on the pipe's thread, which owns the device from now on
        m_device.setReadAheadPlan({ByteRange{0, m_device.size()}});
        m_pipe = std::make_unique<XzPipe>(m_device);
    }
    m_stream = Stream{&m_device, offset, {}, {}, m_pipe.get()};
    m_archive = archive_read_new();
    archive_read_support_format_tar(m_archive);
    archive_read_support_format_gnutar(m_archive);
    archive_read_support_filter_all(m_archive);
    archive_read_set_read_callback(m_archive, readCallback);
    archive_read_set_skip_callback(m_archive, skipCallback);
    if (!m_pipe)
        archive_read_set_seek_callback(m_archive, seekCallback);
    archive_read_set_callback_data(m_archive, &m_stream);
    if (archive_read_open1(m_archive) != ARCHIVE_OK) {
        const QString why = archiveError();
        archive_read_free(m_archive);
        m_archive = nullptr;
        return makeError(ErrorKind::Integrity, QStringLiteral("%1 is not a readable tar archive: %2").arg(m_device.name(), why));
    }
    return okStatus();
}

Result<std::unique_ptr<TarReader>> TarReader::open(SparseDevice &device, bool sequential, bool listLater, Listed onListed)
{
    std::unique_ptr<TarReader> r(new TarReader(device));
    r->m_onListed = std::move(onListed);
    // xz, the slowest to decompress, is decompressed on a thread of its own (xzpipe.h); other
    // filters (gzip, bzip2, zstd, ...) by libarchive on this thread.
    r->m_xz = sequential && XzPipe::looksLikeXz(device);
    if (r->m_xz)
        r->m_format = QStringLiteral("tar.xz");
    if (Status st = r->start(0); !st)
        return st.error();
    // A decompression filter means the entries can only be found by reading the whole stream.
    if (archive_filter_count(r->m_archive) > 1) {
        const QString filter = QString::fromUtf8(archive_filter_name(r->m_archive, 0));
        r->m_format = QStringLiteral("tar.%1").arg(filter);
        if (!sequential)
            return makeError(ErrorKind::Usage,
                             QStringLiteral("%1 is a %2-compressed tar: its entries can only be found by reading the whole "
                                            "stream (%3); run again with --sequential to read it from start to end")
                                 .arg(device.name(), filter, formatBytes(device.size())));
    }
    if (listLater) {
        r->m_listed = false;
        return r;
    }
    const Status st = r->walk({});
    r->m_onListed = nullptr; // only the listing's walk
    if (!st)
        return st.error();
    return r;
}

ArchiveEntry TarReader::entryFrom(archive_entry *entry, int index) const
{
    ArchiveEntry e;
    e.index = index;
    e.path = pathOf(entry);
    e.type = typeOf(entry);
    e.size = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : 0;
    e.mtime = archive_entry_mtime_is_set(entry) ? archive_entry_mtime(entry) : 0;
    e.mode = int(archive_entry_perm(entry) & 07777);
    if (e.type == ArchiveEntry::Type::Symlink && archive_entry_symlink_utf8(entry))
        e.linkTarget = QString::fromUtf8(archive_entry_symlink_utf8(entry));
    if (e.type == ArchiveEntry::Type::Hardlink && archive_entry_hardlink_utf8(entry))
        e.linkTarget = QString::fromUtf8(archive_entry_hardlink_utf8(entry));
    if (!compressed())
        e.span = ByteRange{archive_read_header_position(m_archive), 0};
    return e;
}

QString TarReader::truncationProblem(bool insideEntry) const
{
    const QString why = archiveError();
    return insideEntry ? QStringLiteral("%1: unexpected end of archive inside \"%2\" (entry %3): the archive is truncated (%4)")
                             .arg(m_device.name(), m_entries.last().path).arg(m_entries.size()).arg(why)
                       : QStringLiteral("%1: the tar archive is damaged or truncated after %2 entries: %3")
                             .arg(m_device.name()).arg(m_entries.size()).arg(why);
}

void TarReader::finishSpan(int i)
{
    // An entry runs from its header (with any pax/GNU extension headers) to the next one.
    ArchiveEntry &e = m_entries[i];
    if (!e.span)
        return;
    const qint64 begin = e.span->begin;
    const qint64 end = i + 1 < m_entries.size() && m_entries[i + 1].span
                           ? m_entries[i + 1].span->begin
                           : std::min(m_device.size(), begin + 512 + (e.size + 511) / 512 * 512);
    e.span = ByteRange{begin, end};
}

Status TarReader::walk(const Visitor &visitor)
{
    // Each entry goes into the index once the next header (which ends its span) is found, so
    // that writing the index overlaps the waits for the archive's bytes.
    std::unique_ptr<archiveindex::Writer> index;
    auto dropIndex = [&](const Error &error) {
        qCWarning(lcArchive).noquote() << error.message; // the next open lists again; nothing is lost
        index.reset();
    };
    if (auto writer = archiveindex::Writer::begin(archiveindex::pathIn(m_device.entryDirectory())))
        index = std::move(writer).value();
    else
        dropIndex(writer.error());
    auto indexEntry = [&](int i) {
        finishSpan(i);
        if (index)
            index->add(m_entries[i]);
    };
    archive_entry *entry = nullptr;
    int rc = ARCHIVE_OK;
    bool cut = false;
    while ((rc = archive_read_next_header(m_archive, &entry)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
        m_entries.append(entryFrom(entry, int(m_entries.size())));
        if (m_onListed)
            m_onListed(m_entries.last());
        if (m_entries.size() > 1)
            indexEntry(int(m_entries.size()) - 2);
        if (visitor) {
            const ArchiveEntry e = m_entries.last();
            bool used = false;
            if (Status st = visitor(e, bodyReader(e, used)); !st)
                return st; // stopped early: the listing is not whole (and the index is dropped)
        }
        if (archive_read_data_skip(m_archive) != ARCHIVE_OK) {
            m_entries.last().complete = false;
            cut = true;
            break;
        }
    }
    if (rc == ARCHIVE_FATAL && m_entries.isEmpty() && !cut)
        return makeError(ErrorKind::Integrity, QStringLiteral("%1 is not a readable tar archive: %2").arg(m_device.name(), archiveError()));
    if (rc == ARCHIVE_FATAL || cut)
        m_problem = truncationProblem(cut);
    if (!m_entries.isEmpty())
        indexEntry(int(m_entries.size()) - 1);
    archive_read_free(m_archive);
    m_archive = nullptr;
    m_listed = true;
    if (index) {
        if (Status st = index->commit(m_device.size(), m_device.validator(), m_format, m_problem); !st)
            dropIndex(st.error());
        else
            m_indexed = true;
    }
    return okStatus();
}

Status TarReader::streamAll(const Visitor &visitor)
{
    if (!m_pipe) // with a pipe, its thread owns the device (and reads it all, in order)
        m_device.setReadAheadPlan({{0, m_device.size()}});
    if (Status st = walk(visitor); !st)
        return st; // no index: the listing is not whole
    if (!m_problem.isEmpty())
        return makeError(ErrorKind::Integrity, m_problem);
    return okStatus();
}

std::unique_ptr<TarReader> TarReader::fromIndex(SparseDevice &device, ArchiveListing listing)
{
    std::unique_ptr<TarReader> r(new TarReader(device));
    r->m_format = listing.format;
    r->m_xz = listing.format == u"tar.xz"; // listed with --sequential before: decompressed on a pipe again
    r->m_entries = std::move(listing.entries);
    r->m_problem = std::move(listing.problem);
    return r;
}

TarReader::~TarReader()
{
    if (m_archive)
        archive_read_free(m_archive);
}

ArchiveReader::BodyReader TarReader::bodyReader(const ArchiveEntry &entry, bool &used)
{
    // The body of the entry at the stream's current header, readable once.
    return [this, &entry, &used](const Sink &sink) -> Status {
        if (std::exchange(used, true) || entry.type != ArchiveEntry::Type::File)
            return makeError(ErrorKind::Usage, QStringLiteral("%1: entry %2 is not a regular file").arg(m_device.name(), entry.path));
        return readBody(entry, sink);
    };
}

Status TarReader::readBody(const ArchiveEntry &entry, const Sink &sink)
{
    // archive_read_data_block(3) hands out libarchive's own buffer: no copy here. A sparse member
    // (GNU or pax sparse) comes as blocks at offsets; the holes between them are zeros.
    static const QByteArray zeros(256 << 10, '\0');
    qint64 produced = 0;
    auto fillTo = [&](qint64 offset) {
        while (produced < offset) {
            const qint64 n = std::min<qint64>(offset - produced, zeros.size());
            if (!sink(zeros.constData(), n))
                return false;
            produced += n;
        }
        return true;
    };
    const auto cancelled = [&] { return makeError(ErrorKind::Cancelled, QStringLiteral("%1: cancelled").arg(entry.path)); };
    while (true) {
        const void *block = nullptr;
        size_t length = 0;
        la_int64_t offset = 0;
        const int rc = archive_read_data_block(m_archive, &block, &length, &offset);
        if (rc == ARCHIVE_EOF)
            return fillTo(entry.size) ? okStatus() : cancelled();
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
            return makeError(ErrorKind::Integrity, QStringLiteral("%1: reading %2 failed: %3").arg(m_device.name(), entry.path, archiveError()));
        if (!fillTo(offset))
            return cancelled();
        if (length > 0 && !sink(static_cast<const char *>(block), qint64(length)))
            return cancelled();
        produced = offset + qint64(length);
    }
}

Status TarReader::visit(const QList<int> &indices, const Visitor &visitor)
{
    if (!m_listed) {
        if (!indices.isEmpty())
            return makeError(ErrorKind::Usage, QStringLiteral("%1: not listed yet").arg(m_device.name()));
        return streamAll(visitor);
    }
    const QList<int> order = inArchiveOrder(indices);
    QList<ByteRange> plan;
    if (compressed())
        plan.append({0, m_device.size()});
    else
        for (int index : order)
            if (const ArchiveEntry *e = findEntry(m_entries, index); e && e->span)
                plan.append(*e->span);
    if (!m_pipe) // with a pipe, its thread owns the device (and reads it all, in order)
        m_device.setReadAheadPlan(plan);
    for (int index : order) {
        const ArchiveEntry *found = findEntry(m_entries, index);
        if (!found)
            return makeError(ErrorKind::Usage, QStringLiteral("%1 has no entry %2").arg(m_device.name()).arg(index));
        const ArchiveEntry &want = *found;
        // Keep walking when the wanted entry is ahead on this stream and either follows at once or
        // cannot be reached otherwise (a compressed stream); else start at its header.
        const bool walk = m_archive && m_next >= 0 && m_next <= index && (m_next == index || !want.span);
        if (!walk) {
            if (Status st = start(want.span ? want.span->begin : 0); !st)
                return st;
            m_next = want.span ? index : 0;
        }
        archive_entry *entry = nullptr;
        while (true) {
            const int rc = archive_read_next_header(m_archive, &entry);
            if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
                const QString why = rc == ARCHIVE_EOF ? QStringLiteral("the archive ends before it") : archiveError();
                m_next = -1;
                return makeError(ErrorKind::Integrity, QStringLiteral("%1: cannot reach entry \"%2\": %3").arg(m_device.name(), want.path, why));
            }
            if (m_next++ == index)
                break;
        }
        if (pathOf(entry) != want.path) {
            m_next = -1;
            return makeError(ErrorKind::Integrity, QStringLiteral("%1: entry %2 is \"%3\" where the index says \"%4\"; the archive "
                                                                  "changed without a new validator: `sparsescope-cli remove` it and list again")
                                                       .arg(m_device.name()).arg(index).arg(pathOf(entry), want.path));
        }
        bool used = false;
        if (Status st = visitor(want, bodyReader(want, used)); !st)
            return st;
    }
    return okStatus();
}

Status TarReader::read(int index, const Sink &sink)
{
    const ArchiveEntry *e = findEntry(m_entries, index);
    if (!e || e->type != ArchiveEntry::Type::File)
        return makeError(ErrorKind::Usage, QStringLiteral("%1: entry %2 is not a regular file").arg(m_device.name()).arg(index));
    Status result = okStatus();
    const Status walked = visit({index}, [&](const ArchiveEntry &, const BodyReader &body) {
        result = body(sink);
        return okStatus();
    });
    return !walked ? walked : result;
}

} // namespace sparsescope
