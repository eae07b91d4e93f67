#include "cachewatcher.h"

#include <QDir>

namespace sparsescope {

CacheWatcher::CacheWatcher(QObject *parent) : QObject(parent)
{
    m_debounce.setSingleShot(true);
    m_debounce.setInterval(250);
    connect(&m_debounce, &QTimer::timeout, this, &CacheWatcher::changed);
    connect(&m_watcher, &QFileSystemWatcher::directoryChanged, this, [this] { m_debounce.start(); });
    connect(&m_watcher, &QFileSystemWatcher::fileChanged, this, [this] {
        if (!m_debounce.isActive())
            m_debounce.start(); // a journal being appended to: at most one changed() per interval
    });
}

void CacheWatcher::watch(const Cache &cache)
{
    const QStringList old = m_watcher.directories() + m_watcher.files();
    if (!old.isEmpty())
        m_watcher.removePaths(old);
    QDir().mkpath(cache.objectsDirectory());
    m_watcher.addPath(cache.objectsDirectory());
}

void CacheWatcher::watchEntries(const QStringList &entryDirectories)
{
    const QStringList watched = m_watcher.files();
    QStringList add;
    for (const QString &dir : entryDirectories) {
        const QString journal = dir + QStringLiteral("/journal");
        if (!watched.contains(journal))
            add << journal;
    }
    if (!add.isEmpty())
        m_watcher.addPaths(add);
}

} // namespace sparsescope
