#pragma once
// The budget's eviction pass (cachebudget.h): which chunks of the whole cache go, and dropping
// them. Every entry under the cache directory is looked at without being locked (its meta.json,
// journal and access times: accesstimes.h); its present chunks are ordered by their access tick,
// oldest first (never stamped = oldest); then entry by entry, each opened as a SparseFileStore
// (shared), chunks are dropped with SparseFileStore::evictUnclaimed, which skips chunks that are
// claimed or pinned by any process. An entry that cannot be opened at once (being created,
// repaired or removed) is skipped.
//
// Thread affinity: worker threads only (I/O). The caller serializes passes (CacheBudget).

#include <QString>
#include <QStringList>

#include <functional>

namespace sparsescope {
class PackWriter;
}

namespace sparsescope::budgetevictor {

struct Freed {
    qint64 objects = 0; // entries that lost chunks
    qint64 chunks = 0;
    qint64 bytes = 0;   // present bytes dropped
    qint64 packedChunks = 0; // of chunks, packed ones: their disk space comes back at the next repack
    qint64 packedInstead = 0; // cold loose chunks packed instead of evicted (compressible), chunks
    qint64 packFreed = 0;     // the disk that packing freed (loose bytes punched - pack bytes added)
    QStringList entries; // the entry directories concerned
};

// (I/O) Drops least recently used chunks of the cache under `cacheDir` until at least `bytes`
// are freed (present bytes dropped plus what packing freed), or nothing more may go. Where it
// pays — a run of cold loose chunks whose first chunk's sample compresses below kPackInsteadRatio,
// and `packer` (may be empty) gives the cache's packer without waiting — the run is packed
// instead of dropped: it stays present in less disk, and its access tick is renewed (a second
// chance: it is evicted when everything else is colder). Problems with single entries are added to
// `warnings` (may be null) and skipped.
constexpr double kPackInsteadRatio = 0.5;
Freed evictLeastRecentlyUsed(const QString &cacheDir, qint64 bytes, QStringList *warnings,
                             const std::function<PackWriter *()> &packer = {});

// (I/O) Frees, in every entry, blocks that hold no present chunk and that nobody claims
// (SparseFileStore::freeOrphanBlocks). Returns the entries that had such blocks and the bytes freed
// (chunks: 0, none was present).
Freed freeOrphanBlocks(const QString &cacheDir, QStringList *warnings);

} // namespace sparsescope::budgetevictor
