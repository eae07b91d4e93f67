#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 12)
#include "mountfs.h"
#include "sparsedevice.h"

#include <fuse_lowlevel.h>

#include <QCoreApplication>
#include <QDateTime>
#include <QFileInfo>
#include <QTextStream>
#include <QUrl>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace sparsescope::cli {

// One open file: the device that fetches and reads ahead for it (one reader at a time), and
// where its bytes lie in the object (a member read as is), or its bytes (a compressed member).
struct MountFs::Handle {
    explicit Handle(SparseObject *o) : object(o), device(o) {}
    SparseObject *object;
    SparseDevice device;
    std::mutex mutex;                // device, whole
    std::atomic<qint64> lastEnd{-1}; // where the last read of this handle ended
    qint64 size = 0;                 // of the file
    qint64 dataBegin = 0;            // the file's first byte in the object; -1: decompressed into `whole`
    int file = -1, entry = -1;       // a member: its archive and entry
    bool loaded = false;
    QByteArray whole;
};

namespace {
constexpr double kAttrTimeout = 3600; // directories and archive members do not change while mounted
constexpr double kFileAttrTimeout = 0; // an object's size may change when it is validated on open: asked each time

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

// The low-level operations (fuse_lowlevel.h, struct fuse_lowlevel_ops) over the MountTree.
struct MountOps {
    static MountFs *fs(fuse_req_t req) { return static_cast<MountFs *>(fuse_req_userdata(req)); }
    static struct stat attributes(MountFs *fs, fuse_ino_t ino)
    {
        struct stat st {};
        const MountNode *n = fs->m_tree.node(ino);
        st.st_ino = ino;
        st.st_uid = ::getuid();
        st.st_gid = ::getgid();
        // An object's size and mtime change when it changes upstream.
        const auto [size, mtime] = n->kind == MountNode::Kind::File ? fs->sizeAndMtimeOf(n->file, n->size, n->mtime)
                                                                    : std::pair<qint64, qint64>{n->size, n->mtime};
        st.st_mtime = st.st_atime = st.st_ctime = mtime;
        st.st_size = size;
        st.st_blksize = 4096;
        st.st_blocks = (size + 511) / 512;
        switch (n->kind) {
        case MountNode::Kind::Directory:
            st.st_mode = S_IFDIR | n->mode;
            st.st_nlink = 2;
            break;
        case MountNode::Kind::Symlink:
            st.st_mode = S_IFLNK | 0777;
            st.st_nlink = 1;
            break;
        default:
            st.st_mode = S_IFREG | n->mode;
            st.st_nlink = 1;
        }
        return st;
    }

    static void lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
    {
        MountFs *f = fs(req);
        const quint64 ino = f->m_tree.lookup(parent, QString::fromUtf8(name));
        if (!ino) {
            fuse_reply_err(req, ENOENT);
            return;
        }
        fuse_entry_param e {};
        e.ino = ino;
        e.attr = attributes(f, ino);
        e.entry_timeout = kAttrTimeout;
        e.attr_timeout = f->m_tree.node(ino)->kind == MountNode::Kind::File ? kFileAttrTimeout : kAttrTimeout;
        fuse_reply_entry(req, &e);
    }

    static void getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info *)
    {
        MountFs *f = fs(req);
        if (!f->m_tree.node(ino)) {
            fuse_reply_err(req, ENOENT);
            return;
        }
        const struct stat st = attributes(f, ino);
        fuse_reply_attr(req, &st, f->m_tree.node(ino)->kind == MountNode::Kind::File ? kFileAttrTimeout : kAttrTimeout);
    }

    static void readlink(fuse_req_t req, fuse_ino_t ino)
    {
        const MountNode *n = fs(req)->m_tree.node(ino);
        if (!n || n->kind != MountNode::Kind::Symlink) {
            fuse_reply_err(req, EINVAL);
            return;
        }
        fuse_reply_readlink(req, n->target.toUtf8().constData());
    }

