#include "cachecommands.h"
#include "cache.h"
#include "commands.h"
#include "rangeparse.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>

#include <cstdio>

namespace sparsescope::cli {

namespace {
// A progress line on stderr for a cache operation, redrawn at most five times a second.
class Progress {
public:
    Progress(const char *what, bool enabled) : m_what(QString::fromLatin1(what)), m_enabled(enabled) { m_clock.start(); }
    ~Progress()
    {
        if (m_drawn)
            QTextStream(stderr) << "\n";
    }
    bool operator()(qint64 done, qint64 total, bool bytes)
    {
        if (!m_enabled || (m_drawn && m_lastDraw.isValid() && m_lastDraw.elapsed() < 200 && done < total))
            return true;
        m_lastDraw.start();
        m_drawn = true;
        const double pct = total > 0 ? 100.0 * double(done) / double(total) : 100.0;
        const double seconds = std::max(0.001, double(m_clock.elapsed()) / 1000.0);
        QTextStream err(stderr);
        err << "\r" << m_what << ": ";
        if (bytes)
            err << formatBytes(done) << " of " << formatBytes(total) << " (" << QString::number(pct, 'f', 1) << "%), "
                << formatBytes(qint64(double(done) / seconds)) << "/s   ";
        else
            err << done << " of " << total << " (" << QString::number(pct, 'f', 1) << "%)   ";
        return true;
    }

private:
    QString m_what;
    bool m_enabled;
    bool m_drawn = false;
    QElapsedTimer m_clock, m_lastDraw;
};

void sayWaiting(const QString &why) { QTextStream(stderr) << "sparsescope-cli: " << why << "\n"; }
} // namespace

int cmdStatus(const CliConfig &c)
{
    const Cache cache(c.engine.cacheDir);
    auto usage = cache.usage();
    if (!usage)
        return fail(usage.error());
    const CacheListing listing = cache.list();
    if (!listing.packsProblem.isEmpty())
        return fail(listing.packsProblem);
    const QList<CachedObject> &rows = listing.objects;
    for (const QString &w : listing.warnings)
        QTextStream(stderr) << "sparsescope-cli: warning: " << w << "\n";
    const CacheSettings &s = usage->settings;
    const PackSummary *packs = &listing.packs;
    if (c.json) {
        QJsonArray arr;
        for (const auto &r : rows) {
            QJsonObject j;
            j[QStringLiteral("source")] = r.source;
            j[QStringLiteral("size")] = double(r.size);
            j[QStringLiteral("chunk_size")] = double(r.chunkSize);
            j[QStringLiteral("present_bytes")] = double(r.presentBytes);
            j[QStringLiteral("allocated_bytes")] = double(r.allocatedBytes);
            j[QStringLiteral("packed_bytes")] = double(r.packedBytes);
            j[QStringLiteral("disk_bytes")] = double(r.diskBytes);
            j[QStringLiteral("validator")] = r.validator;
            j[QStringLiteral("cache_path")] = r.directory;
            arr.append(j);
        }
        QJsonObject top;
        top[QStringLiteral("cache_dir")] = c.engine.cacheDir;
        top[QStringLiteral("max_size")] = s.maxSize ? QJsonValue(double(*s.maxSize)) : QJsonValue(QJsonValue::Null);
        top[QStringLiteral("min_free_space")] = double(s.minFreeSpace);
        top[QStringLiteral("used_bytes")] = double(usage->usedBytes);
        top[QStringLiteral("loose_bytes")] = double(packs->looseBytes);
        top[QStringLiteral("packed_bytes")] = double(packs->packedBytes);
        top[QStringLiteral("pack_file_bytes")] = double(packs->packFileBytes);
        top[QStringLiteral("dedup_saved_bytes")] = double(packs->dedupSavedBytes);
        top[QStringLiteral("loose_chunks")] = double(packs->looseChunks);
        top[QStringLiteral("packed_chunks")] = double(packs->packedChunks);
        top[QStringLiteral("pack_files")] = double(packs->packFiles);
        top[QStringLiteral("stored_contents")] = double(packs->contents);
        top[QStringLiteral("objects")] = arr;
        QTextStream(stdout) << QJsonDocument(top).toJson(QJsonDocument::Compact) << "\n";
        return ExitOk;
    }
    QTextStream out(stdout);
    out << c.engine.cacheDir << ": " << formatBytes(usage->usedBytes) << " used, max-size "
        << (s.maxSize ? formatBytes(*s.maxSize) : QStringLiteral("none")) << ", min-free-space " << formatBytes(s.minFreeSpace);
    if (usage->freeBytes >= 0)
        out << " (" << formatBytes(usage->freeBytes) << " free)";
    out << "\n";
    // The packs, as disk-objectstore's `status` reports them.
    const PackSummary &p = *packs;
    const double ratio = p.contentBytes > 0 ? double(p.storedBytes) / double(p.contentBytes) : 1.0;
    out << "loose:       " << p.looseChunks << " chunks, " << formatBytes(p.looseBytes) << "\n"
        << "packed:      " << p.packedChunks << " chunks, " << formatBytes(p.packedBytes) << " in " << p.contents
        << " distinct contents (" << formatBytes(p.contentBytes) << ")\n"
        << "pack files:  " << p.packFiles << ", " << formatBytes(p.packFileBytes) << " on disk; compression ratio "
        << QString::number(ratio, 'f', 3) << "; saved by deduplication " << formatBytes(p.dedupSavedBytes) << "\n";
    if (rows.isEmpty()) {
        out << "no objects in " << c.engine.cacheDir << "\n";
        return ExitOk;
    }
    out << QStringLiteral("%1  %2  %3  %4  %5\n").arg(QStringLiteral("SIZE"), 10).arg(QStringLiteral("PRESENT"), 10)
               .arg(QStringLiteral("%"), 6).arg(QStringLiteral("ON DISK"), 10).arg(QStringLiteral("SOURCE"));
    for (const auto &r : rows) {
        const double pct = r.size > 0 ? 100.0 * double(r.presentBytes) / double(r.size) : 100.0;
        out << QStringLiteral("%1  %2  %3  %4  %5\n").arg(formatBytes(r.size), 10).arg(formatBytes(r.presentBytes), 10)
                   .arg(QString::number(pct, 'f', 1), 6).arg(formatBytes(r.diskBytes), 10).arg(r.source);
    }
    return ExitOk;
}

int cmdConfig(const CliConfig &c)
{
    const Cache cache(c.engine.cacheDir);
    auto settings = cache.settings();
    if (!settings)
        return fail(settings.error());
    QTextStream out(stdout);
    if (c.entries.isEmpty()) {
        for (const QString &key : CacheSettings::keys())
            out << key << " = " << settings->value(key).value() << "\n";
        return ExitOk;
    }
    const QString &key = c.entries.first();
    if (c.entries.size() == 1) {
        out << settings->value(key).value() << "\n"; // the key was checked when parsing
        return ExitOk;
    }
    CacheSettings changed = *settings;
    if (Status st = changed.set(key, c.entries.at(1)); !st)
        return fail(st.error());
    if (Status st = cache.saveSettings(changed); !st)
        return fail(st.error());
    return ExitOk;
}

int cmdGc(const CliConfig &c)
{
    const Cache cache(c.engine.cacheDir);
    auto report = cache.collectGarbage();
    if (!report)
        return fail(report.error());
    auto settings = cache.settings(); // the use after gc is in the report (measured as du does): no second walk
    QTextStream out(stdout);
    out << "freed " << report->objects << (report->objects == 1 ? " object, " : " objects, ") << report->chunks
        << (report->chunks == 1 ? " chunk, " : " chunks, ") << report->bytes << " bytes (" << formatBytes(report->bytes) << ")";
    if (settings)
        out << "; the cache uses " << formatBytes(report->usedAfter) << " of max-size "
            << (settings->maxSize ? formatBytes(*settings->maxSize) : QStringLiteral("none"));
    out << "\n";
    return ExitOk;
}

int cmdPack(const CliConfig &c)
{
    QElapsedTimer clock;
    clock.start();
    std::optional<Progress> bar(std::in_place, "pack", c.progress);
    auto report = Cache(c.engine.cacheDir).pack(c.entries, [&](qint64 done, qint64 total) { return (*bar)(done, total, true); },
                                                c.engine.lockWaitMs, sayWaiting);
    bar.reset();
    if (!report)
        return fail(report.error());
    const double seconds = std::max(0.001, double(clock.elapsed()) / 1000.0);
    QTextStream out(stdout);
    out << "packed " << report->chunks << (report->chunks == 1 ? " chunk" : " chunks") << " of " << report->objects
        << (report->objects == 1 ? " object, " : " objects, ") << formatBytes(report->bytes) << " into "
        << formatBytes(report->storedBytes) << " of new pack data in " << QString::number(seconds, 'f', 1) << " s ("
        << formatBytes(qint64(double(report->bytes) / seconds)) << "/s)";
    if (report->skipped > 0)
        out << "; " << report->skipped << " chunks being fetched or written were left loose";
    out << "\n";
    return ExitOk;
}

int cmdRepack(const CliConfig &c)
{
    std::optional<Progress> bar(std::in_place, "repack", c.progress);
    auto report = Cache(c.engine.cacheDir).repack([&](qint64 done, qint64 total) { return (*bar)(done, total, false); },
                                                  c.engine.lockWaitMs, sayWaiting);
    bar.reset();
    if (!report)
        return fail(report.error());
    QTextStream(stdout) << "repacked " << report->rewrittenPacks << (report->rewrittenPacks == 1 ? " pack" : " packs")
                        << ": dropped " << report->droppedContents << " unused contents (" << report->forgottenChunks
                        << " chunks no object holds packed any more); pack files " << formatBytes(report->bytesBefore)
                        << " -> " << formatBytes(report->bytesAfter) << "\n";
    return ExitOk;
}

int cmdVerifyCache(const CliConfig &c)
{
    std::optional<Progress> bar(std::in_place, "verify", c.progress);
    auto report = Cache(c.engine.cacheDir).verifyAll([&](qint64 done, qint64 total) { return (*bar)(done, total, false); },
                                                     c.engine.lockWaitMs, sayWaiting);
    bar.reset();
    if (!report)
        return fail(report.error());
    QTextStream out(stdout);
    for (const QString &line : std::as_const(report->lines))
        out << line << "\n";
    out << c.engine.cacheDir << ": " << report->objects << (report->objects == 1 ? " object, " : " objects, ") << report->checkedChunks
        << " present chunks and " << report->contents << " packed contents verified; ";
    if (report->badChunks == 0 && report->badContents == 0) {
        out << "all good\n";
        return ExitOk;
    }
    out << report->badChunks << " damaged chunks dropped, " << report->badContents << " damaged contents\n";
    return ExitFailure;
}

} // namespace sparsescope::cli
