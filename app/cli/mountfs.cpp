#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 12)
#include "mountfs.h"
#include "sparsedevice.h"

#include <fuse_lowlevel.h>

#include <QCoreApplication>
#include <QFileInfo>
#include <QTextStream>
#include <QUrl>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace sparsescope::cli {

// One open file: the device that fetches and reads ahead for it (one reader at a time).
struct MountFs::Handle {
    explicit Handle(SparseObject *o) : object(o), device(o) {}
    SparseObject *object;
    SparseDevice device;
    std::mutex mutex;                // device
    std::atomic<qint64> lastEnd{-1}; // where the last read of this handle ended
};

namespace {
constexpr double kAttrTimeout = 3600; // the listing and sizes do not change while mounted

QString nameOfSource(const QString &source)
{
    const QUrl url(source);
    QString path = url.isValid() && !url.scheme().isEmpty() && url.scheme().size() > 1 ? url.path() : source;
    if (path.endsWith(u'/'))
        return QStringLiteral("index.html");
    const QString name = path.section(u'/', -1);
    return name.isEmpty() || name == u"." || name == u".." ? QStringLiteral("object") : name;
}
} // namespace

QStringList MountFs::fileNames(const QStringList &sources)
{
    QStringList names;
    for (const QString &source : sources) {
        const QString base = nameOfSource(source);
        QString name = base;
        for (int n = 2; names.contains(name); ++n) {
            const qsizetype dot = base.lastIndexOf(u'.');
            name = dot > 0 ? QStringLiteral("%1 (%2)%3").arg(base.left(dot)).arg(n).arg(base.mid(dot))
                           : QStringLiteral("%1 (%2)").arg(base).arg(n);
        }
        names << name;
    }
    return names;
}

// The low-level operations (fuse_lowlevel.h, struct fuse_lowlevel_ops). Inode 1 is the root
// directory, inode 2 + i the i-th file.
struct MountOps {
    static MountFs *fs(fuse_req_t req) { return static_cast<MountFs *>(fuse_req_userdata(req)); }
    static const MountFs::File *file(MountFs *fs, fuse_ino_t ino)
    {
        return ino >= 2 && ino - 2 < fs->m_files.size() ? &fs->m_files[ino - 2] : nullptr;
    }
    static struct stat attributes(MountFs *fs, fuse_ino_t ino)
    {
        struct stat st {};
        st.st_ino = ino;
        st.st_uid = ::getuid();
        st.st_gid = ::getgid();
        if (ino == FUSE_ROOT_ID) {
            st.st_mode = S_IFDIR | 0555;
            st.st_nlink = 2;
            st.st_mtime = QDateTime::currentSecsSinceEpoch();
        } else if (const MountFs::File *f = file(fs, ino)) {
            st.st_mode = S_IFREG | 0444;
            st.st_nlink = 1;
            st.st_size = f->object->geometry().objectSize;
            st.st_blksize = 4096;
            st.st_blocks = (st.st_size + 511) / 512;
            st.st_mtime = f->mtime.toSecsSinceEpoch();
        }
        st.st_atime = st.st_ctime = st.st_mtime;
        return st;
    }

    static void lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
    {
        MountFs *f = fs(req);
        if (parent != FUSE_ROOT_ID) {
            fuse_reply_err(req, ENOENT);
            return;
        }
        const QString wanted = QString::fromUtf8(name);
        for (size_t i = 0; i < f->m_files.size(); ++i)
            if (f->m_files[i].name == wanted) {
                fuse_entry_param e {};
                e.ino = 2 + i;
                e.attr = attributes(f, e.ino);
                e.attr_timeout = e.entry_timeout = kAttrTimeout;
                fuse_reply_entry(req, &e);
                return;
            }
        fuse_reply_err(req, ENOENT);
    }

