#include "mountmanager.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

#include <csignal>

namespace sparsescope {

MountManager::MountManager(QString cliPath, QObject *parent) : QObject(parent), m_cli(cliPath.isEmpty() ? findCli() : std::move(cliPath)) {}

MountManager::~MountManager()
{
    for (auto &c : m_children) {
        c->process->disconnect(this);
        if (c->process->state() != QProcess::NotRunning) {
            c->process->terminate(); // SIGTERM: the mount unmounts itself
            if (!c->process->waitForFinished(3000))
                c->process->kill(); // auto_unmount then releases the mount point
        }
    }
}

QString MountManager::findCli()
{
    const QString dir = QCoreApplication::applicationDirPath();
    for (const QString &candidate : {dir + QStringLiteral("/sparsescope-cli"), dir + QStringLiteral("/../cli/sparsescope-cli")})
        if (QFileInfo(candidate).isExecutable())
            return QFileInfo(candidate).canonicalFilePath();
    return QStandardPaths::findExecutable(QStringLiteral("sparsescope-cli"));
}

void MountManager::mount(const QString &source, const QString &mountPoint, const QString &cacheDir, bool archives)
{
    if (m_cli.isEmpty()) {
        Q_EMIT failed(source, tr("sparsescope-cli was not found beside the app or on PATH; it runs the mount"));
        return;
    }
    auto child = std::make_unique<Child>();
    child->mount = {source, QFileInfo(mountPoint).absoluteFilePath(), false};
    child->process = std::make_unique<QProcess>();
    QProcess *p = child->process.get();
    QStringList args{QStringLiteral("--cache-dir"), cacheDir, QStringLiteral("mount"), child->mount.mountPoint, source};
    if (archives)
        args << QStringLiteral("--archives");
    connect(p, &QProcess::readyReadStandardError, this, [this, p] {
        for (auto &c : m_children)
            if (c->process.get() == p) {
                c->errors += p->readAllStandardError();
                if (!c->mount.ready && c->errors.contains("sparsescope-cli: mounted ")) {
                    c->mount.ready = true; // the CLI says so once the kernel serves the files
                    Q_EMIT mounted(c->mount.source, c->mount.mountPoint);
                    Q_EMIT changed();
                }
            }
    });
    connect(p, &QProcess::finished, this, [this, p] { onFinished(p); });
    connect(p, &QProcess::errorOccurred, this, [this, p](QProcess::ProcessError e) {
        if (e == QProcess::FailedToStart)
            onFinished(p);
    });
    m_children.push_back(std::move(child));
    p->start(m_cli, args);
    Q_EMIT changed();
}

void MountManager::unmount(const QString &mountPoint)
{
    const QString want = QFileInfo(mountPoint).absoluteFilePath();
    for (auto &c : m_children)
        if (c->mount.mountPoint == want && c->process->state() != QProcess::NotRunning)
            c->process->terminate();
}

std::vector<MountManager::Mount> MountManager::mounts() const
{
    std::vector<Mount> out;
    for (const auto &c : m_children)
        out.push_back(c->mount);
    return out;
}

void MountManager::onFinished(QProcess *process)
{
    for (auto it = m_children.begin(); it != m_children.end(); ++it) {
        if ((*it)->process.get() != process)
            continue;
        std::unique_ptr<Child> c = std::move(*it);
        m_children.erase(it);
        c->errors += process->readAllStandardError();
        if (c->mount.ready && process->exitStatus() == QProcess::NormalExit && process->exitCode() == 0) {
            Q_EMIT unmounted(c->mount.source, c->mount.mountPoint);
        } else {
            // The child's last error line says what went wrong (no /dev/fuse, not permitted, ...).
            QString why;
            for (const QByteArray &line : c->errors.split('\n'))
                if (line.startsWith("sparsescope-cli: ") && !line.contains("warning:") && !line.contains(": mounted "))
                    why = QString::fromUtf8(line.mid(17));
            if (why.isEmpty())
                why = process->error() == QProcess::FailedToStart ? tr("could not start %1").arg(m_cli)
                                                                    : tr("the mount ended (exit status %1)").arg(process->exitCode());
            if (c->mount.ready)
                Q_EMIT unmounted(c->mount.source, c->mount.mountPoint);
            Q_EMIT failed(c->mount.source, why);
        }
        process->deleteLater();
        c->process.release(); // deleted later: this slot runs inside its signal
        Q_EMIT changed();
        return;
    }
}

} // namespace sparsescope
