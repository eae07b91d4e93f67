#pragma once
// MountFs: open objects as a read-only filesystem through FUSE (libfuse3's low-level API,
// fuse_lowlevel.h). The root directory holds one regular file per object (mode 0444, its size,
// its mtime); reads go through the object, so they fetch what is missing through the shared
// cache (each chunk once across every process) and are served from the cache when present.
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

#include "sparseobject.h"

#include <QDateTime>
#include <QString>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

struct fuse_session;

namespace sparsescope::cli {

class MountFs {
public:
    struct File {
        QString name;                         // in the root directory: no '/', unique
        std::shared_ptr<SparseObject> object; // lives on the thread that calls run()
        QDateTime mtime;                      // Last-Modified where known, else the mount time
    };

    explicit MountFs(std::vector<File> files);
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
    friend struct MountOps;
    void logOnce(const QString &line); // stderr, unless the same cause was just said


    std::vector<File> m_files;
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
