#include "mountcommand.h"
#include "awaitfuture.h"
#include "cache.h"
#include "commands.h"
#include "mountfs.h"

#include <QFileInfo>
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
} // namespace

int cmdMount(const CliConfig &c)
{
    const QStringList names = c.mountName.isEmpty() ? MountFs::fileNames(c.sources) : QStringList{c.mountName};
    std::vector<MountFs::File> files;
    for (qsizetype i = 0; i < c.sources.size(); ++i) {
        auto opened = awaitFuture(Cache(c.engine.cacheDir).open(c.sources.at(i), c.engine));
        if (!opened)
            return fail(opened.error());
        for (const QString &w : (*opened)->warnings())
            QTextStream(stderr) << "sparsescope-cli: warning: " << w << "\n";
        files.push_back({names.at(i), *opened, modifiedTime(c.sources.at(i), **opened)});
    }
    MountFs fs(std::move(files));
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
