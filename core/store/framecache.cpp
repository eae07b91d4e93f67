#include "framecache.h"

#include <QtGlobal>

#include <algorithm>
#include <unistd.h>

namespace sparsescope {

FrameCache::FrameCache(qint64 maxBytes)
{
    for (Shard &s : m_shards)
        s.frames.setMaxCost(std::max<qint64>(maxBytes / kShards, 1));
}

qint64 FrameCache::configuredBytes()
{
    const qint64 mb = qEnvironmentVariableIntValue("SPARSESCOPE_PACK_CACHE_MB");
    return mb > 0 ? mb << 20 : defaultBytes();
}

qint64 FrameCache::defaultBytes()
{
    const long pages = ::sysconf(_SC_PHYS_PAGES), pageSize = ::sysconf(_SC_PAGESIZE);
    if (pages <= 0 || pageSize <= 0)
        return kMinBytes;
    return std::clamp(qint64(pages) * pageSize / 32, kMinBytes, kMaxBytes);
}

FrameCache::Shard &FrameCache::shardOf(const Key &key)
{
    // Frames of one pack lie at increasing offsets a few KiB apart: mix before picking a shard.
    return m_shards[qHash(key, 0) % kShards];
}

QByteArray FrameCache::find(const Key &key)
{
    Shard &s = shardOf(key);
    QMutexLocker l(&s.mutex);
    const QByteArray *hit = s.frames.object(key);
    return hit ? *hit : QByteArray();
}

void FrameCache::insert(const Key &key, const QByteArray &plain)
{
    Shard &s = shardOf(key);
    QMutexLocker l(&s.mutex);
    s.frames.insert(key, new QByteArray(plain), plain.size());
}

void FrameCache::clear()
{
    for (Shard &s : m_shards) {
        QMutexLocker l(&s.mutex);
        s.frames.clear();
    }
}

} // namespace sparsescope
