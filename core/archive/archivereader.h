#pragma once
// ArchiveReader: lists and reads the entries of an archive held in a SparseObject, fetching only
// the bytes the format needs. ZIP (stored, deflated, ZIP64) goes through libzip, which reads the
// end-of-central-directory from the tail and then the central directory, and touches an entry's
// local header and data only when that entry is read. Tar (ustar, pax, GNU) goes through
// libarchive with read, skip and seek callbacks, so bodies are skipped, never read. A compressed
// tar (.tar.gz, .tar.zst, .tar.xz, .tar.bz2) cannot be listed without reading the whole stream:
// open() refuses it unless `sequential` is set.
//
// Thread affinity: a worker thread that is not the object's (see SparseDevice); one at a time.

#include "archiveentry.h"
#include "result.h"
#include "sparsedevice.h"

#include <QList>

#include <functional>
#include <memory>

namespace sparsescope {

class ArchiveReader {
public:
    // Receives an entry's bytes in order; return false to stop.
    using Sink = std::function<bool(const char *data, qint64 length)>;

    virtual ~ArchiveReader() = default;

    // Detects the format from the first and last bytes and opens the archive.
    // Errors: Usage (not an archive this build reads; a compressed tar without `sequential`,
    // saying how big the stream is), Integrity (a damaged archive), and read errors.
    static Result<std::unique_ptr<ArchiveReader>> open(SparseDevice &device, bool sequential);

    virtual QString formatName() const = 0; // "zip", "tar", "tar.gz", ...
    virtual QList<ArchiveEntry> entries() const = 0;
    // Streams entry `index` (a file) into `sink`. Errors: Integrity (bad checksum, damaged data),
    // Usage (not a regular file), read errors, Cancelled (the sink said stop).
    virtual Status read(int index, const Sink &sink) = 0;
};

} // namespace sparsescope
