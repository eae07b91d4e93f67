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

// When the object was last modified: the file's mtime for a local path, the validator when it is
// an HTTP date (a server without ETags), else now.
QDateTime modifiedTime(const QString &source, const SparseObject &object)
{
    const QUrl url(source);
    const bool local = url.scheme().isEmpty() || url.scheme().size() == 1 || url.isLocalFile();
    if (local) {
        const QFileInfo info(url.isLocalFile() ? url.toLocalFile() : source);
        if (info.exists())
            return info.lastModified();
    }
    const QDateTime http = QDateTime::fromString(object.sourceInfo().validator, Qt::RFC2822Date);
    return http.isValid() ? http : QDateTime::currentDateTime();
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
} // namespace

int cmdMount(const CliConfig &c)
{
    const QStringList names = c.mountName.isEmpty() ? MountFs::fileNames(c.sources) : QStringList{c.mountName};
    std::vector<MountFs::File> files;
    for (qsizetype i = 0; i < c.sources.size(); ++i) {
        OpenOptions options; // with --archives: a ZIP's end records come with the opening request
        if (c.archives && !ArchiveReader::hasIndex(Cache(c.engine.cacheDir).entryDirectory(c.sources.at(i))))
            options.tailBytes = ArchiveReader::kTailBytes;
        auto opened = awaitFuture(Cache(c.engine.cacheDir).open(c.sources.at(i), c.engine, options));
        if (!opened)
            return fail(opened.error());
        for (const QString &w : (*opened)->warnings())
            QTextStream(stderr) << "sparsescope-cli: warning: " << w << "\n";
        files.push_back({names.at(i), *opened, modifiedTime(c.sources.at(i), **opened)});
    }
    std::vector<SparseObject *> objects;
    for (const MountFs::File &f : files)
        objects.push_back(f.object.get());
    MountFs fs(std::move(files));
    if (c.archives)
        for (size_t i = 0; i < objects.size(); ++i)
            addArchive(fs, int(i), names.at(qsizetype(i)), objects[i]);
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

    QTextStream(stderr) << "sparsescope-cli: mounted " << names.join(QStringLiteral(", ")) << " on " << c.mountPoint
                        << " (read-only; unmount with fusermount3 -u " << c.mountPoint << " or Ctrl-C)\n";
    const int rc = fs.run();
    ::close(g_stopPipe[0]);
    ::close(g_stopPipe[1]);
    return rc;
}

} // namespace sparsescope::cli
