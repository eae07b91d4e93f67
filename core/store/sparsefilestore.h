#pragma once
// SparseFileStore: the ChunkStore of one cache entry (layout in cachepaths.h): a sparse `data`
// file of the object's logical size, `meta.json`, the coverage `journal` (journal.h) and the
// `claims` file (claimtable.h).
//
// Many processes (and many stores in one process) may have one entry open at once; each holds
// the entry's lock shared (objectlock.h). Among them:
// - A missing chunk is fetched by the holder of its claim only; the others wait and learn that
//   it is present from the journal (refresh()), whose Present record is durable before the claim
//   is released.
// - An eviction claims its chunks (waiting for fetches under way), learns what they stored,
//   makes its Evict record durable and only then punches holes; a read checks the journal after
//   its pread(2), so a read that overlapped another process's eviction is failed as "evicted
//   meanwhile" (Integrity) instead of returning a hole: no process returns a punched hole as data.
// - A change upstream seen at open resets the entry in place (claims on every chunk, a Reset
//   record, a new meta.json); the others see the Reset and report the object changed.
// - Repairing a torn journal tail, compacting the journal and creating the entry happen only
//   when the opener has the entry to itself (the lock taken exclusively, then downgraded).
// On a network filesystem the lock is kept exclusive (one process per entry).
//
// Packed chunks (packstore.h, sparsefilestore_pack.cpp): `pack` moves present chunks out of the
// data file into the cache's shared packs, as an eviction would (claims, a durable Packed record,
// the drop counter, then the punch), except that the chunks stay present. Reads, exports and
// verify take a packed chunk's bytes from its pack; a read that overlapped the move is retried.

#include "accesstimes.h"
#include "chunkstore.h"
#include "checksumtable.h"
#include "claimtable.h"
#include "objectlock.h"
#include "objectmeta.h"
#include "writerpreferringmutex.h"

#include <QMutex>
#include <QStringList>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

namespace sparsescope {

class CacheBudget;
class PackStore;
class PackWriter;

class SparseFileStore final : public ChunkStore {
public:
    // (I/O) Opens or creates the entry in `directory` for an object described by `want`
    // (source, size, validator; want.chunkSize is used only when the entry is new).
    // If the entry describes another size or validator, the object changed upstream: its data is
    // dropped and a warning says so. A torn journal tail, a missing or resized data file and
    // chunks that lie in holes of the data file (SEEK_HOLE, lseek(2)) are dropped with a warning.
    // Waits up to lockWaitMs for a process that has the entry to itself (creating, repairing or
    // removing it). Errors: LocalIo (permissions, disk, lock held by another process).
    static Result<std::unique_ptr<SparseFileStore>> open(const QString &directory, const ObjectMeta &want, int lockWaitMs);

    // (I/O) Reads an entry without locking or changing it (for `status`): meta, coverage and
    // allocation. A torn tail is ignored, not repaired.
    struct Inspection {
        ObjectMeta meta;
        ChunkBitmap present;
        ChunkBitmap packed;       // the present chunks whose bytes are in the packs
        qint64 presentBytes = 0;
        qint64 packedBytes = 0;   // of presentBytes, in the packs
        qint64 allocatedBytes = 0; // disk blocks of the data file (loose chunks)
    };
    static Result<Inspection> inspect(const QString &directory);

    // (I/O) Every entry under `cacheDir` that can be inspected, sorted by source; entries that
    // cannot be read are reported in `warnings` and skipped.
    struct Listed {
        QString directory;
        Inspection inspection;
    };
    static QList<Listed> listEntries(const QString &cacheDir, QStringList *warnings);
    // The entry directories under `cacheDir` (not those being removed), without reading them.
    static QStringList entryDirectories(const QString &cacheDir);

