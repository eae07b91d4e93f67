#include "cliconfig.h"
#include "cache.h"
#include "rangeparse.h"

#include <QCommandLineParser>
#include <QTextStream>

#include <cstdio>
#include <unistd.h>

namespace sparsescope::cli {

namespace {
const char *kDescription =
    "Sparse, out-of-order materialization of large byte objects.\n"
    "Fetches only the byte ranges that are read, keeps them in a local sparse cache,\n"
    "and remembers exactly what is present across restarts and crashes.\n"
    "\n"
    "SOURCE is an http:// or https:// URL, an s3://BUCKET/KEY (the key as the AWS CLI writes\n"
    "it; credentials, region and endpoint as the AWS CLI finds them), a file:// URL, or a\n"
    "local path.\n"
    "Ranges are inclusive byte offsets as curl writes them: START-END, or START- to the end.\n"
    "\n"
    "Commands:\n"
    "  info SOURCE [--json]             size, validator, chunk size, present ranges, cache path\n"
    "  read SOURCE -r RANGE... [-o F]   the bytes of each range, in order, to F or stdout;\n"
    "                                   the ranges are fetched concurrently\n"
    "  prefetch SOURCE [-r RANGE...]    materialize the ranges (default: the whole object)\n"
    "  evict SOURCE [-r RANGE...]       drop every chunk touching the ranges (default: all)\n"
    "                                   and free its disk blocks\n"
    "  export SOURCE -o FILE [--sparse] write the object to FILE (fetching what is missing);\n"
    "                                   --sparse writes only present chunks, leaving holes\n"
    "  verify [SOURCE]                  re-hash present chunks; drop bad ones (exit 1 if any);\n"
    "                                   no SOURCE: every object and every packed content\n"
    "  status [--json]                  the cache's disk use and budget, loose and packed\n"
    "                                   chunks, and every object in it\n"
    "  remove SOURCE                    delete the object's cache entirely\n"
    "  list SOURCE [--json]             the entries of a ZIP or tar archive (path, size,\n"
    "                                   compressed size, type), fetching only what listing needs;\n"
    "                                   kept in an index, so it happens once per archive version.\n"
    "                                   A truncated archive: what was found, a warning, exit 1\n"
    "  ls s3://BUCKET[/PREFIX] [--recursive] [--json]\n"
    "                                   the keys under PREFIX (ListObjectsV2, any number of\n"
    "                                   keys): date and time (UTC), size, full key; without\n"
    "                                   --recursive, deeper keys fold into PRE lines\n"
    "  extract SOURCE [ENTRY...] -o DIR the named entries (default: all) into DIR, with their\n"
    "                                   modes and mtimes; a directory brings its subtree, a name\n"
    "                                   twice in the archive gives its last member (as tar and\n"
    "                                   unzip do); '-o -' writes one file to stdout. Unsafe names\n"
    "                                   and links pointing outside DIR are refused (exit 1)\n"
    "\n"
    "  mount MOUNTPOINT SOURCE... [--name NAME] [--archives]\n"
    "                                   each SOURCE as a read-only file in MOUNTPOINT (FUSE),\n"
    "                                   named after the last part of its path (--name: of a\n"
    "                                   single SOURCE); reads go through the cache like read's.\n"
    "                                   --archives: a ZIP or tar SOURCE also as a directory\n"
    "                                   NAME.d of its entries. Runs until unmounted\n"
    "                                   (fusermount3 -u MOUNTPOINT, Ctrl-C, SIGTERM)\n"
    "\n"
    "  config [KEY [VALUE]]             read or set a setting of the cache directory, honoured\n"
    "                                   by every process on it (the app too):\n"
    "                                     max-size SIZE|none  most disk the cache may take\n"
    "                                                         (default none)\n"
    "                                     min-free-space SIZE keep this much free on its\n"
    "                                                         filesystem (default 1G)\n"
    "                                   SIZE takes K, M, G, T (KiB..TiB). Past 95 % of max-size the\n"
    "                                   least recently used chunks are evicted down to 90 %\n"
    "  gc                               apply the budget now; print what was freed\n"
    "  pack [SOURCE...]                 move present chunks (default: of every object) into\n"
    "                                   shared pack files: each content stored once (SHA-256),\n"
    "                                   compressed with zstd where that pays; reads stay the same\n"
    "  repack                           rewrite packs without contents no object uses any more\n"
    "                                   (after evict, remove or the budget) to give space back\n"
    "\n"
    "Exit status: 0 success, 1 failure at run time, 2 usage error. SIGINT or SIGTERM removes\n"
    "the command's temporary files before it dies; the cache needs nothing.";

void printUsageError(const QString &message)
{
    QTextStream(stderr) << "sparsescope-cli: " << message << "\nTry 'sparsescope-cli --help'.\n";
}

ParseOutcome usageError(const QString &message)
{
    printUsageError(message);
    ParseOutcome o;
    o.exit = true;
    o.exitCode = ExitUsage;
    return o;
}
} // namespace

ParseOutcome parseCommandLine(const QStringList &arguments)
{
    QCommandLineParser p;
    p.setApplicationDescription(QString::fromLatin1(kDescription));
    p.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption help({QStringLiteral("h"), QStringLiteral("help")}, QStringLiteral("Show this help."));
    const QCommandLineOption version(QStringLiteral("version"), QStringLiteral("Show the version."));
    const QCommandLineOption cacheDir(QStringLiteral("cache-dir"),
                                      QStringLiteral("Cache directory (default: $SPARSESCOPE_CACHE_DIR, else %1).")
                                          .arg(QStringLiteral("$XDG_CACHE_HOME/sparsescope")),
                                      QStringLiteral("DIR"));
    const QCommandLineOption chunkSize(QStringLiteral("chunk-size"),
                                       QStringLiteral("Chunk size for objects cached for the first time; K, M, G are KiB, "
                                                      "MiB, GiB; a multiple of 4K (default: 256K)."),
                                       QStringLiteral("SIZE"));
    const QCommandLineOption connections(QStringLiteral("connections"), QStringLiteral("Upstream requests in parallel (default: 4)."),
                                         QStringLiteral("N"));
    const QCommandLineOption timeout(QStringLiteral("timeout"),
                                     QStringLiteral("Inactivity timeout of one upstream request, in seconds (default: 30)."),
                                     QStringLiteral("SECONDS"));
    const QCommandLineOption caFile(QStringLiteral("ca-file"),
                                    QStringLiteral("Also trust the CA certificates in this PEM file for HTTPS (certificates are "
                                                   "always verified)."),
                                    QStringLiteral("FILE"));
    const QCommandLineOption maxAge(QStringLiteral("max-age"),
                                    QStringLiteral("Trust a cached object validated upstream less than SECONDS ago "
                                                   "without asking the server (default: 0, always revalidate)."),
                                    QStringLiteral("SECONDS"));
    const QCommandLineOption progress(QStringLiteral("progress"),
                                      QStringLiteral("Show a progress bar on stderr (default when stderr is a terminal)."));
    const QCommandLineOption stats(QStringLiteral("stats"),
                                   QStringLiteral("After the command, print one JSON line of statistics on stderr."));
    const QCommandLineOption range(QStringLiteral("r"), QStringLiteral("Byte range START-END or START- (repeatable)."),
                                   QStringLiteral("RANGE"));
    const QCommandLineOption output(QStringLiteral("o"), QStringLiteral("Output file ('-' for stdout where allowed)."),
                                    QStringLiteral("FILE"));
    const QCommandLineOption json(QStringLiteral("json"), QStringLiteral("Print JSON (info, status, list, ls)."));
    const QCommandLineOption sparse(QStringLiteral("sparse"), QStringLiteral("Export only present chunks, leaving holes (export)."));
    const QCommandLineOption recursive(QStringLiteral("recursive"), QStringLiteral("Every key under the prefix (ls)."));
    const QCommandLineOption endpointUrl(QStringLiteral("endpoint-url"),
                                         QStringLiteral("The S3 endpoint (MinIO, Ceph, R2, ...), as the AWS CLI's --endpoint-url "
                                                        "(default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's, else AWS)."),
                                         QStringLiteral("URL"));
    const QCommandLineOption name(QStringLiteral("name"), QStringLiteral("The file name of the one SOURCE (mount)."), QStringLiteral("NAME"));
    const QCommandLineOption archives(QStringLiteral("archives"),
                                      QStringLiteral("Also show each ZIP or tar SOURCE as a directory NAME.d of its entries (mount)."));
    const QCommandLineOption sequential(QStringLiteral("sequential"),
                                        QStringLiteral("Read a compressed tar from start to end (list, extract)."));
    p.addOptions({help, version, cacheDir, chunkSize, connections, timeout, caFile, maxAge, progress, stats, range, output, json, sparse,
                  recursive, endpointUrl, sequential, name, archives});
    p.addPositionalArgument(QStringLiteral("COMMAND"),
                            QStringLiteral("info, read, prefetch, evict, export, verify, status, remove, list, ls, extract, mount, config, gc, pack "
                                           "or repack."));
    p.addPositionalArgument(QStringLiteral("SOURCE"), QStringLiteral("URL or local path of the object."), QStringLiteral("[SOURCE]"));

    if (!p.parse(arguments))
        return usageError(p.errorText());
    if (p.isSet(help)) {
        QTextStream(stdout) << p.helpText();
        return ParseOutcome{true, ExitOk, {}};
    }
    if (p.isSet(version)) {
        QTextStream(stdout) << "sparsescope-cli " << SPARSESCOPE_VERSION << "\n";
        return ParseOutcome{true, ExitOk, {}};
    }

    ParseOutcome out;
    CliConfig &c = out.config;
    const QStringList pos = p.positionalArguments();
    if (pos.isEmpty())
        return usageError(QStringLiteral("no command given"));
    c.command = pos.first();
    static const QStringList withSource = {QStringLiteral("info"), QStringLiteral("read"), QStringLiteral("prefetch"),
                                           QStringLiteral("evict"), QStringLiteral("export"),
                                           QStringLiteral("remove"), QStringLiteral("list"), QStringLiteral("ls")};
    if (c.command == u"status" || c.command == u"gc" || c.command == u"repack") {
        if (pos.size() != 1)
            return usageError(QStringLiteral("%1 takes no SOURCE").arg(c.command));
    } else if (c.command == u"config") {
        if (pos.size() > 3)
            return usageError(QStringLiteral("config takes at most KEY and VALUE"));
        c.entries = pos.mid(1);
        CacheSettings check;
        if (!c.entries.isEmpty()) {
            if (!check.value(c.entries.first()))
                return usageError(check.value(c.entries.first()).error().message);
            if (c.entries.size() == 2)
                if (Status st = check.set(c.entries.first(), c.entries.at(1)); !st)
                    return usageError(st.error().message);
        }
    } else if (c.command == u"pack") {
        c.entries = pos.mid(1);
    } else if (c.command == u"verify") {
        if (pos.size() > 2)
            return usageError(QStringLiteral("verify takes at most one SOURCE (none: the whole cache)"));
        c.source = pos.value(1);
    } else if (c.command == u"extract") {
        if (pos.size() < 2)
            return usageError(QStringLiteral("extract needs a SOURCE"));
        c.source = pos.at(1);
        c.entries = pos.mid(2);
    } else if (c.command == u"mount") {
        if (pos.size() < 3)
            return usageError(QStringLiteral("mount needs a MOUNTPOINT and at least one SOURCE"));
        c.mountPoint = pos.at(1);
        c.sources = pos.mid(2);
    } else if (withSource.contains(c.command)) {
        if (pos.size() != 2)
            return usageError(QStringLiteral("%1 needs exactly one SOURCE").arg(c.command));
        c.source = pos.at(1);
    } else {
        return usageError(QStringLiteral("unknown command \"%1\"").arg(c.command));
    }

    // Options that belong to particular commands.
    const bool rangesAllowed = c.command == u"read" || c.command == u"prefetch" || c.command == u"evict";
    if (p.isSet(range) && !rangesAllowed)
        return usageError(QStringLiteral("-r is not an option of %1").arg(c.command));
    if (p.isSet(output) && c.command != u"read" && c.command != u"export" && c.command != u"extract")
        return usageError(QStringLiteral("-o is not an option of %1").arg(c.command));
    if (p.isSet(sequential) && c.command != u"list" && c.command != u"extract")
        return usageError(QStringLiteral("--sequential is not an option of %1").arg(c.command));
    c.sequential = p.isSet(sequential);
    if (c.command == u"extract" && c.output.isEmpty() && !p.isSet(output))
        return usageError(QStringLiteral("extract needs -o DIR (or -o - for one entry to stdout)"));
    if (c.command == u"extract" && p.value(output) == u"-" && c.entries.size() != 1)
        return usageError(QStringLiteral("extract -o - writes exactly one ENTRY to stdout; name one"));
    if (c.command == u"ls" && !c.source.startsWith(QStringLiteral("s3://"), Qt::CaseInsensitive))
        return usageError(QStringLiteral("ls lists a bucket: s3://BUCKET[/PREFIX]"));
    if (p.isSet(recursive) && c.command != u"ls")
        return usageError(QStringLiteral("--recursive is not an option of %1").arg(c.command));
    c.recursive = p.isSet(recursive);
    if ((p.isSet(name) || p.isSet(archives)) && c.command != u"mount")
        return usageError(QStringLiteral("--%1 is not an option of %2").arg(p.isSet(name) ? u"name" : u"archives", c.command));
    if (p.isSet(name) && c.sources.size() != 1)
        return usageError(QStringLiteral("--name names a single SOURCE; with several, each is named after its path"));
    if (p.isSet(name) && (p.value(name).isEmpty() || p.value(name).contains(u'/') || p.value(name) == u"." || p.value(name) == u".."))
        return usageError(QStringLiteral("--name must be a file name (no '/')"));
    c.mountName = p.value(name);
    c.archives = p.isSet(archives);
    if (p.isSet(json) && c.command != u"info" && c.command != u"status" && c.command != u"list" && c.command != u"ls")
        return usageError(QStringLiteral("--json is not an option of %1").arg(c.command));
    if (p.isSet(sparse) && c.command != u"export")
        return usageError(QStringLiteral("--sparse is not an option of %1").arg(c.command));
    c.rangeTexts = p.values(range);
    c.output = p.value(output);
    c.json = p.isSet(json);
    c.sparse = p.isSet(sparse);
    if (c.command == u"read" && c.rangeTexts.isEmpty())
        return usageError(QStringLiteral("read needs at least one -r START-END"));
    if (c.command == u"export" && (c.output.isEmpty() || c.output == u"-"))
        return usageError(QStringLiteral("export needs -o FILE"));
    for (const QString &r : std::as_const(c.rangeTexts))
        if (auto parsed = parseInclusiveRange(r, -1); !parsed)
            return usageError(parsed.error().message);

    // Global options.
    c.engine.cacheDir = p.isSet(cacheDir) ? p.value(cacheDir) : Cache::defaultDirectory();
    if (p.isSet(chunkSize)) {
        auto size = parseSize(p.value(chunkSize));
        if (!size)
            return usageError(size.error().message);
        if (const QString why = EngineConfig::chunkSizeProblem(*size); !why.isEmpty())
            return usageError(QStringLiteral("--chunk-size: %1").arg(why));
        c.engine.chunkSize = *size;
    }
    if (p.isSet(connections)) {
        bool ok = false;
        const int n = p.value(connections).toInt(&ok);
        if (!ok || n < 1 || n > 64)
            return usageError(QStringLiteral("--connections must be between 1 and 64"));
        c.engine.source.connections = n;
    }
    if (p.isSet(timeout)) {
        bool ok = false;
        const double s = p.value(timeout).toDouble(&ok);
        if (!ok || s <= 0 || s > 86400)
            return usageError(QStringLiteral("--timeout must be a number of seconds between 0 and 86400"));
        c.engine.source.timeoutMs = int(s * 1000);
    }
    if (p.isSet(caFile))
        c.engine.source.caFile = p.value(caFile);
    if (p.isSet(endpointUrl)) // above AWS_ENDPOINT_URL_S3 and the rest, as in the AWS CLI: for every part of the process
        qputenv("AWS_ENDPOINT_URL_S3", p.value(endpointUrl).toUtf8());
    if (p.isSet(maxAge)) {
        bool ok = false;
        const qint64 s = p.value(maxAge).toLongLong(&ok);
        if (!ok || s < 0 || s > 365LL * 86400)
            return usageError(QStringLiteral("--max-age must be a whole number of seconds from 0 to 31536000 (a year)"));
        c.engine.maxAgeSeconds = int(s);
    }
    c.progress = p.isSet(progress) || ::isatty(STDERR_FILENO);
    c.stats = p.isSet(stats);
    return out;
}

} // namespace sparsescope::cli
