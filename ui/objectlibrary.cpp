#include "objectlibrary.h"
#include "cache.h"
#include "cachewatcher.h"
#include "rangeparse.h"

#include <QDir>
#include <QFileInfo>
#include <QSet>
#include <QtConcurrent/QtConcurrent>

#include <cmath>

namespace sparsescope {

namespace {
// What the cache says of an entry that is not open here.
void adopt(LibraryEntry &e, const CachedObject &l)
{
    e.directory = l.directory;
    e.size = l.size;
    e.chunkSize = l.chunkSize;
    e.present = l.present;
    e.presentBytes = l.presentBytes;
    e.allocatedBytes = l.allocatedBytes;
    e.packed = l.packed;
    e.packedDiskBytes = l.diskBytes - l.allocatedBytes;
}

} // namespace

ObjectLibrary::ObjectLibrary(AppSettings settings, QObject *parent) : QObject(parent), m_settings(std::move(settings))
{
    m_clock.start();
    m_refresh.setInterval(1000);
    connect(&m_refresh, &QTimer::timeout, this, &ObjectLibrary::refresh);
    m_refresh.start();
    m_presenceTimer.setSingleShot(true);
    m_presenceTimer.setInterval(100);
    connect(&m_presenceTimer, &QTimer::timeout, this, &ObjectLibrary::updatePresence);
    // What other processes do to the cache shows within a second: the watcher says something
    // changed, a rescan (on the job pool) says what.
    m_watcher = new CacheWatcher(this);
    connect(m_watcher, &CacheWatcher::changed, this, &ObjectLibrary::rescan);
    connect(m_watcher, &CacheWatcher::changed, this, [this] {
        for (const LibraryEntry &e : m_entries)
            if (e.object)
                e.object->followOtherProcesses();
    });
}

ObjectLibrary::~ObjectLibrary()
{
    for (LibraryEntry &e : m_entries)
        if (e.object)
            e.object->cancelAll();
    m_entries.clear(); // closes the objects here, on the GUI thread
}

void ObjectLibrary::setSettings(const AppSettings &settings)
{
    const bool newCache = settings.cacheDir != m_settings.cacheDir;
    m_settings = settings;
    m_settings.save();
    if (newCache)
        loadCache();
}

QString ObjectLibrary::nameOf(const QString &source) { return Cache::displayName(source); }

int ObjectLibrary::rowOf(const QString &source) const
{
    const QString want = Cache::displaySource(source);
    for (size_t i = 0; i < m_entries.size(); ++i)
        if (m_entries[i].source == want)
            return int(i);
    return -1;
}

int ObjectLibrary::rowOfObject(const SparseObject *object) const
{
    for (size_t i = 0; i < m_entries.size(); ++i)
        if (m_entries[i].object.get() == object)
            return int(i);
    return -1;
}

int ObjectLibrary::addEntry(LibraryEntry entry)
{
    const int row = int(m_entries.size());
    Q_EMIT entryAboutToBeInserted(row);
    m_entries.push_back(std::move(entry));
    Q_EMIT entryInserted(row);
    return row;
}

void ObjectLibrary::eraseEntry(int row)
{
    Q_EMIT entryAboutToBeRemoved(row);
    m_entries.erase(m_entries.begin() + row);
    Q_EMIT entryRemoved(row);
}

void ObjectLibrary::loadCache()
{
    Cache(m_settings.cacheDir).listAsync().then(this, [this](const CacheListing &result) {
        // Keep the open objects; rebuild the rest from the cache and the recent list.
        Q_EMIT aboutToReset();
        std::vector<LibraryEntry> kept;
        for (LibraryEntry &e : m_entries)
            if (e.object || e.state == EntryState::Opening)
                kept.push_back(std::move(e));
        m_entries = std::move(kept);
        auto known = [this](const QString &source) {
            return std::any_of(m_entries.begin(), m_entries.end(), [&](const LibraryEntry &e) { return e.source == source; });
        };
        for (const CachedObject &l : result.objects) {
            if (known(l.source))
                continue;
            LibraryEntry e;
            e.source = l.source;
            e.name = nameOf(e.source);
            adopt(e, l);
            m_entries.push_back(std::move(e));
        }
        for (const QString &source : std::as_const(m_settings.recent)) {
            if (known(source))
                continue;
            LibraryEntry e;
            e.source = source;
            e.name = nameOf(source);
            m_entries.push_back(std::move(e));
        }
        for (const QString &w : std::as_const(result.warnings))
            Q_EMIT activity(QString(), w, true);
        Q_EMIT reset();
        watchCache();
    });
}

void ObjectLibrary::watchCache()
{
    m_watcher->watch(Cache(m_settings.cacheDir));
    QStringList entries;
    for (const LibraryEntry &e : m_entries)
        if (!e.directory.isEmpty())
            entries << e.directory;
    m_watcher->watchEntries(entries);
}

void ObjectLibrary::rescan()
{
    if (m_scanning) {
        m_scanAgain = true;
        return;
    }
    m_scanning = true;
    const QString cacheDir = m_settings.cacheDir;
    Cache(cacheDir).listAsync().then(this, [this, cacheDir](const CacheListing &listing) {
        m_scanning = false;
        if (cacheDir == m_settings.cacheDir)
            applyListing(listing.objects);
        if (std::exchange(m_scanAgain, false))
            rescan();
    });
}

void ObjectLibrary::applyListing(const QList<CachedObject> &listed)
{
    QSet<QString> seen;
    QStringList entries;
    for (const CachedObject &l : listed) {
        seen.insert(l.directory);
        entries << l.directory;
        const int row = rowOf(l.source);
        if (row < 0) { // created by another process
            LibraryEntry e;
            e.source = l.source;
            e.name = nameOf(e.source);
            adopt(e, l);
            addEntry(std::move(e));
            continue;
        }
        LibraryEntry &e = m_entries[size_t(row)];
        if (e.object || e.state == EntryState::Opening) { // an open object follows the journal itself
            if (const qint64 share = l.diskBytes - l.allocatedBytes; share != e.packedDiskBytes) {
                e.packedDiskBytes = share; // but only the listing knows its share of the packs
                Q_EMIT entryChanged(row);
            }
            continue;
        }
        adopt(e, l);
        Q_EMIT entryChanged(row);
    }
    // Removed by another process (entries that are open or opening stay until closed).
    for (int row = int(m_entries.size()) - 1; row >= 0; --row) {
        const LibraryEntry &e = m_entries[size_t(row)];
        if (!e.directory.isEmpty() && !seen.contains(e.directory) && !e.object && e.state != EntryState::Opening)
            eraseEntry(row);
    }
    m_watcher->watchEntries(entries); // new entries, and journals replaced by compaction
}

void ObjectLibrary::open(const QString &source)
{
    const QString redacted = Cache::displaySource(source);
    int row = rowOf(source);
    if (row >= 0 && (m_entries[size_t(row)].object || m_entries[size_t(row)].state == EntryState::Opening)) {
        if (m_entries[size_t(row)].object)
            Q_EMIT opened(row);
        return;
    }
    if (row < 0) {
        LibraryEntry e;
        e.source = redacted;
        e.name = nameOf(redacted);
        row = addEntry(std::move(e));
    }
    LibraryEntry &e = m_entries[size_t(row)];
    e.state = EntryState::Opening;
    e.lastError.clear();
    Q_EMIT entryChanged(row);
    m_settings.addRecent(redacted);
    m_settings.save();
    // `source` (which may carry credentials) goes to the engine only; the library keeps `redacted`.
    SparseObject::open(source, m_settings.engineConfig()).then(this, [this, redacted](SparseObject::OpenResult result) {
        const int r = rowOf(redacted);
        if (r < 0)
            return; // removed meanwhile
        LibraryEntry &e = m_entries[size_t(r)];
        if (!result) {
            e.state = EntryState::Error;
            e.lastError = result.error().message;
            Q_EMIT entryChanged(r);
            Q_EMIT activity(e.name, result.error().message, true);
            return;
        }
        attach(r, *result);
        for (const QString &w : (*result)->warnings())
            Q_EMIT activity(e.name, w, true);
        Q_EMIT activity(e.name, tr("opened: %1, %2 present").arg(formatBytes(e.size), formatBytes(e.presentBytes)), false);
        Q_EMIT opened(r);
    });
}

void ObjectLibrary::attach(int row, std::shared_ptr<SparseObject> object)
{
    LibraryEntry &e = m_entries[size_t(row)];
    e.object = std::move(object);
    e.state = EntryState::Idle;
    e.directory = e.object->cachePath();
    e.size = e.object->geometry().objectSize;
    e.chunkSize = e.object->geometry().chunkSize;
    e.presentBytes = e.object->presentBytes();
    e.present = ChunkBitmap();
    SparseObject *raw = e.object.get();
    connect(raw, &SparseObject::errorOccurred, this, [this, raw](const QString &message) {
        const int r = rowOfObject(raw);
        if (r < 0)
            return;
        m_entries[size_t(r)].lastError = message;
        Q_EMIT activity(m_entries[size_t(r)].name, message, true);
    });
    connect(raw, &SparseObject::coverageChanged, this, [this, raw] {
        m_presenceDirty.insert(raw);
        if (!m_presenceTimer.isActive())
            m_presenceTimer.start();
    });
    connect(raw, &SparseObject::changedUpstream, this, [this, raw](const QString &) {
        const int r = rowOfObject(raw);
        if (r >= 0) {
            m_entries[size_t(r)].state = EntryState::ChangedUpstream;
            Q_EMIT entryChanged(r);
        }
    });
    Q_EMIT entryChanged(row);
}

void ObjectLibrary::ensureOpen(int row)
{
    if (row >= 0 && row < count() && !m_entries[size_t(row)].object && m_entries[size_t(row)].state != EntryState::Opening)
        open(m_entries[size_t(row)].source);
}

void ObjectLibrary::remove(int row)
{
    LibraryEntry e = std::move(m_entries[size_t(row)]);
    eraseEntry(row);
    m_settings.recent.removeAll(e.source);
    m_settings.save();
    if (e.object) {
        m_closedStored += e.object->statistics().storedBytes;
        m_closedHit += e.object->statistics().cacheHitBytes;
        m_closedUpstream += e.object->statistics().upstreamBytes;
        e.object->cancelAll();
        e.object.reset(); // closes it (and releases its lock) on this thread
    }
    if (e.directory.isEmpty())
        return;
    const QString name = e.name, dir = e.directory;
    // Chunk writes still on the pool keep the store (and its lock) alive; removal waits for them.
    Cache(m_settings.cacheDir).removeAsync(dir).then(this, [this, name](Status st) {
        Q_EMIT activity(name, st ? tr("removed from the cache") : st.error().message, !st);
    });
}

void ObjectLibrary::updatePresence()
{
    const QSet<const SparseObject *> dirty = std::exchange(m_presenceDirty, {});
    bool changed = false;
    for (size_t i = 0; i < m_entries.size(); ++i) {
        LibraryEntry &e = m_entries[i];
        if (!e.object || !dirty.contains(e.object.get()))
            continue;
        if (samplePresence(e)) {
            changed = true;
            Q_EMIT entryChanged(int(i));
        }
    }
    if (changed)
        Q_EMIT presenceChanged();
}

bool ObjectLibrary::samplePresence(LibraryEntry &e)
{
    const qint64 present = e.object->presentBytes(), inFlight = e.object->inFlightChunks();
    const bool changed = present != e.presentBytes || inFlight != e.inFlightChunks;
    e.presentBytes = present;
    e.inFlightChunks = inFlight;
    if (e.state == EntryState::Idle && e.inFlightChunks > 0)
        e.state = EntryState::Fetching;
    else if (e.state == EntryState::Fetching && e.inFlightChunks == 0)
        e.state = EntryState::Idle;
    return changed;
}

void ObjectLibrary::refresh()
{
    for (int row = 0; row < count(); ++row)
        if (const LibraryEntry &e = m_entries[size_t(row)]; e.retryAtMs >= 0 && m_clock.elapsed() >= e.retryAtMs)
            retry(row);
    qint64 stored = m_closedStored, hit = m_closedHit, upstream = m_closedUpstream;
    for (size_t i = 0; i < m_entries.size(); ++i) {
        LibraryEntry &e = m_entries[i];
        if (!e.object)
            continue;
        e.object->followOtherProcesses(); // in case the file watcher missed something
        const Statistics &s = e.object->statistics();
        stored += s.storedBytes;
        hit += s.cacheHitBytes;
        upstream += s.upstreamBytes;
        samplePresence(e);
        // Speed: bytes stored per second since the last sample, smoothed (half-life ~1 s).
        const qint64 nowMs = m_clock.elapsed();
        if (e.lastSampleMs >= 0 && nowMs > e.lastSampleMs) {
            const double rate = double(s.storedBytes - e.lastStored) * 1000.0 / double(nowMs - e.lastSampleMs);
            e.bytesPerSecond = e.bytesPerSecond * 0.5 + std::max(0.0, rate) * 0.5;
            if (e.bytesPerSecond < 1)
                e.bytesPerSecond = 0;
        }
        e.lastStored = s.storedBytes;
        e.lastSampleMs = nowMs;
        e.remainingBytes = e.etaSeconds = -1;
        if (!e.operationRanges.isEmpty()) {
            qint64 want = 0, have = 0;
            for (const ByteRange &r : std::as_const(e.operationRanges)) {
                want += r.length();
                have += e.object->presentBytesIn(r);
            }
            e.operationPercent = want > 0 ? int(100 * have / want) : 100;
            e.remainingBytes = std::max<qint64>(0, want - have);
            if (e.bytesPerSecond > 0)
                e.etaSeconds = qint64(std::ceil(double(e.remainingBytes) / e.bytesPerSecond));
        }
        // Allocation is a stat(2) of the data file: the pool asks, holding only the store.
        QtConcurrent::run(Cache::jobPool(), [store = e.object->store()] { return store->allocatedBytes(); })
            .then(this, [this, raw = e.object.get()](qint64 allocated) {
                const int r = rowOfObject(raw);
                if (r >= 0 && m_entries[size_t(r)].allocatedBytes != allocated) {
                    m_entries[size_t(r)].allocatedBytes = allocated;
                    Q_EMIT entryChanged(r);
                }
            });
        Q_EMIT entryChanged(int(i));
    }
    const qint64 dStored = stored - m_lastStored, dHit = hit - m_lastHit, dUp = upstream - m_lastUpstream;
    m_lastStored = stored;
    m_lastHit = hit;
    m_lastUpstream = upstream;
    const double asked = double(dHit + dUp);
    Q_EMIT sampled(double(std::max<qint64>(0, dStored)), asked > 0 ? double(dHit) / asked : std::nan(""));
}

} // namespace sparsescope
