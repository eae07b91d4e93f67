#include "archivecommands.h"
#include "archiveextractor.h"
#include "archivereader.h"
#include "awaitfuture.h"
#include "progressbar.h"
#include "sparseobject.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStringEncoder>
#include <QTextStream>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrent>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <unistd.h>

namespace sparsescope::cli {

namespace {
int fail(const Error &error)
{
    QTextStream(stderr) << "sparsescope-cli: " << error.message << "\n";
    return ExitFailure; // not an archive, no such entry, damaged data: all found out at run time
}

// Runs `work` with an ArchiveReader on a worker thread of its own (the archive libraries block on
// reads that the engine serves on this thread, whose event loop keeps running meanwhile).
// `onListed` (see ArchiveReader::open) runs on that worker thread.
template <typename T>
Result<T> withArchive(const CliConfig &c, SparseObject &o, std::function<Result<T>(ArchiveReader &)> work, bool forVisitAll = false,
                      const QStringList &names = {}, const ArchiveReader::Listed &onListed = {})
{
    QThreadPool pool;
    pool.setMaxThreadCount(1);
    ProgressBar bar(&o, c.progress && c.output != u"-");
    const bool sequential = c.sequential;
    return awaitFuture(QtConcurrent::run(&pool, [&o, sequential, work, forVisitAll, names, onListed]() -> Result<T> {
        SparseDevice device(&o);
        auto reader = ArchiveReader::open(device, sequential, forVisitAll, names, onListed);
        if (!reader)
            return reader.error();
        return work(**reader);
    }));
}

QJsonValue spanJson(const std::optional<ByteRange> &span)
{
    if (!span)
        return QJsonValue::Null;
    return QJsonArray{double(span->begin), double(span->end)};
}
} // namespace

int cmdList(const CliConfig &c, SparseObject &o)
{
    // Text lines are printed as the listing finds the entries (a tar's walk goes on meanwhile, as
    // `tar tf` prints while it reads): each line on a terminal, else at least every 200 ms; JSON
    // once the listing is whole.
    QTextStream out(stdout);
    ArchiveReader::Listed print;
    const bool terminal = ::isatty(STDOUT_FILENO) == 1;
    QElapsedTimer sinceFlush;
    sinceFlush.start();
    // Each line is made in UTF-8 in one reused buffer and put in stdio's buffer: no allocation
    // per entry (a QTextStream per line was 6 % of a 30,000-entry tar walk, four small
    // QByteArrays per line 3 %).
    QByteArray line;
    QStringEncoder toUtf8(QStringEncoder::Utf8, QStringEncoder::Flag::Stateless);
    if (!c.json)
        print = [&line, &toUtf8, terminal, &sinceFlush](const ArchiveEntry &e) {
            const QLatin1StringView type = ArchiveEntry::typeName(e.type);
            line.resize(3 * e.path.size() + 2 * 21 + type.size() + 4); // the longest this line can be
            char *at = toUtf8.appendToBuffer(line.data(), e.path);
            char *const end = line.data() + line.size();
            *at++ = '\t';
            at = std::to_chars(at, end, e.size).ptr;
            *at++ = '\t';
            if (e.compressedSize >= 0)
                at = std::to_chars(at, end, e.compressedSize).ptr;
            else
                *at++ = '-';
            *at++ = '\t';
            at = std::copy_n(type.data(), type.size(), at);
            *at++ = '\n';
            std::fwrite(line.constData(), 1, size_t(at - line.constData()), stdout);
            if (terminal || sinceFlush.elapsed() >= 200) {
                std::fflush(stdout);
                sinceFlush.restart();
            }
        };
    // Lines streaming onto a terminal are the progress; a bar redrawn on the same terminal would
    // tear them (with stdout redirected, the bar stays).
    CliConfig listConfig = c;
    if (terminal && !c.json)
        listConfig.progress = false;
    auto listing = withArchive<ArchiveListing>(listConfig, o, [](ArchiveReader &r) -> Result<ArchiveListing> {
        std::fflush(stdout); // from the thread that wrote it
        return r.listing();
    }, false, {}, print);
    if (!listing)
        return fail(listing.error());
    if (c.json) {
        QJsonArray arr;
        for (const ArchiveEntry &e : listing->entries) {
            QJsonObject j;
            j[QStringLiteral("path")] = e.path;
            j[QStringLiteral("type")] = ArchiveEntry::typeName(e.type);
            j[QStringLiteral("size")] = double(e.size);
            j[QStringLiteral("compressed_size")] = e.compressedSize >= 0 ? QJsonValue(double(e.compressedSize)) : QJsonValue::Null;
            j[QStringLiteral("mtime")] = double(e.mtime);
            j[QStringLiteral("mode")] = e.mode >= 0 ? QJsonValue(e.mode) : QJsonValue::Null;
            j[QStringLiteral("span")] = spanJson(e.span);
            if (!e.linkTarget.isEmpty())
                j[QStringLiteral("link_target")] = e.linkTarget;
            if (!e.complete)
                j[QStringLiteral("complete")] = false;
            arr.append(j);
        }
        out << QJsonDocument(arr).toJson(QJsonDocument::Compact) << "\n";
    }
    if (!listing->problem.isEmpty()) {
        // What was found is listed; the archive itself is not whole (GNU tar: "Unexpected EOF").
        QTextStream(stderr) << "sparsescope-cli: warning: " << listing->problem << "\n";
        return ExitFailure;
    }
    return ExitOk;
}

int cmdExtract(const CliConfig &c, SparseObject &o)
{
    const QStringList names = c.entries;
    const bool toStdout = c.output == u"-";
    const QString dir = c.output;
    auto report = withArchive<ExtractReport>(c, o, [names, toStdout, dir](ArchiveReader &r) -> Result<ExtractReport> {
        QList<int> indices;
        if (!names.isEmpty()) {
            auto selected = selectEntries(r.entries(), names);
            if (!selected)
                return selected.error();
            indices = *selected;
        }
        if (toStdout) {
            const ArchiveEntry e = *findEntry(r.entries(), indices.first());
            if (indices.size() != 1 || e.type != ArchiveEntry::Type::File)
                return makeError(ErrorKind::Usage, QStringLiteral("\"%1\" is a %2, not a file: -o - writes one file to stdout")
                                                       .arg(names.first(), ArchiveEntry::typeName(e.type)));
            if (!e.complete)
                return makeError(ErrorKind::Integrity, QStringLiteral("\"%1\" is incomplete: the archive ends inside it").arg(e.path));
            ExtractReport rep;
            const Status st = r.read(e.index, [&](const char *data, qint64 length) {
                rep.bytes += length;
                return std::fwrite(data, 1, size_t(length), stdout) == size_t(length);
            });
            std::fflush(stdout);
            if (!st)
                return st.error();
            rep.files = 1;
            return rep;
        }
        return extractEntries(r, indices, dir);
    }, names.isEmpty() && !toStdout, names);
    if (!report)
        return fail(report.error());
    for (const QString &w : report->warnings)
        QTextStream(stderr) << "sparsescope-cli: warning: " << w << "\n";
    return report->incomplete ? ExitFailure : ExitOk; // something asked for was not written
}

} // namespace sparsescope::cli
