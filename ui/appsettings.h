#pragma once
// AppSettings: the desktop app's settings in QSettings (cache directory, chunk size for new
// objects, parallel connections, timeout, max age of a validation) and its recent objects (redacted sources only: no
// credentials are ever stored).

#include "engineconfig.h"

#include <QStringList>

namespace sparsescope {

struct AppSettings {
    QString cacheDir;
    qint64 chunkSize = EngineConfig::kDefaultChunkSize; // bytes
    int connections = 4;
    int timeoutSeconds = 30;
    int maxAgeSeconds = 0; // trust a validation this recent without asking upstream (0: always ask)
    QStringList recent; // newest first, at most kMaxRecent
    // The cache directory was given for this run only (--cache-dir): save() keeps the stored
    // default. Choosing a directory in Preferences makes it the default again.
    bool cacheDirForThisRun = false;

    static constexpr int kMaxRecent = 20;

    static AppSettings load();
    void save() const;
    EngineConfig engineConfig() const;
    void addRecent(const QString &redactedSource);
};

} // namespace sparsescope
