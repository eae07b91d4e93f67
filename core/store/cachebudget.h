#pragma once
// CacheBudget: how much disk one cache directory may take, enforced by every process on it
// together (CacheSettings: max-size, min-free-space).
//
// Shared state: `<cache>/budget`, one page mapped MAP_SHARED (mmap(2)) by every process: the
// cache's disk use in bytes as the processes account it (each store adds what it allocates and
// subtracts what it frees), the access tick stamped on chunks (accesstimes.h), and news of the
// last eviction. The accounted use drifts (a process killed mid-write, files deleted by hand):
// every eviction pass and every gc first measures the directory as du(1) does and starts from
// that.
//
// Policy: a store calls beforeWrite() before it allocates a chunk and beforeCommit() before each
// group commit. When the cache would pass 95 % of max-size, or the filesystem has less than
// min-free-space free, the caller evicts the least recently used chunks of the whole cache
// (budgetevictor.h) down to 90 % (and above the floor) before going on, so no sample of the
// cache's disk use exceeds max-size by more than the chunks being written at that moment.
// Chunks that are claimed (being fetched), pinned (being read or exported, by any process:
// claimtable.h) or written but not yet committed are never evicted. One pass at a time
// for the whole cache: an in-process mutex, then flock(2) on the state file.
//
// Thread affinity: any thread. beforeWrite(), beforeCommit() and collect() may do I/O for
// seconds when they evict: call them on worker threads (the I/O pool), never the GUI thread.

#include "cachesettings.h"
#include "result.h"

#include <QMutex>
#include <QString>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>

namespace sparsescope {

class CacheBudget {
public:
    static constexpr double kStartFraction = 0.95; // an eviction pass starts above this share of max-size
    static constexpr double kStopFraction = 0.90;  // and frees down to this share

    // The process-wide budget of `cacheDir`, created on first use. nullptr if its state file
    // cannot be opened (read-only cache; the reason is logged once): the cache then works without.
    static std::shared_ptr<CacheBudget> forCache(const QString &cacheDir);
    // "<cache>/objects/<id>" -> "<cache>"; empty if `entryDirectory` is not inside a cache.
    static QString cacheOfEntry(const QString &entryDirectory);

    ~CacheBudget();
    QString cacheDir() const { return m_cacheDir; }

    // The settings, re-read from config.json when it changed (a stat(2) at most twice a second).
    CacheSettings settings();
    // A new access tick (cache-wide, increasing) to stamp the chunks of one read or write with.
    quint32 nextTick();
    // Adds allocated (positive) or freed (negative) bytes to the shared account.
    void account(qint64 bytes);
    qint64 accountedBytes() const;

    // (I/O) Before a store allocates `bytes`: evicts first if the cache would pass 95 % of max-size.
    void beforeWrite(qint64 bytes);
    // (I/O) Before a group commit: as beforeWrite(0), and the free-space floor (statvfs(3)).
    void beforeCommit();
    // (I/O) After a group commit: the chunks it made durable can be evicted now, so if the cache
    // is still past 95 % of max-size (a pass found too little it could take), evict again.
    void afterCommit();
    // The most bytes one read, prefetch or export may bring into the cache: 90 % of max-size, and
    // no more than the cache plus the filesystem's free space above min-free-space (as of the last
    // look). nullopt: no limit.
    std::optional<qint64> roomForOneOperation();

    // True when the cache is past 90 % of max-size (as accounted): uncommitted chunks cannot be
    // evicted, so a caller that defers its group commit should commit now. Cheap; any thread.
    bool isTight();

    struct Report {
        qint64 objects = 0; // entries that lost chunks
        qint64 chunks = 0;
        qint64 bytes = 0;   // bytes freed on disk (du before - du after for collect())
        qint64 usedBefore = 0;
        qint64 usedAfter = 0;
        QString reason;     // "max-size" | "min-free-space" | "gc"
    };
    // (I/O) Applies the budget now (`sparsescope-cli gc`): measures the cache (du), frees blocks of
    // data files that hold no present chunk and no claim (left by a process killed before its
    // commit), then evicts least recently used chunks down to 90 % of max-size and above the
    // floor. Errors: LocalIo (the state file or the lock).
    Result<Report> collect();

    // The last eviction by any process on this cache (seq grows by one per eviction pass that
    // freed something; 0: none yet).
    struct News {
        quint64 seq = 0;
        Report report;          // the last pass
        qint64 totalChunks = 0; // every pass so far, summed (differences tell what happened between two looks)
        qint64 totalBytes = 0;
    };
    News lastEviction() const;

    // (I/O) Disk blocks allocated under `dir`, in bytes, as du(1) counts them (files and
    // directories, st_blocks × 512).
    static qint64 diskUsage(const QString &dir);
    // (I/O) Bytes free to unprivileged users on the filesystem of `dir` (statvfs(3) f_bavail ×
    // f_frsize), -1 if unknown.
    static qint64 freeSpace(const QString &dir);

private:
    explicit CacheBudget(QString cacheDir);
    Status open();
    struct State;
    State *state() const;
    // Evicts so that `incoming` more bytes fit. `force`: gc (no back-off, always measures).
    Result<Report> enforce(qint64 incoming, bool checkFloor, bool force);
    bool overBudget(const CacheSettings &s, qint64 used, qint64 incoming, qint64 freeBytes) const;

    QString m_cacheDir;
    int m_fd = -1;
    void *m_map = nullptr;
    CacheSettings lastSettings() const; // as settings() last read them, without looking at the file
    mutable QMutex m_settingsMutex;
    CacheSettings m_settings;
    qint64 m_settingsMtime = -1;
    std::chrono::steady_clock::time_point m_settingsCheckedAt{};
    std::atomic<qint64> m_freeSeen{-1};  // last statvfs answer
    QMutex m_passMutex;                  // one eviction pass per process at a time
    std::atomic<qint64> m_futileAt{-1}; // accounted bytes when a pass last freed too little: none again before it grows
};

} // namespace sparsescope
