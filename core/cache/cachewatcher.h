#pragma once
// CacheWatcher: says when another process (or this one) created, filled, evicted or removed an
// object of a cache directory: QFileSystemWatcher (inotify) on the objects directory and on every
// entry's journal, debounced to one changed() per `debounceMs`. What changed is for the receiver
// to look up (Cache::listAsync()).
//
// Thread affinity: the thread it was created in (it needs that thread's event loop).

#include "cache.h"

#include <QFileSystemWatcher>
#include <QObject>
#include <QTimer>

namespace sparsescope {

class CacheWatcher final : public QObject {
    Q_OBJECT
public:
    explicit CacheWatcher(QObject *parent = nullptr);

    // Starts watching `cache` (stops watching the previous one).
    void watch(const Cache &cache);
    // Watches the journals of these entries too (new entries, journals replaced by compaction).
    void watchEntries(const QStringList &entryDirectories);

Q_SIGNALS:
    void changed();

private:
    QFileSystemWatcher m_watcher;
    QTimer m_debounce;
};

} // namespace sparsescope