    static void readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t offset, fuse_file_info *)
    {
        MountFs *f = fs(req);
        const MountNode *dir = f->m_tree.node(ino);
        if (!dir || dir->kind != MountNode::Kind::Directory) {
            fuse_reply_err(req, dir ? ENOTDIR : ENOENT);
            return;
        }
        // Entry k of ".", "..", then the children in name order, from `offset` on, as many as fit.
        std::vector<char> buf(size);
        size_t used = 0;
        auto child = dir->children.begin();
        const size_t count = 2 + dir->children.size();
        if (offset > 2)
            std::advance(child, std::min<size_t>(size_t(offset) - 2, dir->children.size()));
        for (size_t k = size_t(offset); k < count; ++k) {
            struct stat st {};
            QByteArray name;
            if (k < 2) {
                st.st_ino = k == 0 ? ino : dir->parent;
                st.st_mode = S_IFDIR;
                name = k == 0 ? "." : "..";
            } else {
                st = attributes(f, child->second);
                name = child->first.toUtf8();
                ++child;
            }
            const size_t need = fuse_add_direntry(req, buf.data() + used, size - used, name.constData(), &st, off_t(k + 1));
            if (need > size - used)
                break;
            used += need;
        }
        fuse_reply_buf(req, buf.data(), used);
    }

    static void init(void *, fuse_conn_info *conn)
    {
        // A file's attributes are asked for on every stat (attr_timeout 0: its object may change
        // upstream, found out on open). With the kernel's auto_inval_data, that also meant a
        // GETATTR before every read(2), page cache or not: warm random 4 KiB reads through the
        // mount fell from ~690 k to ~40 k IOPS. Cached pages are instead dropped when an open
        // finds the object changed (keep_cache = 0 there); reads past the cached size still
        // refresh it (fuse_common.h, FUSE_CAP_AUTO_INVAL_DATA).
        conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
    }

    static void open(fuse_req_t req, fuse_ino_t ino, fuse_file_info *fi)
    {
        MountFs *f = fs(req);
        const MountNode *n = f->m_tree.node(ino);
        if (!n || (n->kind != MountNode::Kind::File && n->kind != MountNode::Kind::Member)) {
            fuse_reply_err(req, !n ? ENOENT : n->kind == MountNode::Kind::Directory ? EISDIR : EINVAL);
            return;
        }
        if ((fi->flags & O_ACCMODE) != O_RDONLY) {
            fuse_reply_err(req, EROFS);
            return;
        }
        // A file is validated on open (as the CLI's commands are, within --max-age); an archive's
        // members were validated with the archive when it was mounted.
        bool changed = false;
        auto object = f->objectOf(n->file, n->kind == MountNode::Kind::File, &changed);
        if (!object) {
            f->logOnce(QStringLiteral("opening %1 failed (EIO): %2").arg(f->m_files[size_t(n->file)].name, object.error().message));
            fuse_reply_err(req, EIO);
            return;
        }
        auto *h = new MountFs::Handle(object->get());
        h->size = n->kind == MountNode::Kind::File ? (*object)->geometry().objectSize : n->size;
        if (n->kind == MountNode::Kind::Member) {
            h->file = n->file;
            h->entry = n->entry;
            h->dataBegin = f->storedDataBegin(n->file, n->entry, h->device); // may read a header upstream
        }
        {
            std::lock_guard l(f->m_handlesMutex);
            f->m_handles.push_back(h);
        }
        fi->fh = reinterpret_cast<uint64_t>(h);
        fi->keep_cache = changed ? 0 : 1; // the kernel's cached pages stay valid unless the object changed
        if (fuse_reply_open(req, fi) != 0)
            release(req, ino, fi);
    }

    static Result<QByteArray> readMember(MountFs *f, MountFs::Handle *h, ByteRange range)
    {
        std::lock_guard l(h->mutex);
        if (!h->loaded) {
            constexpr qint64 kMaxWhole = qint64(512) << 20;
            if (h->size > kMaxWhole)
                return makeError(ErrorKind::Usage, QStringLiteral("a compressed member of %1 bytes is more than the mount decompresses "
                                                                  "(512 MiB); extract it with sparsescope-cli extract").arg(h->size));
            MountFs::Archive &a = *f->m_archives.at(h->file);
            std::lock_guard al(a.mutex);
            QByteArray whole;
            whole.reserve(h->size);
            Status st = a.reader->read(h->entry, [&whole](const char *data, qint64 length) {
                whole.append(data, length);
                return true;
            });
            if (!st)
                return st.error();
            h->whole = std::move(whole);
            h->loaded = true;
        }
        return h->whole.mid(range.begin, range.length());
    }

    static void read(fuse_req_t req, fuse_ino_t, size_t size, off_t offset, fuse_file_info *fi)
    {
        MountFs *f = fs(req);
        auto *h = reinterpret_cast<MountFs::Handle *>(fi->fh);
        const ByteRange range{std::min<qint64>(offset, h->size), std::min<qint64>(offset + qint64(size), h->size)};
        if (range.isEmpty()) {
            fuse_reply_buf(req, nullptr, 0);
            return;
        }
        std::optional<Result<QByteArray>> got;
        if (h->dataBegin < 0) {
            got = readMember(f, h, range);
        } else {
            // A jump to bytes that are all present is read right here, exactly (random reads of
            // a warm file); a reader going forward goes through its device, which reads ahead.
            const ByteRange inObject{h->dataBegin + range.begin, h->dataBegin + range.end};
            const bool forward = h->lastEnd.exchange(range.end) == range.begin;
            if (!forward)
                got = h->object->readPresent(inObject);
            if (!got) {
                std::lock_guard l(h->mutex);
                got = h->device.read(inObject);
            }
        }
        if (!*got) {
            if (got->error().kind != ErrorKind::Cancelled)
                f->logOnce(QStringLiteral("reading bytes %1 of %2 failed (EIO): %3").arg(range.toInclusiveString(), f->nameOf(*h), got->error().message));
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

MountFs::MountFs(std::vector<File> files, Opener opener, int maxAgeSeconds)
    : m_files(std::move(files)), m_opener(std::move(opener)), m_maxAgeSeconds(maxAgeSeconds)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    for (size_t i = 0; i < m_files.size(); ++i) {
        File &f = m_files[i];
        f.validatedAtMs = now;
        m_tree.addFile(f.directories, f.name, f.object ? f.object->geometry().objectSize : f.size, f.mtime.toSecsSinceEpoch(), int(i));
        m_openMutexes.push_back(std::make_unique<std::mutex>());
    }
}

QString MountFs::nameOf(const Handle &h) const
{
    if (h.entry < 0)
        return h.device.name();
    const ArchiveEntry *e = findEntry(m_archives.at(h.file)->entries, h.entry);
    return QStringLiteral("\"%1\" in %2").arg(e ? e->path : QString::number(h.entry), h.device.name());
}

int MountFs::addArchive(int file, const QString &directory, std::unique_ptr<SparseDevice> device, std::unique_ptr<ArchiveReader> reader)
{
    auto a = std::make_unique<Archive>();
    a->entries = reader->entries();
    a->format = reader->formatName();
    a->device = std::move(device);
    a->reader = std::move(reader);
    const int skipped = m_tree.addArchive(directory, m_files[size_t(file)].mtime.toSecsSinceEpoch(), file, a->entries);
    m_archives[file] = std::move(a);
    return skipped;
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
        o.init = MountOps::init;
        o.lookup = MountOps::lookup;
        o.getattr = MountOps::getattr;
        o.readlink = MountOps::readlink;
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
    fuse_opt_free_args(&args); // libfuse may have copied them into an argv of its own
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

} // namespace sparsescope::cli
