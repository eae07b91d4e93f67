#pragma once
// ZipReader: ArchiveReader for ZIP through libzip (a zip_source_function over a SparseDevice).
// libzip gives entries, sizes and data; the byte span of each entry comes from our own walk of
// the central directory (APPNOTE.TXT 4.3.12, 4.3.14-16 for ZIP64), whose bytes libzip has just
// fetched — so the walk costs no upstream byte.

#include "archivereader.h"

struct zip;
struct zip_source;

namespace sparsescope {

class ZipReader final : public ArchiveReader {
public:
    static Result<std::unique_ptr<ZipReader>> open(SparseDevice &device);
    ~ZipReader() override; // defined where SourceState is complete

    QString formatName() const override { return QStringLiteral("zip"); }
    QList<ArchiveEntry> entries() const override { return m_entries; }
    Status read(int index, const Sink &sink) override;

    struct SourceState; // what libzip's source callback works on (zipreader.cpp)

private:
    explicit ZipReader(SparseDevice &device);
    Status computeSpans();

    SparseDevice &m_device;
    std::unique_ptr<SourceState> m_state;
    zip *m_zip = nullptr;
    QList<ArchiveEntry> m_entries;
};

} // namespace sparsescope