    static void getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info *)
    {
        MountFs *f = fs(req);
        if (ino != FUSE_ROOT_ID && !file(f, ino)) {
            fuse_reply_err(req, ENOENT);
            return;
        }
        const struct stat st = attributes(f, ino);
        fuse_reply_attr(req, &st, kAttrTimeout);
    }

    static void readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info *)
    {
        MountFs *f = fs(req);
        if (ino != FUSE_ROOT_ID) {
            fuse_reply_err(req, ENOTDIR);
            return;
        }
        // Entry k of ".", "..", then the files, from `offset` on, as many as fit in `size`.
        std::vector<char> buf(size);
        size_t used = 0;
        const size_t count = 2 + f->m_files.size();
        for (size_t k = size_t(offset); k < count; ++k) {
            struct stat st {};
            st.st_ino = k < 2 ? FUSE_ROOT_ID : 2 + (k - 2);
            st.st_mode = k < 2 ? S_IFDIR : S_IFREG;
            const QByteArray name = k == 0 ? QByteArray(".") : k == 1 ? QByteArray("..") : f->m_files[k - 2].name.toUtf8();
            const size_t need = fuse_add_direntry(req, buf.data() + used, size - used, name.constData(), &st, off_t(k + 1));
            if (need > size - used)
                break;
            used += need;
        }
        fuse_reply_buf(req, buf.data(), used);
    }

    static void open(fuse_req_t req, fuse_ino_t ino, fuse_file_info *fi)
    {
        MountFs *f = fs(req);
        const MountFs::File *entry = file(f, ino);
        if (!entry) {
            fuse_reply_err(req, ino == FUSE_ROOT_ID ? EISDIR : ENOENT);
            return;
        }
        if ((fi->flags & O_ACCMODE) != O_RDONLY) {
            fuse_reply_err(req, EROFS);
            return;
        }
        auto *h = new MountFs::Handle(entry->object.get());
        {
            std::lock_guard l(f->m_handlesMutex);
            f->m_handles.push_back(h);
        }
        fi->fh = reinterpret_cast<uint64_t>(h);
        fi->keep_cache = 1; // the object does not change while mounted: the page cache stays valid
        if (fuse_reply_open(req, fi) != 0)
            release(req, ino, fi);
    }

    static void read(fuse_req_t req, fuse_ino_t, size_t size, off_t offset, fuse_file_info *fi)
    {
        auto *h = reinterpret_cast<MountFs::Handle *>(fi->fh);
        const qint64 objectSize = h->device.size();
        const ByteRange range{std::min<qint64>(offset, objectSize), std::min<qint64>(offset + qint64(size), objectSize)};
        if (range.isEmpty()) {
            fuse_reply_buf(req, nullptr, 0);
            return;
        }
        // A jump to bytes that are all present is read right here, exactly (random reads of a
        // warm file); a reader going forward goes through its device, which reads ahead.
        const bool forward = h->lastEnd.exchange(range.end) == range.begin;
        std::optional<Result<QByteArray>> got;
        if (!forward)
            got = h->object->readPresent(range);
        if (!got) {
            std::lock_guard l(h->mutex);
            got = h->device.read(range);
        }
        if (!*got) {
            if (got->error().kind != ErrorKind::Cancelled)
                fs(req)->logOnce(QStringLiteral("reading bytes %1 of %2 failed (EIO): %3")
                                     .arg(range.toInclusiveString(), h->device.name(), got->error().message));
            fuse_reply_err(req, EIO);
            return;
        }
        fuse_reply_buf(req, got->value().constData(), size_t(got->value().size()));
    }

    static void release(fuse_req_t req, fuse_ino_t, fuse_file_info *fi)
    {
        MountFs *f = fs(req);
        auto *h = reinterpret_cast<MountFs::Handle *>(fi->fh);
        {
            std::lock_guard l(f->m_handlesMutex);
            std::erase(f->m_handles, h);
        }
        delete h;
        fuse_reply_err(req, 0);
    }
};

MountFs::MountFs(std::vector<File> files) : m_files(std::move(files)) {}

