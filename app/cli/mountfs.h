#pragma once
// MountFs: open objects as a read-only filesystem through FUSE (libfuse3's low-level API,
// fuse_lowlevel.h). The root directory holds one regular file per object (mode 0444, its size,
// its mtime) and, for archives added with addArchive(), a directory of its entries (mounttree.h);
// reads go through the object, so they fetch what is missing through the shared cache (each
// chunk once across every process) and are served from the cache when present. An archive
// member stored as is (a ZIP entry stored, an entry of an uncompressed tar) is read as the byte
// range it occupies, so a seek costs nothing; a compressed member (deflated, or in a compressed
// tar) is decompressed whole on its first read, held while the file is open (at most 512 MiB).
//
// Threads: the object lives on the thread that calls run() (the CLI's main thread, which runs
// its event loop meanwhile); FUSE requests are served on libfuse's worker threads. A read whose
// chunks are all present is read there straight from the store (SparseObject::readPresent); any
// other goes through a SparseDevice per open file, which hands the read to the object's thread
// and gives a reader that keeps going forward a growing read-ahead window. A failed read is EIO
// and one line on stderr naming the object, the byte range and the cause.
//
// Unmounting: fusermount3 -u, or stop() (the CLI calls it on SIGINT, SIGTERM, SIGHUP). The
// mount is made with auto_unmount, so that a killed process leaves no dead mount point behind.

#include "archivereader.h"
#include "mounttree.h"
#include "sparsedevice.h"
#include "sparseobject.h"

#include <QDateTime>
#include <QFuture>
#include <QString>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

struct fuse_session;

namespace sparsescope::cli {

class MountFs {
public:
    struct File {
        QString name;                         // in its directory: no '/', unique there
        std::shared_ptr<SparseObject> object; // lives on the thread that calls run(); null: opened on first open(2)
        QDateTime mtime;                      // Last-Modified where known, else the mount time
        QStringList directories = {};         // where it is, under the root (an S3 prefix's keys)
        QString source = {};                  // what opens it (again, to validate it)
        qint64 size = -1;                     // its size until opened (from a listing)
        qint64 validatedAtMs = 0;             // when the object was last validated upstream (set by MountFs)
    };
    // Opens a SOURCE on the thread that calls run() (for files listed but not opened yet).
    using Opener = std::function<QFuture<SparseObject::OpenResult>(const QString &source)>;

    // A file opened more than `maxAgeSeconds` after its last validation is validated again, as the
    // CLI's commands are (--max-age; 0: on every open).
    MountFs(std::vector<File> files, Opener opener, int maxAgeSeconds);
    // Shows file `file`'s archive as the root directory `directory`, its entries as `reader` lists
    // them (reader reads through `device`, which must be the file's object). Before mount().
    // Returns how many entries were left out (unsafe paths, links leaving the tree).
    int addArchive(int file, const QString &directory, std::unique_ptr<SparseDevice> device, std::unique_ptr<ArchiveReader> reader);
    ~MountFs();
    MountFs(const MountFs &) = delete;
    MountFs &operator=(const MountFs &) = delete;

    // Mounts on `mountPoint` (an existing directory). Errors: LocalIo naming the mount point and
    // the cause (no /dev/fuse, not permitted, not a directory, already a mount point).
    Status mount(const QString &mountPoint);
    // Serves requests on libfuse's threads until the filesystem is unmounted (by fusermount3 -u
    // or stop()), running the calling thread's Qt event loop meanwhile. Returns 0, or 1 if
    // libfuse's loop failed.
    int run();
    // Any thread: cancels reads that wait and unmounts; run() then returns.
    void stop();

    // Unique file names for sources: the last component of each path ("index.html" for a URL
    // ending in '/'); a clash gets " (2)", " (3)"... before its extension. Pure.
    static QStringList fileNames(const QStringList &sources);

private:
    struct Handle;
    struct Archive {
        std::unique_ptr<SparseDevice> device; // the reader's
        std::unique_ptr<ArchiveReader> reader;
        QList<ArchiveEntry> entries;          // by index
        QString format;
        std::mutex mutex;                     // reader and device: one member decompressed at a time
    };
    friend struct MountOps;
    // Where member `entry` of file `file`'s archive lies in the object when it is stored as is, or
    // -1 (compressed; or the headers do not say). Reads the local or tar header through `device`.
    qint64 storedDataBegin(int file, int entry, SparseDevice &device) const;
    void logOnce(const QString &line); // stderr, unless the same cause was just said
    QString nameOf(const Handle &h) const; // the object, or the member and its archive
    // File `file`'s object, opening it first on the objects' thread if it is not open, or, with
    // `revalidate`, validating it again when --max-age has passed: a changed object is replaced
    // (its cached bytes were dropped by the open; `changed` is set) and the old one kept for files
    // opened before. A FUSE thread waits for that. Errors: those of opening (a failed validation
    // of an open object keeps serving it, and says so once).
    Result<std::shared_ptr<SparseObject>> objectOf(int file, bool revalidate = false, bool *changed = nullptr);
    Result<std::shared_ptr<SparseObject>> openOnObjectsThread(const QString &source);
    static void releaseOnObjectsThread(std::shared_ptr<SparseObject> object);
    // A file's size and mtime (seconds since the epoch) as its current version has them: the open
    // object's size and Last-Modified (an object that changed upstream has new ones), else those
    // listed when it was mounted.
    std::pair<qint64, qint64> sizeAndMtimeOf(int file, qint64 listedSize, qint64 listedMtime);


    std::vector<File> m_files;
    Opener m_opener;
    int m_maxAgeSeconds = 0;
    std::mutex m_retiredMutex;
    std::vector<std::shared_ptr<SparseObject>> m_retired; // replaced after a change; released at unmount
    std::vector<std::unique_ptr<std::mutex>> m_openMutexes; // per file: one opener at a time
    MountTree m_tree;
    std::map<int, std::unique_ptr<Archive>> m_archives; // by file
    QString m_mountPoint;
    fuse_session *m_session = nullptr;
    bool m_mounted = false;
    std::atomic<bool> m_stopping{false};
    std::mutex m_handlesMutex;
    std::vector<Handle *> m_handles; // open files, so that stop() can cancel their reads
    std::mutex m_logMutex;
    QString m_lastLogged;
    qint64 m_lastLoggedAt = 0;
};

} // namespace sparsescope::cli
