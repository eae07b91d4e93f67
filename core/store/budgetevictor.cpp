#include "budgetevictor.h"
#include "accesstimes.h"
#include "chunkcodec.h"
#include "packwriter.h"
#include "sparsefilestore.h"

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

namespace sparsescope::budgetevictor {

namespace {

struct Entry {
    QString directory;
    ObjectMeta meta;
    ChunkBitmap packed; // as the pass found it (a run already packed is evicted, not packed again)
};

// A run of present chunks of one entry with one access tick.
struct Candidate {
    quint32 tick;
    int entry;
    qint64 first;
    qint64 last;
};

Result<std::unique_ptr<SparseFileStore>> openEntry(const Entry &e)
{
    // Opened as it is (its own meta as what we want): nothing is reset, nothing waited for.
    return SparseFileStore::open(e.directory, e.meta, /*lockWaitMs=*/0);
}

} // namespace

Freed evictLeastRecentlyUsed(const QString &cacheDir, qint64 bytes, QStringList *warnings, const std::function<PackWriter *()> &packer)
{
    Freed out;
    if (bytes <= 0)
        return out;
    std::vector<Entry> entries;
    std::vector<Candidate> candidates;
    // Entries that cannot be inspected (half-created, being removed) have nothing to take.
    for (const SparseFileStore::Listed &listed : SparseFileStore::listEntries(cacheDir, nullptr)) {
        const QString &dir = listed.directory;
        const SparseFileStore::Inspection &in = listed.inspection;
        const int index = int(entries.size());
        entries.push_back({dir, in.meta, in.packed});
        const qint64 count = in.present.size();
        const std::vector<quint32> ticks = AccessTimes::read(dir, count);
        for (const auto &[a, b] : in.present.setRuns(0, count - 1)) {
            qint64 runStart = a;
            for (qint64 c = a + 1; c <= b + 1; ++c)
                if (c > b || ticks[size_t(c)] != ticks[size_t(runStart)]) {
                    candidates.push_back({ticks[size_t(runStart)], index, runStart, c - 1});
                    runStart = c;
                }
        }
    }
    std::stable_sort(candidates.begin(), candidates.end(), [](const Candidate &x, const Candidate &y) { return x.tick < y.tick; });

    std::map<int, std::unique_ptr<SparseFileStore>> opened;
    std::vector<bool> unusable(entries.size(), false);
    std::vector<bool> touched(entries.size(), false);
    for (const Candidate &c : candidates) {
        if (out.bytes + out.packFreed >= bytes)
            break;
        if (unusable[size_t(c.entry)])
            continue;
        auto it = opened.find(c.entry);
        if (it == opened.end()) {
            auto store = openEntry(entries[size_t(c.entry)]);
            if (!store) {
                unusable[size_t(c.entry)] = true;
                if (warnings)
                    *warnings << QStringLiteral("the budget skipped %1: %2").arg(entries[size_t(c.entry)].meta.source, store.error().message);
                continue;
            }
            it = opened.emplace(c.entry, std::move(store).value()).first;
        }
        SparseFileStore &store = *it->second;
        const qint64 chunkSize = store.geometry().chunkSize;
        if (packer && !entries[size_t(c.entry)].packed.countInSpan(c.first, c.last)) {
            // Cold and loose: if it compresses well, packing keeps it and still frees most of it.
            auto sample = store.read(store.geometry().chunkRange(c.first), /*stampAccess=*/false);
            const double ratio = sample ? chunkcodec::sampleRatio(*sample) : 1.0;
            PackWriter *writer = ratio < kPackInsteadRatio ? packer() : nullptr;
            if (writer) {
                const qint64 need = qint64(double(bytes - out.bytes - out.packFreed) / (1.0 - ratio) / double(chunkSize)) + 1;
                auto packed = store.packRange(*writer, c.first, std::min(c.last, c.first + need - 1));
                if (packed && packed->chunks > 0) {
                    // A second chance: they go to the back of the queue, and are evicted (packed)
                    // only once everything else is colder.
                    store.stampAccess(c.first, std::min(c.last, c.first + need - 1));
                    out.packedInstead += packed->chunks;
                    out.packFreed += std::max<qint64>(0, packed->bytes - packed->storedBytes);
                    if (!touched[size_t(c.entry)]) {
                        touched[size_t(c.entry)] = true;
                        ++out.objects;
                        out.entries << entries[size_t(c.entry)].directory;
                    }
                    continue;
                }
                if (!packed && warnings)
                    *warnings << QStringLiteral("the budget could not pack %1: %2").arg(store.meta().source, packed.error().message);
            }
        }
        // No more chunks than the rest of the target needs (the run's first ones).
        const qint64 need = (bytes - out.bytes - out.packFreed + chunkSize - 1) / chunkSize;
        const qint64 last = std::min(c.last, c.first + need - 1);
        auto dropped = store.evictUnclaimed(c.first, last);
        if (!dropped) {
            unusable[size_t(c.entry)] = true;
            if (warnings)
                *warnings << QStringLiteral("the budget could not evict from %1: %2").arg(store.meta().source, dropped.error().message);
            continue;
        }
        if (dropped->chunks > 0 && !touched[size_t(c.entry)]) {
            touched[size_t(c.entry)] = true;
            ++out.objects;
            out.entries << entries[size_t(c.entry)].directory;
        }
        out.chunks += dropped->chunks;
        out.bytes += dropped->bytes;
        out.packedChunks += dropped->packedChunks;
    }
    return out;
}

Freed freeOrphanBlocks(const QString &cacheDir, QStringList *warnings)
{
    Freed freed;
    for (const QString &dir : SparseFileStore::entryDirectories(cacheDir)) {
        auto meta = ObjectMeta::load(dir + QStringLiteral("/meta.json"));
        if (!meta)
            continue;
        auto store = openEntry({dir, *meta, {}});
        if (!store) {
            if (warnings)
                *warnings << QStringLiteral("gc skipped %1: %2").arg(meta->source, store.error().message);
            continue;
        }
        auto n = (*store)->freeOrphanBlocks();
        if (!n) {
            if (warnings)
                *warnings << QStringLiteral("gc could not free unused blocks of %1: %2").arg(meta->source, n.error().message);
            continue;
        }
        if (*n > 0) {
            ++freed.objects;
            freed.entries << dir;
            freed.bytes += *n;
        }
    }
    return freed;
}

} // namespace sparsescope::budgetevictor