    // (I/O) Deletes the entry in `directory`: waits for a process that is creating or repairing
    // it (up to lockWaitMs; `waiting`, if set, is told at once what it waits for), renames it out
    // of the way so no one opens it half-deleted, then removes it. Processes that have it open
    // keep working on the unlinked files and see the removal at their next refresh(). Errors:
    // LocalIo.
    static Status removeEntry(const QString &directory, int lockWaitMs, const std::function<void(const QString &)> &waiting = {});

    ~SparseFileStore() override;

    QStringList openWarnings() const { return m_warnings; }
    // (I/O) The same version of the object under a stronger validator (a weak ETag's strong form,
    // http::strengthens): meta.json rewritten atomically, nothing dropped. Errors: LocalIo.
    Status setValidator(const QString &validator);
    const ObjectMeta &meta() const { return m_meta; }

    ChunkGeometry geometry() const override;
    QString validator() const override;
    QString location() const override { return m_dir; }
    bool isPresent(qint64 chunk) const override;
    qint64 countPresent(qint64 first, qint64 last) const override;
    ChunkBitmap presentChunks() const override;
    // Chunks [first, last] of `present` and `packed` (each of chunkCount() bits) become what the
    // store holds now; the rest of them is left alone (a view that follows changed ranges).
    void copyCoverage(qint64 first, qint64 last, ChunkBitmap *present, ChunkBitmap *packed) const;
    QList<std::pair<qint64, qint64>> presentRuns(qint64 first, qint64 last) const override;
    qint64 presentBytes() const override;
    qint64 allocatedBytes() const override;
    Status writeChunk(qint64 index, QByteArrayView bytes) override;
    Result<QByteArray> read(ByteRange range) const override { return read(range, true); }
    // stampAccess false: the read does not count as a use (the budget's look at a cold chunk).
    Result<QByteArray> read(ByteRange range, bool stampAccess) const;
    Status copyPresentTo(int fd, ByteRange range, bool requireAll) const override;
    Status commit() override;
    Result<qint64> evict(qint64 first, qint64 last) override;
    Result<VerifyReport> verify() override;
    Status reset(qint64 newSize, const QString &newValidator) override;
    Result<ClaimResult> claim(qint64 first, qint64 last) override;
    void releaseClaims(qint64 first, qint64 last) override;
    Result<ForeignChanges> refresh() override;

    // The budget (cachebudget.h; sparsefilestore_budget.cpp).
    // Pins chunks [first, last] for a read or export under way: the budget's evictor, in
    // any process, leaves them alone. Pins count: each pin() needs its unpin(). Never waits.
    void pin(qint64 first, qint64 last);
    void unpin(qint64 first, qint64 last);
    // The budget of the cache this entry is in (nullptr: not in a cache directory, or none).
    std::shared_ptr<CacheBudget> budget() const { return m_budget; }
    // Stamps chunks [first, last] with a new access tick, as a use would (the budget gives chunks it
    // packed instead of evicting a second chance with it).
    void stampAccess(qint64 first, qint64 last) const { stamp(first, last); }
    // The access tick of chunk `chunk` (accesstimes.h; 0: never used since the budget exists).
    quint32 accessTick(qint64 chunk) const { return m_access.at(chunk); }
    // (I/O) For the budget's evictor: drops the present chunks of [first, last] that nobody
    // claims (no fetch, no uncommitted write) or pins (no read or export), in any
    // process, without waiting. Returns the chunks dropped and their present bytes. Errors: LocalIo.
    struct Dropped {
        qint64 chunks = 0;
        qint64 bytes = 0;
        qint64 packedChunks = 0; // of chunks: their contents stay in the packs until repack
    };
    Result<Dropped> evictUnclaimed(qint64 first, qint64 last);
    // (I/O) Frees blocks of the data file that hold no present chunk and that nobody claims: left
    // by a process killed between its write and its commit (SEEK_DATA, lseek(2)). Returns the
    // bytes freed. Errors: LocalIo.
    Result<qint64> freeOrphanBlocks();

