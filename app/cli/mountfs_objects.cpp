// MountFs: which object a file reads and where its bytes lie — objects opened (an S3 prefix's
// keys) or validated again (on open(2), within --max-age) on the objects' thread while a FUSE
// thread waits, and the data of archive members stored as is.
#include "mountfs.h"

#include <QCoreApplication>
#include <QDateTime>

#include <condition_variable>
#include <mutex>

namespace sparsescope::cli {

Result<std::shared_ptr<SparseObject>> MountFs::openOnObjectsThread(const QString &source)
{
    // Opened on the objects' thread (it is created there); this thread waits for it.
    struct Wait {
        std::mutex mutex;
        std::condition_variable done;
        bool finished = false;
        SparseObject::OpenResult result = makeError(ErrorKind::Cancelled, QStringLiteral("the mount is stopping"));
    };
    auto wait = std::make_shared<Wait>();
    QMetaObject::invokeMethod(QCoreApplication::instance(), [opener = m_opener, source, wait] {
        opener(source).then(QCoreApplication::instance(), [wait](const SparseObject::OpenResult &r) {
            std::lock_guard lock(wait->mutex);
            wait->result = r;
            wait->finished = true;
            wait->done.notify_all();
        });
    }, Qt::QueuedConnection);
    std::unique_lock lock(wait->mutex);
    while (!wait->done.wait_for(lock, std::chrono::milliseconds(20), [&] { return wait->finished; }))
        if (m_stopping)
            return makeError(ErrorKind::Cancelled, QStringLiteral("the mount is stopping"));
    return wait->result;
}

void MountFs::releaseOnObjectsThread(std::shared_ptr<SparseObject> object)
{
    QMetaObject::invokeMethod(QCoreApplication::instance(), [o = std::move(object)] {}, Qt::QueuedConnection);
}

Result<std::shared_ptr<SparseObject>> MountFs::objectOf(int file, bool revalidate, bool *changed)
{
    std::lock_guard l(*m_openMutexes[size_t(file)]);
    File &f = m_files[size_t(file)];
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    if (f.object && (!revalidate || now - f.validatedAtMs < qint64(m_maxAgeSeconds) * 1000))
        return f.object;
    // Not open yet (an S3 prefix's key), or due for validation: the CLI's open, which asks the
    // server (a HEAD for a cached object) and drops the cached bytes of a version that changed.
    auto fresh = openOnObjectsThread(f.source);
    if (!fresh) {
        if (!f.object)
            return fresh;
        logOnce(QStringLiteral("validating %1 failed; its cached bytes are served as they are: %2").arg(f.name, fresh.error().message));
        return f.object; // the server is away: what is cached stays readable
    }
    f.validatedAtMs = now;
    if (!f.object) {
        f.object = *fresh;
        return f.object;
    }
    const SourceInfo &was = f.object->sourceInfo(), &is = (*fresh)->sourceInfo();
    if (was.validator == is.validator && was.size == is.size) {
        releaseOnObjectsThread(std::move(*fresh)); // the same version: keep the object that has read-ahead going
        return f.object;
    }
    logOnce(QStringLiteral("%1 changed upstream (size %2 -> %3); its cached bytes were dropped").arg(f.name).arg(was.size).arg(is.size));
    if (changed)
        *changed = true;
    std::lock_guard r(m_retiredMutex);
    m_retired.push_back(std::move(f.object)); // files opened before keep reading it; released at unmount
    f.object = *fresh;
    return f.object;
}

std::pair<qint64, qint64> MountFs::sizeAndMtimeOf(int file, qint64 listedSize, qint64 listedMtime)
{
    std::lock_guard l(*m_openMutexes[size_t(file)]);
    const File &f = m_files[size_t(file)];
    if (!f.object)
        return {listedSize, listedMtime};
    // Last-Modified is learnt when the object is opened or validated (not on an open within
    // --max-age, which asks nothing: the mount's listing stands then).
    const QDateTime &modified = f.object->sourceInfo().lastModified;
    return {f.object->geometry().objectSize, modified.isValid() ? modified.toSecsSinceEpoch() : listedMtime};
}

qint64 MountFs::storedDataBegin(int file, int entry, SparseDevice &device) const
{
    const Archive &a = *m_archives.at(file);
    const ArchiveEntry *e = findEntry(a.entries, entry);
    if (!e || !e->span)
        return -1; // in a compressed stream
    auto le16 = [](const QByteArray &b, int at) { return quint16(quint8(b[at])) | quint16(quint8(b[at + 1])) << 8; };
    if (a.format == u"zip") {
        // Stored (method 0): the data follows the local header (APPNOTE 4.3.7), 30 bytes + name + extra.
        if (e->method != 0 || e->compressedSize != e->size)
            return -1;
        auto header = device.read({e->span->begin, e->span->begin + 30});
        if (!header || header->size() < 30 || !header->startsWith(QByteArray("PK\x03\x04", 4)) || (le16(*header, 6) & 1))
            return -1;
        return e->span->begin + 30 + le16(*header, 26) + le16(*header, 28);
    }
    if (a.format == u"tar") {
        // The data is the last whole blocks of the span, right after a ustar header of that size
        // (POSIX pax, "ustar" at offset 257; the size in octal at 124).
        const qint64 begin = e->span->end - (e->size + 511) / 512 * 512;
        if (begin - 512 < e->span->begin)
            return -1;
        auto header = device.read({begin - 512, begin});
        if (!header || header->size() < 512 || header->mid(257, 5) != "ustar")
            return -1;
        bool ok = false;
        const qint64 size = header->mid(124, 12).trimmed().replace('\0', "").toLongLong(&ok, 8);
        return ok && size == e->size ? begin : -1;
    }
    return -1;
}

} // namespace sparsescope::cli
