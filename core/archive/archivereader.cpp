#include "archivereader.h"
#include "logging.h"
#include "archiveindex.h"
#include "tarreader.h"
#include "zipreader.h"

#include <QDebug>
#include <QFileInfo>

#include <algorithm>

namespace sparsescope {

namespace {
Result<std::unique_ptr<ArchiveReader>> detectAndList(SparseDevice &device, bool sequential, bool listLater,
                                                     const ArchiveReader::Listed &onListed)
{
    if (device.size() < 22)
        return makeError(ErrorKind::Usage, QStringLiteral("%1 is too small to be an archive").arg(device.name()));
    // ZIP: the end-of-central-directory record ending the object, when the tail is cached (the
    // open fetched it: no round trip for the head), a local header at the start, or that record
    // near the end (self-extracting and prefixed archives start with something else).
    const ByteRange tailRange{std::max<qint64>(0, device.size() - ArchiveReader::kTailBytes), device.size()};
    if (auto tail = device.readIfPresent(tailRange); tail && *tail && ZipReader::endsWithDirectory(**tail))
        if (auto zip = ZipReader::open(device))
            return std::unique_ptr<ArchiveReader>(std::move(zip).value());
    auto head = device.read({0, std::min<qint64>(device.size(), 512)});
    if (!head)
        return head.error();
    const bool zipHead = head->startsWith("PK\x03\x04") || head->startsWith("PK\x05\x06");
    if (zipHead) {
        auto zip = ZipReader::open(device);
        if (!zip)
            return zip.error();
        return std::unique_ptr<ArchiveReader>(std::move(zip).value());
    }
    auto tar = TarReader::open(device, sequential, listLater, onListed);
    if (tar)
        return std::unique_ptr<ArchiveReader>(std::move(tar).value());
    if (tar.error().kind == ErrorKind::Usage)
        return tar.error(); // a compressed tar: the message says what to do
    // Not tar either: maybe a ZIP with a prefix.
    auto zip = ZipReader::open(device);
    if (zip)
        return std::unique_ptr<ArchiveReader>(std::move(zip).value());
    return makeError(ErrorKind::Usage, QStringLiteral("%1 is not an archive this build reads (ZIP, tar, compressed tar)").arg(device.name()));
}
} // namespace

ArchiveReader::NamedKind ArchiveReader::kindByName(const QString &name)
{
    static const QStringList zipNames = {QStringLiteral(".zip"), QStringLiteral(".jar"), QStringLiteral(".apk"), QStringLiteral(".whl")};
    static const QStringList tarNames = {QStringLiteral(".tar"),     QStringLiteral(".tgz"),     QStringLiteral(".tar.gz"),
                                         QStringLiteral(".txz"),     QStringLiteral(".tar.xz"),  QStringLiteral(".tbz2"),
                                         QStringLiteral(".tar.bz2"), QStringLiteral(".tzst"),    QStringLiteral(".tar.zst")};
    const QString lower = name.section(u'?', 0, 0).toLower();
    auto endsWithOneOf = [&lower](const QStringList &suffixes) {
        return std::any_of(suffixes.begin(), suffixes.end(), [&lower](const QString &s) { return lower.endsWith(s); });
    };
    return endsWithOneOf(tarNames) ? NamedKind::Tar : endsWithOneOf(zipNames) ? NamedKind::Zip : NamedKind::Unknown;
}

void ArchiveReader::hintOpening(const QString &source, OpenOptions &options)
{
    if (kindByName(source) == NamedKind::Tar) {
        // The head of the archive, more than its first header: a listing (or an extraction
        // without an index) walks on from there at once, while the read-ahead's first request —
        // on a connection opened beside this one — is on its way. At most this much is fetched
        // that a listing of a tar of large members would have skipped.
        options.firstRead = {0, kTarHeadBytes};
        options.tailBytes = 0;
        options.streams = true;
        return;
    }
    options.tailBytes = kTailBytes;
}

bool ArchiveReader::hasIndex(const QString &entryDirectory)
{
    return QFileInfo::exists(archiveindex::pathIn(entryDirectory));
}

Result<std::unique_ptr<ArchiveReader>> ArchiveReader::open(SparseDevice &device, bool sequential, bool forVisitAll,
                                                           const QStringList &names, const Listed &onListed)
{
    auto listAll = [&onListed](const ArchiveReader &r) {
        if (onListed)
            for (const ArchiveEntry &e : r.entries())
                onListed(e);
    };
    const QString indexPath = archiveindex::pathIn(device.entryDirectory());
    if (auto listing = archiveindex::load(indexPath, device.size(), device.validator(), names)) {
        std::unique_ptr<ArchiveReader> r;
        if (listing->format == u"zip")
            r = ZipReader::fromIndex(device, std::move(*listing));
        else
            r = TarReader::fromIndex(device, std::move(*listing));
        listAll(*r);
        return r;
    }
    bool streamed = false; // a tar walk hands out its entries as it finds them
    auto reader = detectAndList(device, sequential, forVisitAll, onListed ? Listed([&](const ArchiveEntry &e) {
        streamed = true;
        onListed(e);
    }) : Listed());
    if (!reader)
        return reader;
    if (!streamed)
        listAll(**reader);
    if ((*reader)->entries().isEmpty() && forVisitAll)
        return reader; // listed (and indexed) by the visit
    if ((*reader)->indexedWhileListing())
        return reader;
    if (Status saved = archiveindex::save(indexPath, device.size(), device.validator(), (*reader)->listing()); !saved)
        qCWarning(lcArchive).noquote() << saved.error().message; // the next open lists again; nothing is lost
    return reader;
}

QList<int> ArchiveReader::inArchiveOrder(const QList<int> &indices) const
{
    QList<int> order = indices;
    if (order.isEmpty()) {
        const QList<ArchiveEntry> all = entries();
        order.reserve(all.size());
        for (const ArchiveEntry &e : all)
            order.append(e.index);
        return order;
    }
    std::sort(order.begin(), order.end());
    order.erase(std::unique(order.begin(), order.end()), order.end());
    return order;
}

} // namespace sparsescope
