#pragma once
// TarReader: ArchiveReader for tar (ustar, pax, GNU) through libarchive, with read, skip and seek
// callbacks over a SparseDevice. Listing reads each header and skips each body, so it fetches
// about one chunk per entry (with read-ahead where entries are small and the walk is nearly
// sequential). An entry of an uncompressed tar is read by starting libarchive at the entry's
// first header (its span), so reading one entry costs that entry's bytes, not a walk from the
// start; visit() keeps walking while the wanted entries follow each other and jumps otherwise. A
// compressed stream is read once from the start, skipping what is not wanted.
//
// A tar that ends inside an entry (or inside a header) lists what comes before, marks the cut
// entry incomplete and says so in problem(), as GNU tar's "Unexpected EOF in archive" does.

#include "archivereader.h"
#include "xzpipe.h"

struct archive;
struct archive_entry;

namespace sparsescope {

class TarReader final : public ArchiveReader {
public:
    // Lists the archive (one walk over the headers) unless `listLater`: then entries() stays
    // empty until a visit of every entry has streamed through the archive, listing it on the way
    // and storing the archive index at the end (what extract-all wants: one pass, not two).
    // `onListed` (if set) gets each entry as the walk finds it.
    static Result<std::unique_ptr<TarReader>> open(SparseDevice &device, bool sequential, bool listLater = false,
                                                   Listed onListed = {});
    // A reader over an indexed listing: no walk.
    static std::unique_ptr<TarReader> fromIndex(SparseDevice &device, ArchiveListing listing);
    ~TarReader() override;

    QString formatName() const override { return m_format; }
    QList<ArchiveEntry> entries() const override { return m_entries; }
    QString problem() const override { return m_problem; }
    Status read(int index, const Sink &sink) override;
    Status visit(const QList<int> &indices, const Visitor &visitor) override;

    struct Stream {
        SparseDevice *device = nullptr;
        qint64 position = 0;
        QByteArray buffer;
        QString lastError;
        XzPipe *pipe = nullptr; // set: the bytes come decompressed from it (no seeking, no skipping)
    };

private:
    explicit TarReader(SparseDevice &device) : m_device(device) {}
    Status start(qint64 offset); // a fresh libarchive reader whose first header is at `offset`
    // Walks every header from the stream's start, listing the entries (and visiting each when a
    // visitor is given) and streaming them into the archive index, stored when the walk is whole;
    // sets problem() for a cut or damaged archive. A failure to store the index is only logged.
    Status walk(const Visitor &visitor);
    Status streamAll(const Visitor &visitor); // the visit of a reader opened with listLater: the walk lists and indexes
    ArchiveEntry entryFrom(archive_entry *entry, int index) const;
    QString truncationProblem(bool insideEntry) const;
    void finishSpan(int index); // its end: the next entry's header, else its own padded end
    bool indexedWhileListing() const override { return m_indexed; }
    QString archiveError() const;
    Status readBody(const ArchiveEntry &entry, const Sink &sink);
    BodyReader bodyReader(const ArchiveEntry &entry, bool &used);
    bool compressed() const { return m_format != u"tar"; }
    Listed m_onListed; // the listing's walk hands each entry to it as found

    SparseDevice &m_device;
    Stream m_stream;
    archive *m_archive = nullptr;
    int m_next = -1; // index of the entry whose header m_archive reads next (-1: none)
    QString m_format = QStringLiteral("tar");
    QList<ArchiveEntry> m_entries;
    QString m_problem;
    bool m_listed = true;
    bool m_indexed = false; // the walk stored the archive index
    bool m_xz = false;              // an .xz stream: decompressed by an XzPipe, not by libarchive
    std::unique_ptr<XzPipe> m_pipe; // the current pass over it
};

} // namespace sparsescope
