#pragma once
// MountManager: the app's mounts. Each is `sparsescope-cli mount` run as a child process on the
// app's cache directory (the mount is one more process on the shared cache: its reads appear on
// the app's map, and nothing it fetches is fetched twice), so that a crash of either leaves the
// other running. GUI thread; never waits: a mount's start and end are reported by signals.

#include <QObject>
#include <QProcess>
#include <QString>

#include <memory>
#include <vector>

namespace sparsescope {

class MountManager final : public QObject {
    Q_OBJECT
public:
    struct Mount {
        QString source;
        QString mountPoint;
        bool ready = false; // the files are there
    };

    // `cliPath` empty: sparsescope-cli beside this executable (build tree: ../cli/), else on PATH.
    explicit MountManager(QString cliPath = {}, QObject *parent = nullptr);
    ~MountManager() override; // unmounts everything (SIGTERM, then up to 3 s each)

    // Mounts `source` (its file, and with archives its NAME.d) on the directory `mountPoint`
    // through the cache in `cacheDir`. Reports mounted() or failed() later.
    void mount(const QString &source, const QString &mountPoint, const QString &cacheDir, bool archives = true);
    // Unmounts what is mounted on `mountPoint` (the child unmounts on SIGTERM); unmounted() follows.
    void unmount(const QString &mountPoint);
    std::vector<Mount> mounts() const;
    static QString findCli();

Q_SIGNALS:
    void mounted(const QString &source, const QString &mountPoint);
    void unmounted(const QString &source, const QString &mountPoint);
    void failed(const QString &source, const QString &message); // the child's own error line
    void changed();

private:
    struct Child {
        Mount mount;
        std::unique_ptr<QProcess> process;
        QByteArray errors;
    };
    void onFinished(QProcess *process);
    QString m_cli;
    std::vector<std::unique_ptr<Child>> m_children;
};

} // namespace sparsescope
