#pragma once
// FrameCache: decompressed zstd frames of packed chunks (packstore.h), most recently used kept,
// shared by every reader thread of a process.
//
// What the page cache is to loose chunks this is to compressed ones: a warm read of a frame
// kept here is a copy, not a decompression (~1 µs against ~25 µs for a 32 KiB frame). It is
// split into kShards independently locked LRU caches (by frame) so that readers on several
// threads rarely wait for each other; a copy out of a frame happens outside every lock (the
// frame is an implicitly shared QByteArray, kept alive by the reader that found it).
//
// Size: SPARSESCOPE_PACK_CACHE_MB if set (0 or less: the default), else defaultBytes(): 1/32 of
// the machine's physical memory (sysconf(3) _SC_PHYS_PAGES), at least 64 MiB and at most 1 GiB —
// memory is taken only as frames are read, and given back when the process ends or forget().
//
// Thread affinity: any thread.

#include <QByteArray>
#include <QCache>
#include <QMutex>

#include <array>

namespace sparsescope {

class FrameCache {
public:
    // A frame: the pack it is stored in and the offset of its compressed bytes there.
    struct Key {
        qint64 pack = 0;
        qint64 offset = 0;
        bool operator==(const Key &) const = default;
    };

    // maxBytes: the bytes of decompressed frames kept in all (split evenly between the shards).
    explicit FrameCache(qint64 maxBytes);
    // The size from SPARSESCOPE_PACK_CACHE_MB or defaultBytes(), bytes.
    static qint64 configuredBytes();
    static qint64 defaultBytes();
    static constexpr qint64 kMinBytes = 64 << 20;
    static constexpr qint64 kMaxBytes = qint64(1) << 30;

    // The frame (shared, not copied) and marks it most recently used; a null QByteArray if not kept.
    QByteArray find(const Key &key);
    // Keeps `plain` (shared, not copied), dropping the least recently used frames of its shard.
    void insert(const Key &key, const QByteArray &plain);
    void clear();

private:
    static constexpr int kShards = 16;
    struct Shard {
        QMutex mutex;
        QCache<Key, QByteArray> frames; // cost: bytes
    };
    Shard &shardOf(const Key &key);
    std::array<Shard, kShards> m_shards;
};

inline size_t qHash(const FrameCache::Key &k, size_t seed) { return qHashMulti(seed, k.pack, k.offset); }

} // namespace sparsescope