void MountFs::logOnce(const QString &line)
{
    // The kernel often asks twice for what failed (its read-ahead, then the read): one line.
    std::lock_guard l(m_logMutex);
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    const QString cause = line.section(QStringLiteral(": "), 1);
    if (cause == m_lastLogged && now - m_lastLoggedAt < 5000)
        return;
    m_lastLogged = cause;
    m_lastLoggedAt = now;
    QTextStream(stderr) << "sparsescope-cli: mount: " << line << "\n";
}

MountFs::~MountFs()
{
    if (m_session) {
        if (m_mounted)
            fuse_session_unmount(m_session);
        fuse_session_destroy(m_session);
    }
    for (Handle *h : m_handles)
        delete h;
}

Status MountFs::mount(const QString &mountPoint)
{
    const QFileInfo info(mountPoint);
    if (!info.isDir())
        return makeError(ErrorKind::Usage, QStringLiteral("mount point %1 is not a directory").arg(mountPoint));
    if (::access("/dev/fuse", R_OK | W_OK) != 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot mount on %1: /dev/fuse is %2 (FUSE is not available here: load the "
                                                            "fuse module, or give the container /dev/fuse)")
                                                 .arg(mountPoint, QString::fromLocal8Bit(std::strerror(errno))));
    static const fuse_lowlevel_ops ops = [] {
        fuse_lowlevel_ops o {};
        o.lookup = MountOps::lookup;
        o.getattr = MountOps::getattr;
        o.readdir = MountOps::readdir;
        o.open = MountOps::open;
        o.read = MountOps::read;
        o.release = MountOps::release;
        return o;
    }();
    // Read-only; permissions checked by the kernel from the modes; unmounted by fusermount3 if this
    // process dies (auto_unmount).
    QByteArrayList options{"sparsescope-cli", "-o", "ro,default_permissions,auto_unmount,fsname=sparsescope,subtype=sparsescope"};
    std::vector<char *> argv;
    for (QByteArray &o : options)
        argv.push_back(o.data());
    fuse_args args = FUSE_ARGS_INIT(int(argv.size()), argv.data());
    m_session = fuse_session_new(&args, &ops, sizeof ops, this);
    if (!m_session)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot mount on %1: libfuse refused its options").arg(mountPoint));
    const QByteArray path = QFile::encodeName(info.absoluteFilePath());
    if (fuse_session_mount(m_session, path.constData()) != 0)
        return makeError(ErrorKind::LocalIo, QStringLiteral("cannot mount on %1 (see libfuse's message above; is it already a mount "
                                                            "point, or is mounting not permitted here?)").arg(mountPoint));
    m_mounted = true;
    m_mountPoint = info.absoluteFilePath();
    return okStatus();
}

int MountFs::run()
{
    int rc = 0;
    std::thread loop([this, &rc] {
        fuse_loop_config *config = fuse_loop_cfg_create();
        fuse_loop_cfg_set_max_threads(config, 16);
        rc = fuse_session_loop_mt(m_session, config);
        fuse_loop_cfg_destroy(config);
        QMetaObject::invokeMethod(QCoreApplication::instance(), &QCoreApplication::quit, Qt::QueuedConnection);
    });
    QCoreApplication::exec(); // the objects' thread: reads that are not warm are made here
    stop();
    loop.join();
    return rc == 0 ? 0 : 1;
}

void MountFs::stop()
{
    if (m_stopping.exchange(true))
        return;
    {
        std::lock_guard l(m_handlesMutex);
        for (Handle *h : m_handles)
            h->device.cancel(); // a read waiting for the objects' thread gives up within 20 ms
    }
    if (m_session) {
        fuse_session_exit(m_session);
        if (m_mounted) {
            fuse_session_unmount(m_session); // the loop's reads of /dev/fuse end
            m_mounted = false;
        }
    }
}

} // namespace sparsescope::cli
