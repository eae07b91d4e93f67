#pragma once
// TarReader: ArchiveReader for tar (ustar, pax, GNU) through libarchive, with read, skip and seek
// callbacks over a SparseDevice: listing reads each header and skips each body, so it fetches
// about one chunk per entry. Reads return at most up to the end of the current chunk, so that
// libarchive never pulls a chunk it does not step into. A compressed stream is read sequentially.

#include "archivereader.h"

struct archive;

namespace sparsescope {

class TarReader final : public ArchiveReader {
public:
    static Result<std::unique_ptr<TarReader>> open(SparseDevice &device, bool sequential);
    ~TarReader() override;

    QString formatName() const override { return m_format; }
    QList<ArchiveEntry> entries() const override { return m_entries; }
    Status read(int index, const Sink &sink) override;

    struct Stream {
        SparseDevice *device = nullptr;
        qint64 position = 0;
        QByteArray buffer;
        QString lastError;
    };

private:
    explicit TarReader(SparseDevice &device) : m_device(device) {}
    Result<archive *> start(); // a fresh libarchive reader at offset 0

    SparseDevice &m_device;
    Stream m_stream;
    archive *m_archive = nullptr;
    QString m_format = QStringLiteral("tar");
    QList<ArchiveEntry> m_entries;
};

} // namespace sparsescope