    // Packs (sparsefilestore_pack.cpp).
    ChunkBitmap packedChunks() const; // snapshot
    qint64 packedBytes() const;       // bytes of the packed chunks
    struct PackResult {
        qint64 chunks = 0;      // moved into packs
        qint64 bytes = 0;       // their bytes
        qint64 storedBytes = 0; // what they added to the pack files (after dedup and compression)
        qint64 skipped = 0;     // claimed by a fetch or a write in some process: left loose
    };
    // (I/O) Moves every loose present chunk into the packs through `writer` (the cache's one
    // packer), in batches: claims, contents staged, writer.commit() (pack and index durable), Packed
    // records durable, the drop counter, then the loose blocks punched. `progress(bytesDone)`
    // returning false stops after the current batch (cancel). Errors: LocalIo; Cancelled.
    Result<PackResult> packInto(PackWriter &writer, const std::function<bool(qint64)> &progress = {});
    // The same for the loose chunks of [first, last] only (the budget packs cold chunks with it).
    Result<PackResult> packRange(PackWriter &writer, qint64 first, qint64 last, const std::function<bool(qint64)> &progress = {});

private:
    SparseFileStore() = default;
    // Bytes of the object that the chunks in `present` hold (the last chunk may be short).
    static qint64 bytesIn(const ChunkBitmap &present, const ChunkGeometry &g);
    Status initialize(const ObjectMeta &want, bool exclusive);
    Status resetShared(const ObjectMeta &want);
    bool othersAppended() const; // fstat(2): records were appended since the last refresh, not all by this store
    void releaseClaimsLocked(qint64 first, qint64 last);
    using Runs = QList<std::pair<qint64, qint64>>;
    // Claims, without waiting, what of `runs` nobody claims: chunks this store has claimed itself
    // are left out (its claims do not exclude itself; `ownSkipped`, if set, counts them), and so
    // is what another store or process claims — or, with `unpinnedOnly`, pins. On an error
    // nothing stays claimed. Returns the runs now claimed (to release with m_claims.release).
    Result<Runs> claimUnclaimed(const Runs &runs, bool unpinnedOnly, qint64 *ownSkipped = nullptr);
    Status dropChunksInHoles();
    Status appendRecords(const QByteArray &records);
    Status punchHoles(qint64 first, qint64 last);
    // Drops chunks [first, last], which the caller has claimed: the Evict record, then the punch.
    // Chunks written and not committed are dropped too and listed in `unpending`.
    Result<qint64> dropClaimed(qint64 first, qint64 last, QList<qint64> *unpending, qint64 *chunks = nullptr);
    void attachBudget(); // the cache's budget and this entry's access times, after initialize()
    void stamp(qint64 first, qint64 last) const;
    qint64 presentBytesLocked() const;
    // Reading present bytes without holding m_stateLock across I/O: a plan is made under the lock
    // (where each piece of the range lies now), carried out without it, and then checked with
    // droppedSince() — a chunk dropped, packed or reset meanwhile (here or by another process) is
    // read again. A piece is a loose run (packedChunk -1: pread(2) or copy_file_range(2) from the
    // data file) or a part of one packed chunk (its checksum taken with the plan).
    struct ReadPiece {
        ByteRange range;         // object bytes
        qint64 packedChunk = -1; // the packed chunk holding them, or -1: loose
        quint64 checksum = 0;    // of that packed chunk
        qint64 offsetInChunk = 0; // where range begins inside that packed chunk
    };
    using ReadPlan = QList<ReadPiece>;
    ReadPlan planReadLocked(ByteRange range) const; // m_stateLock held (shared) by the caller
    // Carries out `plan` into `out` (which holds the bytes of `range`). Errors: LocalIo, Integrity.
    Status readPlanned(const ReadPlan &plan, ByteRange range, char *out) const;
    // Reads `length` bytes at `offset` inside packed chunk `chunk` (checksum `checksum`). Errors:
    // LocalIo, Integrity (naming the object and bytes).
    Status readPacked(qint64 chunk, quint64 checksum, qint64 offset, char *out, qint64 length) const;
    // Copies `plan` into `fd` at the same offsets (exports). Errors: LocalIo, Integrity.
    Status copyPlanned(int fd, const ReadPlan &plan) const;
    Status copyRun(int fd, ByteRange span) const; // loose bytes: copy_file_range(2)
    // Records that this store dropped (evicted, packed or reset) chunks [first, last], after
    // m_stateLock no longer shows them as loose and before their bytes go: reads under way retry.
    void noteDrop(qint64 first, qint64 last);
    std::shared_ptr<PackStore> packs() const;
    QString dataPath() const { return m_dir + QStringLiteral("/data"); }
    QString journalPath() const { return m_dir + QStringLiteral("/journal"); }
    QString metaPath() const { return m_dir + QStringLiteral("/meta.json"); }

