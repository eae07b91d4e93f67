#pragma once
// ArchiveReader: lists and reads the entries of an archive held in a SparseObject, fetching only
// the bytes the format needs. ZIP (stored, deflated, ZIP64) goes through libzip, which reads the
// end-of-central-directory from the tail and then the central directory; an entry's bytes are
// read from its local header (APPNOTE 4.3.7) and inflated with zlib, or through libzip for other
// methods. Tar (ustar, pax, GNU) goes through libarchive with read, skip and seek callbacks, so
// bodies are skipped, never read, and an entry is read by starting libarchive at its header. A
// compressed tar (.tar.gz, .tar.zst, .tar.xz, .tar.bz2) cannot be listed without reading the whole
// stream: open() refuses it unless `sequential` is set or its listing is already indexed.
//
// Listing happens once per version of an archive: open() stores it in the archive index
// (archiveindex.h) of the object's cache entry and later opens, in any process, start from it.
//
// Thread affinity: a worker thread that is not the object's (see SparseDevice); one at a time.

#include "archiveentry.h"
#include "objectopener.h"
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
    // Streams the body of the entry being visited into a Sink (at most once per entry).
    using BodyReader = std::function<Status(const Sink &)>;
    // Called for each visited entry; an error stops the visit and is returned by visit().
    using Visitor = std::function<Status(const ArchiveEntry &, const BodyReader &)>;
    // Called with each entry as the listing finds it (its span may not be final yet).
    using Listed = std::function<void(const ArchiveEntry &)>;

    virtual ~ArchiveReader() = default;

    // The bytes at the end of an object that open() reads first when they are already cached: a
    // ZIP's end of central directory lies within them (APPNOTE 4.3.16: 22 bytes and a comment of at
    // most 65,535). Opening the object with this tail (OpenOptions::tailBytes) saves a round trip.
    static constexpr qint64 kTailBytes = 65535 + 22;
    // The head of a tar that its opening request brings (hintOpening): 4 MiB, by measurement
    // (a 30,000-entry tar listed through 100 ms of latency: 7.3 -> ~5 RTT; 1 MiB changed nothing).
    static constexpr qint64 kTarHeadBytes = 4 << 20;
    // What an object's name says it is, by its suffix (case aside; a URL's ?query is ignored):
    // Zip for .zip, .jar, .apk, .whl; Tar for .tar, .tgz, .tar.gz, .txz, .tar.xz, .tbz2, .tar.bz2,
    // .tzst, .tar.zst; else Unknown. Only a hint: detection reads the bytes.
    enum class NamedKind { Unknown, Zip, Tar };
    static NamedKind kindByName(const QString &name);
    // What the opening request of an archive that is not indexed yet should bring (OpenOptions):
    // the tail above, unless `source`'s name says tar (kindByName): then its head (kTarHeadBytes,
    // from the first header on), so that a tar's walk starts at once instead of a round trip (and a
    // tail it never reads) later, and `streams` (its prefetch connection opens beside the opening
    // request). A name that lies costs one round trip, never a wrong result.
    static void hintOpening(const QString &source, OpenOptions &options);
    // Whether the cache entry in `entryDirectory` holds an index of its archive (then open() needs
    // neither the head nor the tail). (I/O: one stat.)
    static bool hasIndex(const QString &entryDirectory);

    // The archive index if there is one for this version of the object, else detects the format
    // from the last bytes when they are cached (a ZIP ends with its end of central directory; a
    // tar never does), else from the first bytes and then the last, lists the archive and stores the index (a failure to store
    // it is not an error). Errors: Usage (not an archive this build reads; a compressed tar
    // without `sequential`, saying how big the stream is), Integrity (an archive damaged before
    // its first entry), and read errors. An archive that ends early or is damaged later opens,
    // with what was found and problem() saying what is wrong.
    //
    // With `forVisitAll` (extract-all), a tar that is not indexed yet is not listed first: the
    // visit of every entry lists it as it streams through, and stores the index; entries() is
    // empty until then, and a truncated archive ends that visit with its problem() as the error.
    //
    // With `names` (a named extract), an indexed archive loads only the entries those names can
    // select (archiveindex::load); entries() is then that subset, still sorted by index.
    //
    // `onListed`, if set, is called on this thread with every entry in archive order: as a tar
    // walk finds it (so that `list` prints while the walk goes on, as `tar tf` does), or, for a
    // ZIP or an indexed archive, all of them once listed. Not with `forVisitAll`.
    static Result<std::unique_ptr<ArchiveReader>> open(SparseDevice &device, bool sequential, bool forVisitAll = false,
                                                       const QStringList &names = {}, const Listed &onListed = {});

    virtual QString formatName() const = 0; // "zip", "tar", "tar.gzip", ...
    virtual QList<ArchiveEntry> entries() const = 0; // archive order; duplicates kept
    // One line when the archive is truncated or damaged after some entries, else empty.
    virtual QString problem() const = 0;
    // Streams entry `index` (a file) into `sink`. Errors: Integrity (bad checksum, damaged or
    // truncated data), Usage (not a regular file), read errors, Cancelled (the sink said stop).
    virtual Status read(int index, const Sink &sink) = 0;
    // Visits `indices` (every entry when empty) in archive order in one pass: a tar stream is read
    // once, ZIP members are fetched in archive order with read-ahead. Errors: the visitor's, and
    // Integrity when the archive breaks off (the entries visited so far stay visited).
    virtual Status visit(const QList<int> &indices, const Visitor &visitor) = 0;

    ArchiveListing listing() const { return {formatName(), entries(), problem()}; }

protected:
    // True when listing stored the archive index already (a tar walk streams its entries into
    // the index as it finds them); else open() stores it.
    virtual bool indexedWhileListing() const { return false; }

    // `indices` sorted into archive order (all entries when empty), duplicates removed.
    QList<int> inArchiveOrder(const QList<int> &indices) const;
};

} // namespace sparsescope
