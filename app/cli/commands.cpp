#include "commands.h"
#include "mountcommand.h"
#include "archivecommands.h"
#include "archivereader.h"
#include "cachecommands.h"
#include "atomicfile.h"
#include "awaitfuture.h"
#include "cache.h"
#include "outputwriter.h"
#include "progressbar.h"
#include "s3commands.h"
#include "rangeparse.h"
#include "sparseobject.h"

#include <QCoreApplication>
#include <QDir>
#include <QRegularExpression>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>

#include <deque>
#include <unistd.h>

namespace sparsescope::cli {

int fail(const QString &message)
{
    QTextStream(stderr) << "sparsescope-cli: " << message << "\n";
    return ExitFailure;
}

int fail(const Error &error)
{
    QString message = error.message;
    if (error.kind == ErrorKind::Changed && !message.contains(QStringLiteral("run")))
        message += QStringLiteral("; run the command again to fetch the current version");
    QTextStream(stderr) << "sparsescope-cli: " << message << "\n";
    return error.kind == ErrorKind::Usage ? ExitUsage : ExitFailure;
}

namespace {
// How chunks are written into the cache: pwrite, or io_uring when SPARSESCOPE_STORE_IO=uring
// and the kernel allows it (uringring.h).
QString storeBackend() { return Cache::storeBackend(); }

using ObjectPtr = std::shared_ptr<SparseObject>;

// What the command reads first, so that the request that opens the object already fetches it
// (objectopener.h): read's first range, list's and extract's archive tail.
OpenOptions openOptionsFor(const CliConfig &c, std::shared_ptr<Statistics> statistics)
{
    OpenOptions options;
    options.statistics = std::move(statistics);
    const bool whole = c.command == u"prefetch" || (c.command == u"export" && !c.sparse);
    if (c.command == u"read" && !c.rangeTexts.isEmpty()) {
        // The first range (START-: up to the opening request's most).
        if (auto r = parseInclusiveRange(c.rangeTexts.first(), -1))
            options.firstRead = {r->begin, r->end >= 0 ? std::min(r->end, r->begin + kMaxFirstReadBytes) : r->begin + kMaxFirstReadBytes};
    } else if (whole) {
        // Its first chunk comes with the opening request; the rest goes out in parallel once the
        // entry exists (other processes and the app then see it grow). A server without ranges
        // sends the whole object instead, which is kept up to kMaxProbeBytes.
        qint64 begin = 0;
        if (!c.rangeTexts.isEmpty())
            if (auto r = parseInclusiveRange(c.rangeTexts.first(), -1))
                begin = r->begin;
        options.firstRead = {begin, begin + 1};
    } else if ((c.command == u"list" || c.command == u"extract") && !c.sequential) {
        // A ZIP's end records or a tar's head (with its prefetch connections), unless an index of
        // the archive makes them unneeded.
        if (!ArchiveReader::hasIndex(Cache(c.engine.cacheDir).entryDirectory(c.source)))
            ArchiveReader::hintOpening(c.source, options);
    }
    return options;
}

Result<ObjectPtr> openObject(const CliConfig &c, std::shared_ptr<Statistics> statistics)
{
    auto opened = awaitFuture(Cache(c.engine.cacheDir).open(c.source, c.engine, openOptionsFor(c, std::move(statistics))));
    if (!opened)
        return opened.error();
    for (const QString &w : (*opened)->warnings())
        QTextStream(stderr) << "sparsescope-cli: warning: " << w << "\n";
    return opened;
}

Result<QList<ByteRange>> parseRanges(const CliConfig &c, const SparseObject &object, bool defaultWhole)
{
    QList<ByteRange> ranges;
    const qint64 size = object.geometry().objectSize;
    for (const QString &text : c.rangeTexts) {
        auto r = parseInclusiveRange(text, size);
        if (!r) // the syntax was checked while parsing: this range does not fit this object (a run-time failure)
            return makeError(ErrorKind::Upstream, QStringLiteral("%1: %2").arg(object.sourceInfo().displayName, r.error().message));
        ranges.append(*r);
    }
    if (ranges.isEmpty() && defaultWhole && size > 0)
        ranges.append({0, size});
    return ranges;
}

QJsonArray rangesJson(const RangeSet &set)
{
    QJsonArray out;
    for (const ByteRange &r : set.ranges())
        out.append(QJsonArray{double(r.begin), double(r.end)});
    return out;
}

int cmdInfo(const CliConfig &c, SparseObject &o)
{
    const RangeSet present = o.presentRanges();
    const ChunkGeometry g = o.geometry();
    const qint64 allocated = o.allocatedBytes();
    if (c.json) {
        QJsonObject j;
        j[QStringLiteral("source")] = o.sourceInfo().displayName;
        j[QStringLiteral("size")] = double(g.objectSize);
        j[QStringLiteral("chunk_size")] = double(g.chunkSize);
        j[QStringLiteral("chunk_count")] = double(g.chunkCount());
        j[QStringLiteral("present_bytes")] = double(present.totalBytes());
        j[QStringLiteral("present_chunks")] = double(o.presentChunks().count());
        j[QStringLiteral("allocated_bytes")] = double(allocated);
        j[QStringLiteral("packed_bytes")] = double(o.packedBytes());
        j[QStringLiteral("ranges")] = rangesJson(present);
        j[QStringLiteral("validator")] = o.sourceInfo().validator;
        j[QStringLiteral("cache_path")] = o.cachePath();
        j[QStringLiteral("backend")] = o.backendName();
        j[QStringLiteral("store_backend")] = storeBackend();
        QTextStream(stdout) << QJsonDocument(j).toJson(QJsonDocument::Compact) << "\n";
        return ExitOk;
    }
    QStringList ranges;
    for (const ByteRange &r : present.ranges())
        ranges << r.toInclusiveString();
    const double pct = g.objectSize > 0 ? 100.0 * double(present.totalBytes()) / double(g.objectSize) : 100.0;
    QTextStream out(stdout);
    out << "source:      " << o.sourceInfo().displayName << "\n"
        << "size:        " << g.objectSize << " bytes (" << formatBytes(g.objectSize) << ")\n"
        << "validator:   " << (o.sourceInfo().validator.isEmpty() ? QStringLiteral("(none)") : o.sourceInfo().validator) << "\n"
        << "chunk size:  " << g.chunkSize << " bytes (" << formatBytes(g.chunkSize) << "), " << g.chunkCount() << " chunks\n"
        << "present:     " << present.totalBytes() << " bytes (" << QString::number(pct, 'f', 1) << "%) in "
        << present.rangeCount() << (present.rangeCount() == 1 ? " range" : " ranges") << "\n"
        << "ranges:      " << (ranges.isEmpty() ? QStringLiteral("(none)") : ranges.join(QStringLiteral(", "))) << "\n"
        << "allocated:   " << allocated << " bytes on disk (" << formatBytes(allocated) << ")\n"
        << "cache path:  " << o.cachePath() << "\n";
    return ExitOk;
}

// Streams each range in slices of at most kSlice bytes, keeping kWindow slices of each range in
// flight; every range starts at once (concurrent readers) and output stays in order.
int cmdRead(const CliConfig &c, SparseObject &o)
{
    constexpr qint64 kSlice = 8 << 20;
    constexpr int kWindow = 4;
    auto ranges = parseRanges(c, o, false);
    if (!ranges)
        return fail(ranges.error());
    const bool toStdout = c.output.isEmpty() || c.output == u"-";
    std::optional<AtomicFile> file; // -o FILE: renamed into place only when complete
    if (!toStdout) {
        auto created = AtomicFile::create(c.output, 0644);
        if (!created)
            return fail(created.error());
        file.emplace(std::move(created).value());
    }
    std::optional<OutputWriter> out;
    out.emplace(toStdout ? STDOUT_FILENO : file->fd(), toStdout ? QStringLiteral("stdout") : c.output);
    struct Stream {
        ByteRange range;
        qint64 next = 0;
        std::deque<QFuture<Result<QByteArray>>> inFlight;
    };
    std::vector<Stream> streams;
    for (const ByteRange &r : *ranges)
        streams.push_back({r, r.begin, {}});
    auto refill = [&](Stream &s) {
        while (int(s.inFlight.size()) < kWindow && s.next < s.range.end) {
            const ByteRange slice{s.next, std::min(s.range.end, s.next + kSlice)};
            s.inFlight.push_back(o.read(slice, Priority::Interactive));
            s.next = slice.end;
        }
    };
    for (Stream &s : streams)
        refill(s);
    ProgressBar bar(&o, c.progress && !toStdout);
    int rc = ExitOk;
    for (Stream &s : streams) {
        while (!s.inFlight.empty() && rc == ExitOk) {
            Result<QByteArray> bytes = awaitFuture(s.inFlight.front());
            s.inFlight.pop_front();
            if (!bytes) {
                rc = fail(bytes.error());
                break;
            }
            if (!out->push(std::move(bytes).value())) {
                rc = fail(out->error());
                break;
            }
            refill(s);
        }
    }
    if (rc != ExitOk)
        o.cancelAll();
    if (!out->finish() && rc == ExitOk)
        rc = fail(out->error());
    out.reset();
    if (file && rc == ExitOk)
        if (Status st = file->commit(AtomicFile::Durability::File); !st)
            rc = fail(st.error());
    return rc;
}

int cmdPrefetch(const CliConfig &c, SparseObject &o)
{
    auto ranges = parseRanges(c, o, true);
    if (!ranges)
        return fail(ranges.error());
    ProgressBar bar(&o, c.progress);
    auto done = awaitFuture(o.prefetch(*ranges, Priority::Prefetch));
    if (!done)
        return fail(done.error());
    return ExitOk;
}

int cmdEvict(const CliConfig &c, SparseObject &o)
{
    auto ranges = parseRanges(c, o, true);
    if (!ranges)
        return fail(ranges.error());
    auto dropped = awaitFuture(o.evict(*ranges));
    if (!dropped)
        return fail(dropped.error());
    return ExitOk;
}

int cmdExport(const CliConfig &c, SparseObject &o)
{
    ProgressBar bar(&o, c.progress && !c.sparse);
    auto written = awaitFuture(o.exportTo(c.output, c.sparse ? ExportMode::Sparse : ExportMode::Full));
    if (!written)
        return fail(written.error());
    return ExitOk;
}

int cmdVerify(const CliConfig &, SparseObject &o)
{
    auto report = awaitFuture(o.verify());
    if (!report)
        return fail(report.error());
    if (report->badChunks.isEmpty()) {
        QTextStream(stdout) << o.sourceInfo().displayName << ": " << report->checkedChunks << " present chunks verified, all good\n";
        return ExitOk;
    }
    QStringList bad;
    for (qint64 chunk : report->badChunks)
        bad << o.geometry().chunkRange(chunk).toInclusiveString();
    QTextStream(stdout) << o.sourceInfo().displayName << ": " << report->badChunks.size() << " of " << report->checkedChunks
                        << " present chunks were damaged and were dropped (bytes " << bad.join(QStringLiteral(", "))
                        << "); they will be fetched again when read\n";
    return ExitFailure;
}

int cmdRemove(const CliConfig &c)
{
    const auto waiting = [](const QString &why) { QTextStream(stderr) << "sparsescope-cli: " << why << "\n"; };
    if (Status st = Cache(c.engine.cacheDir).remove(c.source, c.engine.lockWaitMs, waiting); !st)
        return fail(st.error());
    return ExitOk;
}

void printStats(const Statistics *s, qint64 elapsedMs, const QString &backend)
{
    QJsonObject j;
    if (!backend.isEmpty()) {
        j[QStringLiteral("backend")] = backend;
        j[QStringLiteral("store_backend")] = storeBackend();
    }
    j[QStringLiteral("upstream_requests")] = double(s ? s->upstreamRequests.load() : 0);
    j[QStringLiteral("upstream_bytes")] = double(s ? s->upstreamBytes.load() : 0);
    j[QStringLiteral("cache_hit_bytes")] = double(s ? s->cacheHitBytes.load() : 0);
    j[QStringLiteral("elapsed_ms")] = double(elapsedMs);
    QTextStream(stderr) << QJsonDocument(j).toJson(QJsonDocument::Compact) << "\n";
}
} // namespace

int runCommand(const CliConfig &c)
{
    QElapsedTimer clock;
    clock.start();
    int rc = ExitOk;
    ObjectPtr object;
    auto stats = std::make_shared<Statistics>(); // also counts the requests of an open that fails
    QString backend;
    if (c.command == u"status") {
        rc = cmdStatus(c);
    } else if (c.command == u"config") {
        rc = cmdConfig(c);
    } else if (c.command == u"gc") {
        rc = cmdGc(c);
    } else if (c.command == u"remove") {
        rc = cmdRemove(c);
    } else if (c.command == u"pack") {
        rc = cmdPack(c);
    } else if (c.command == u"repack") {
        rc = cmdRepack(c);
    } else if (c.command == u"ls") {
        rc = cmdLs(c, stats);
    } else if (c.command == u"mount") {
        rc = cmdMount(c);
    } else if (c.command == u"verify" && c.source.isEmpty()) {
        rc = cmdVerifyCache(c);
    } else {
        auto opened = openObject(c, stats);
        if (!opened) {
            rc = fail(opened.error());
        } else {
            object = *opened;
            SparseObject &o = *object;
            backend = o.backendName();
            if (c.command == u"info")
                rc = cmdInfo(c, o);
            else if (c.command == u"read")
                rc = cmdRead(c, o);
            else if (c.command == u"prefetch")
                rc = cmdPrefetch(c, o);
            else if (c.command == u"evict")
                rc = cmdEvict(c, o);
            else if (c.command == u"export")
                rc = cmdExport(c, o);
            else if (c.command == u"verify")
                rc = cmdVerify(c, o);
            else if (c.command == u"list")
                rc = cmdList(c, o);
            else if (c.command == u"extract")
                rc = cmdExtract(c, o);
            Status flushed = awaitFuture(o.flush());
            if (!flushed && rc == ExitOk)
                rc = fail(flushed.error());
        }
    }
    object.reset();             // closes the source (joins the network thread)
    Cache::waitForWrites();     // chunk writes and the final commit
    if (c.stats)
        printStats(stats.get(), clock.elapsed(), backend);
    return rc;
}

} // namespace sparsescope::cli