    QString m_dir;
    QString m_objectId; // the entry directory's name (the packs' index names entries by it)
    ObjectLock m_lock;
    ObjectMeta m_meta;
    QStringList m_warnings;
    int m_dataFd = -1;
    int m_journalFd = -1;      // appends (O_APPEND)
    int m_journalReadFd = -1;  // tailing
    bool m_shared = true;      // false on a network filesystem: the entry is ours alone
    quint16 m_writer = 0;      // tag of this store's journal records
    ClaimTable m_claims;
    QMutex m_claimMutex;       // m_claimed
    ChunkBitmap m_claimed;     // chunks this store has claimed and not yet released
    QMutex m_tailMutex;        // m_tailOffset; taken after m_dataLock, before m_stateLock
    std::atomic<qint64> m_tailOffset{0}; // journal bytes already applied (written under m_tailMutex)
    std::atomic<quint64> m_dropSeq{0};      // drops (evictions, packs, resets; here or by others) applied so far
    std::atomic<quint64> m_sharedDropsSeen{0};
    std::atomic<qint64> m_ownUnread{0};     // bytes this store appended that refresh() has not passed yet // the claims file's drop counter when refresh() last looked
    // Catches up with the journal if another process dropped chunks since the last look (a load of
    // the shared counter, no system call otherwise).
    void catchUpWithDrops();
    struct Drop { quint64 seq; qint64 first; qint64 last; };
    std::deque<Drop> m_recentDrops;         // the last ones, under m_tailMutex
    // True if a drop noted after `seq` (m_dropSeq) touched some chunk of [first, last].
    bool droppedSince(quint64 seq, qint64 first, qint64 last);

    // Lock order: m_journalMutex, then m_dataLock, then m_stateLock.
    QMutex m_journalMutex;              // journal appends, commits, evictions, resets
    // Chunk writes hold it shared from their pwrite until the chunk is marked present; evictions
    // and resets hold it exclusively from dropping chunks until their bytes are discarded. Without
    // it, a chunk fetched again right after an eviction dropped it could be marked present and
    // then have its new bytes punched out (found by the model-based test, tst_model).
    WriterPreferringMutex m_dataLock;
    mutable WriterPreferringMutex m_stateLock; // m_present, m_packed, m_checksums, m_pending, m_meta, m_geometry; never held across I/O
    ChunkGeometry m_geometry;
    ChunkBitmap m_present;
    ChunkBitmap m_packed;           // present chunks whose bytes are in the packs
    ChecksumTable m_checksums;
    struct Pending { qint64 chunk; quint64 checksum; };
    std::vector<Pending> m_pending; // written, not yet durable
    bool m_failed = false;          // an fsync failed: no more writes
    QString m_failure;

    std::shared_ptr<CacheBudget> m_budget;
    mutable QMutex m_packsMutex;
    mutable std::shared_ptr<PackStore> m_packs; // opened when first needed
    mutable AccessTimes m_access;
    QMutex m_pinMutex;
    QList<std::pair<qint64, qint64>> m_pins; // every pin() not yet unpinned (overlaps allowed)
};

} // namespace sparsescope
