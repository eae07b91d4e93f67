#include "appsettings.h"
#include "cache.h"

#include <QSettings>

namespace sparsescope {

AppSettings AppSettings::load()
{
    QSettings s;
    AppSettings a;
    a.cacheDir = s.value(QStringLiteral("cache/dir"), Cache::defaultDirectory()).toString();
    a.chunkSize = s.value(QStringLiteral("engine/chunkSize"), a.chunkSize).toLongLong();
    a.connections = std::clamp(s.value(QStringLiteral("engine/connections"), a.connections).toInt(), 1, 64);
    a.timeoutSeconds = std::clamp(s.value(QStringLiteral("engine/timeoutSeconds"), a.timeoutSeconds).toInt(), 1, 86400);
    a.maxAgeSeconds = std::clamp(s.value(QStringLiteral("engine/maxAgeSeconds"), a.maxAgeSeconds).toInt(), 0, 365 * 86400);
    a.recent = s.value(QStringLiteral("recent")).toStringList();
    if (!EngineConfig::chunkSizeProblem(a.chunkSize).isEmpty())
        a.chunkSize = EngineConfig::kDefaultChunkSize;
    return a;
}

void AppSettings::save() const
{
    QSettings s;
    if (!cacheDirForThisRun)
        s.setValue(QStringLiteral("cache/dir"), cacheDir);
    s.setValue(QStringLiteral("engine/chunkSize"), chunkSize);
    s.setValue(QStringLiteral("engine/connections"), connections);
    s.setValue(QStringLiteral("engine/timeoutSeconds"), timeoutSeconds);
    s.setValue(QStringLiteral("engine/maxAgeSeconds"), maxAgeSeconds);
    s.setValue(QStringLiteral("recent"), recent);
}

EngineConfig AppSettings::engineConfig() const
{
    EngineConfig c;
    c.cacheDir = cacheDir;
    c.chunkSize = chunkSize;
    c.source.connections = connections;
    c.source.timeoutMs = timeoutSeconds * 1000;
    c.maxAgeSeconds = maxAgeSeconds;
    return c;
}

void AppSettings::addRecent(const QString &redactedSource)
{
    recent.removeAll(redactedSource);
    recent.prepend(redactedSource);
    while (recent.size() > kMaxRecent)
        recent.removeLast();
}

} // namespace sparsescope
