#pragma once
// ZipReader: ArchiveReader for ZIP through libzip (a zip_source_function over a SparseDevice).
// libzip gives entries, sizes and data; the byte span of each entry comes from our own walk of
// the central directory (APPNOTE.TXT 4.3.12, 4.3.14-16 for ZIP64), whose bytes libzip has just
// fetched — so the walk costs no upstream byte. The walk also takes each entry's modification time
// from the extended-timestamp ("UT", 0x5455) or NTFS (0x000a) extra field where present (APPNOTE
// 4.5.5, Info-ZIP's extrafld.txt), as unzip does, instead of the 2-second DOS time.
//
// Stored and deflated entries are read from their local header (APPNOTE 4.3.7) and inflated with
// zlib, their CRC-32 and size checked against the central directory; so an entry of an indexed
// archive costs its own bytes only. Other methods and encrypted entries go through libzip, opened
// when first needed.

#include "archivereader.h"

struct zip;
struct zip_source;

namespace sparsescope {

class ZipReader final : public ArchiveReader {
public:
    // Lists the archive. The central directory is fetched first in one read, whatever its size,
    // then libzip parses it from the cache.
    static Result<std::unique_ptr<ZipReader>> open(SparseDevice &device);
    // Whether `tail` (the last bytes of an object) ends with an end-of-central-directory record
    // whose comment reaches exactly the end (APPNOTE 4.3.16).
    static bool endsWithDirectory(const QByteArray &tail);
    // A reader over an indexed listing: the central directory is not read again.
    static std::unique_ptr<ZipReader> fromIndex(SparseDevice &device, ArchiveListing listing);
    ~ZipReader() override; // defined where SourceState is complete

    QString formatName() const override { return QStringLiteral("zip"); }
    QList<ArchiveEntry> entries() const override { return m_entries; }
    QString problem() const override { return {}; }
    Status read(int index, const Sink &sink) override;
    Status visit(const QList<int> &indices, const Visitor &visitor) override;

    struct SourceState; // what libzip's source callback works on (zipreader.cpp)

private:
    explicit ZipReader(SparseDevice &device);
    Status openLibzip();
    // Where the central directory lies (APPNOTE 4.3.16, ZIP64 4.3.14-15), from the tail; nullopt
    // when no end record is found or it points outside the object.
    struct Directory {
        qint64 offset = 0;
        qint64 size = 0;
    };
    Result<std::optional<Directory>> locateDirectory();
    // Each entry's span from the central directory `cd` found at `located` (as open() read them).
    Status computeSpans(const Result<std::optional<Directory>> &located, const Result<QByteArray> &cd);
    Status readDirect(const ArchiveEntry &entry, const Sink &sink);
    Status readWithLibzip(const ArchiveEntry &entry, const Sink &sink);

    SparseDevice &m_device;
    std::unique_ptr<SourceState> m_state;
    zip *m_zip = nullptr;
    QList<ArchiveEntry> m_entries;
};

} // namespace sparsescope
