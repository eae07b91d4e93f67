#include "archivecommands.h"
#include "archiveextractor.h"
#include "archivereader.h"
#include "awaitfuture.h"
#include "progressbar.h"
#include "sparseobject.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrent>

#include <cstdio>

namespace sparsescope::cli {

namespace {
int fail(const Error &error)
{
    QTextStream(stderr) << "sparsescope-cli: " << error.message << "\n";
    return ExitFailure; // not an archive, no such entry, damaged data: all found out at run time
}

// Runs `work` with an ArchiveReader on a worker thread of its own (the archive libraries block on
// reads that the engine serves on this thread, whose event loop keeps running meanwhile).
template <typename T>
Result<T> withArchive(const CliConfig &c, SparseObject &o, std::function<Result<T>(ArchiveReader &)> work)
{
    QThreadPool pool;
    pool.setMaxThreadCount(1);
    ProgressBar bar(&o, c.progress && c.output != u"-");
    const bool sequential = c.sequential;
    return awaitFuture(QtConcurrent::run(&pool, [&o, sequential, work]() -> Result<T> {
        SparseDevice device(&o);
        auto reader = ArchiveReader::open(device, sequential);
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
    auto entries = withArchive<QList<ArchiveEntry>>(c, o, [](ArchiveReader &r) -> Result<QList<ArchiveEntry>> { return r.entries(); });
    if (!entries)
        return fail(entries.error());
    if (c.json) {
        QJsonArray arr;
        for (const ArchiveEntry &e : *entries) {
            QJsonObject j;
            j[QStringLiteral("path")] = e.path;
            j[QStringLiteral("type")] = ArchiveEntry::typeName(e.type);
            j[QStringLiteral("size")] = double(e.size);
            j[QStringLiteral("compressed_size")] = e.compressedSize >= 0 ? QJsonValue(double(e.compressedSize)) : QJsonValue::Null;
            j[QStringLiteral("mtime")] = double(e.mtime);
            j[QStringLiteral("span")] = spanJson(e.span);
            arr.append(j);
        }
        QTextStream(stdout) << QJsonDocument(arr).toJson(QJsonDocument::Compact) << "\n";
        return ExitOk;
    }
    QTextStream out(stdout);
    for (const ArchiveEntry &e : *entries)
        out << e.path << '\t' << e.size << '\t' << (e.compressedSize >= 0 ? QString::number(e.compressedSize) : QStringLiteral("-"))
            << '\t' << ArchiveEntry::typeName(e.type) << '\n';
    return ExitOk;
}

int cmdExtract(const CliConfig &c, SparseObject &o)
{
    const QStringList names = c.entries;
    const bool toStdout = c.output == u"-";
    const QString dir = c.output;
    auto report = withArchive<ExtractReport>(c, o, [names, toStdout, dir](ArchiveReader &r) -> Result<ExtractReport> {
        QList<int> indices;
        const QList<ArchiveEntry> all = r.entries();
        for (const QString &name : names) {
            auto it = std::find_if(all.begin(), all.end(), [&](const ArchiveEntry &e) {
                return e.path == name || e.path == name + u'/' || (name.endsWith(u'/') && e.path == name.chopped(1));
            });
            if (it == all.end())
                return makeError(ErrorKind::Usage, QStringLiteral("%1 has no entry named \"%2\"; see `sparsescope-cli list`")
                                                       .arg(r.formatName() == u"zip" ? QStringLiteral("the ZIP archive") : QStringLiteral("the archive"), name));
            indices.append(it->index);
        }
        if (toStdout) {
            ExtractReport rep;
            const Status st = r.read(indices.first(), [&](const char *data, qint64 length) {
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
    });
    if (!report)
        return fail(report.error());
    for (const QString &w : report->warnings)
        QTextStream(stderr) << "sparsescope-cli: warning: " << w << "\n";
    if (!report->warnings.isEmpty() && report->warnings.join(QString()).contains(QStringLiteral("refused")))
        return ExitFailure; // something asked for was not written
    return ExitOk;
}

} // namespace sparsescope::cli
