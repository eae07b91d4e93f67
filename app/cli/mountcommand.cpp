#include "mountcommand.h"
#include "awaitfuture.h"
#include "cache.h"
#include "commands.h"
#include "mountfs.h"

#include <QFileInfo>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrent>
#include <QSocketNotifier>
#include <QTextStream>
#include <QUrl>

#include <csignal>
#include <fcntl.h>
#include <unistd.h>

namespace sparsescope::cli {

namespace {
int g_stopPipe[2] = {-1, -1};

void onTerminationSignal(int)
{
    const char byte = 1;
    (void)!::write(g_stopPipe[1], &byte, 1); // async-signal-safe (signal-safety(7))
}

// When the object was last modified: Last-Modified of the server's answer or the file's mtime,
// else (a server that does not say, a cached object trusted without asking) now.
QDateTime modifiedTime(const SparseObject &object)
{
    const QDateTime t = object.sourceInfo().lastModified;
    return t.isValid() ? t : QDateTime::currentDateTime();
}

// Lists the archive of `object` on a worker thread (the archive libraries block on reads this
// thread's event loop serves) and shows it as NAME.d; what is not an archive is only a file.
void addArchive(MountFs &fs, int file, const QString &name, SparseObject *object)
{
    auto device = std::make_unique<SparseDevice>(object);
    std::unique_ptr<ArchiveReader> reader;
    QThreadPool pool;
    pool.setMaxThreadCount(1);
    // A compressed tar is read through once to list it (then indexed: later mounts start there).
    const Status opened = awaitFuture(QtConcurrent::run(&pool, [d = device.get(), &reader]() -> Status {
        auto r = ArchiveReader::open(*d, /*sequential=*/true);
        if (!r)
            return r.error();
        reader = std::move(r).value();
        return okStatus();
    }));
    if (!opened) {
        QTextStream(stderr) << "sparsescope-cli: warning: " << name << " is shown as a file only: " << opened.error().message << "\n";
        return;
    }
    if (!reader->problem().isEmpty())
        QTextStream(stderr) << "sparsescope-cli: warning: " << reader->problem() << "\n";
    const int skipped = fs.addArchive(file, name + QStringLiteral(".d"), std::move(device), std::move(reader));
    if (skipped > 0)
        QTextStream(stderr) << "sparsescope-cli: warning: " << name << ".d leaves out " << skipped
                            << " entries (absolute or climbing paths, links leading outside, special files)\n";
}
bool isS3Prefix(const QString &source)
{
    return source.startsWith(QStringLiteral("s3://"), Qt::CaseInsensitive) && (source.endsWith(u'/') || QUrl(source).path().size() <= 1);
}

// The directory an S3 prefix is shown as: its last part, or the bucket's name.
QString prefixName(const QString &source)
{
    const QUrl url(source);
    const QStringList parts = url.path().split(u'/', Qt::SkipEmptyParts);
    return parts.isEmpty() ? url.host() : parts.last();
}
} // namespace

int cmdMount(const CliConfig &c)
{
    const QStringList names = c.mountName.isEmpty() ? MountFs::fileNames(c.sources) : QStringList{c.mountName};
    std::vector<MountFs::File> files;
    std::vector<int> archiveCandidates; // files opened at once: with --archives, maybe archives
    QStringList shown;                  // what the root shows, for the message
    for (qsizetype i = 0; i < c.sources.size(); ++i) {
        const QString &source = c.sources.at(i);
        if (isS3Prefix(source)) {
            // Every key under the prefix, as a tree under a directory named after the prefix; each
            // object is opened when a program first opens it.
            auto listing = Cache(c.engine.cacheDir).listBucket(source, /*recursive=*/true, /*holdings=*/false, c.engine.source);
            if (!listing)
                return fail(listing.error());
            const QString prefix = QUrl(source).path().mid(1);
            const QString top = c.mountName.isEmpty() ? prefixName(source) : c.mountName;
            for (const BucketEntry &b : std::as_const(listing->entries)) {
                if (b.entry.isPrefix || b.entry.key.endsWith(u'/'))
                    continue;
                QStringList parts = b.entry.key.mid(prefix.size()).split(u'/', Qt::SkipEmptyParts);
                if (parts.isEmpty() || parts.contains(QStringLiteral("..")) || parts.contains(QStringLiteral(".")))
                    continue;
                const QString name = parts.takeLast();
                files.push_back({name, nullptr, b.entry.lastModified, QStringList{top} + parts, b.source, b.entry.size});
            }
            shown << top + u'/';
            continue;
        }
        OpenOptions options; // with --archives: a ZIP's end records or a tar's head come with the opening request
        if (c.archives && !ArchiveReader::hasIndex(Cache(c.engine.cacheDir).entryDirectory(source)))
            ArchiveReader::hintOpening(source, options);
        auto opened = awaitFuture(Cache(c.engine.cacheDir).open(source, c.engine, options));
        if (!opened)
            return fail(opened.error());
        for (const QString &w : (*opened)->warnings())
            QTextStream(stderr) << "sparsescope-cli: warning: " << w << "\n";
        archiveCandidates.push_back(int(files.size()));
        shown << names.at(i);
        files.push_back({names.at(i), *opened, modifiedTime(**opened), {}, source});
    }
    std::vector<std::pair<SparseObject *, QString>> candidates;
    for (int f : archiveCandidates)
        candidates.push_back({files[size_t(f)].object.get(), files[size_t(f)].name});
    const EngineConfig engine = c.engine;
    MountFs fs(std::move(files), [engine](const QString &source) { return Cache(engine.cacheDir).open(source, engine); }, c.engine.maxAgeSeconds);
    if (c.archives)
        for (size_t i = 0; i < candidates.size(); ++i)
            addArchive(fs, archiveCandidates[i], candidates[i].second, candidates[i].first);
    if (Status st = fs.mount(c.mountPoint); !st)
        return fail(st.error());

    // SIGINT, SIGTERM, SIGHUP unmount cleanly (instead of the CLI's usual die-and-clean-up).
    if (::pipe2(g_stopPipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        fs.stop();
        return fail(QStringLiteral("cannot create a pipe for signals"));
    }
    struct sigaction sa {};
    sa.sa_handler = onTerminationSignal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP})
        ::sigaction(sig, &sa, nullptr);
    QSocketNotifier notifier(g_stopPipe[0], QSocketNotifier::Read);
    QObject::connect(&notifier, &QSocketNotifier::activated, [&fs] { fs.stop(); });

    QTextStream(stderr) << "sparsescope-cli: mounted " << shown.join(QStringLiteral(", ")) << " on " << c.mountPoint
                        << " (read-only; unmount with fusermount3 -u " << c.mountPoint << " or Ctrl-C)\n";
    const int rc = fs.run();
    ::close(g_stopPipe[0]);
    ::close(g_stopPipe[1]);
    return rc;
}

} // namespace sparsescope::cli
