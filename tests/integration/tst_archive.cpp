// Archives through sparsescope-cli against a real nginx: entries, extracted bytes, traversal
// safety, and what listing and extracting cost upstream (nginx's access log). The archives are
// generated here: ZIPs with libzip (10,000+ entries; 70,000 entries, which needs ZIP64; hostile
// names), tars with libarchive (ustar, pax and GNU; and gzip-compressed).
#include "archivereader.h"
#include "clirunner.h"
#include "nginxfixture.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtEndian>
#include <QtTest>

#include <clocale>

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <zip.h>

using namespace sparsescope::test;

namespace {
struct ZipEntry {
    QString name;
    QByteArray data;
    bool deflate = true;
    bool symlink = false;
};

void writeZip(const QString &path, const QList<ZipEntry> &entries)
{
    int err = 0;
    zip_t *za = zip_open(QFile::encodeName(path).constData(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    QVERIFY(za);
    for (const ZipEntry &e : entries) {
        zip_source_t *src = zip_source_buffer(za, e.data.constData(), zip_uint64_t(e.data.size()), 0);
        const zip_int64_t idx = e.name.endsWith(u'/') ? zip_dir_add(za, e.name.chopped(1).toUtf8().constData(), ZIP_FL_ENC_UTF_8)
                                                      : zip_file_add(za, e.name.toUtf8().constData(), src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
        if (e.name.endsWith(u'/'))
            zip_source_free(src);
        QVERIFY(idx >= 0);
        zip_set_file_compression(za, zip_uint64_t(idx), e.deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 1);
        if (e.symlink)
            zip_file_set_external_attributes(za, zip_uint64_t(idx), 0, ZIP_OPSYS_UNIX, zip_uint32_t(S_IFLNK | 0777) << 16);
    }
    QCOMPARE(zip_close(za), 0); // the buffers above stay alive until here
}

void writeTar(const QString &path, int format, int filter, int count, qint64 size)
{
    archive *a = archive_write_new();
    archive_write_set_format(a, format);
    if (filter != ARCHIVE_FILTER_NONE)
        archive_write_add_filter(a, filter);
    QCOMPARE(archive_write_open_filename(a, QFile::encodeName(path).constData()), ARCHIVE_OK);
    for (int i = 0; i < count; ++i) {
        const QByteArray data = patternBytes(size, quint32(100 + i));
        archive_entry *e = archive_entry_new();
        // Long names need pax or GNU extension headers.
        const QByteArray name = QStringLiteral("dir-%1/%2entry-%3.bin").arg(i % 7).arg(QString(i % 3 == 0 ? 80 : 0, u'x')).arg(i).toUtf8();
        archive_entry_set_pathname(e, name.constData());
        archive_entry_set_size(e, size);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_mtime(e, 1700000000 + i, 0);
        archive_write_header(a, e);
        archive_write_data(a, data.constData(), size_t(data.size()));
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

// Central directory size of a ZIP, from its (ZIP64) end record.
qint64 centralDirectorySize(const QByteArray &zip)
{
    const qsizetype eocd = zip.lastIndexOf(QByteArray("PK\x05\x06", 4));
    quint64 size = qFromLittleEndian<quint32>(zip.constData() + eocd + 12);
    if (size == 0xffffffffu) {
        const quint64 record = qFromLittleEndian<quint64>(zip.constData() + eocd - 20 + 8);
        size = qFromLittleEndian<quint64>(zip.constData() + record + 40);
    }
    return qint64(size);
}

qint64 getBytes(const NginxFixture &n)
{
    qint64 b = 0;
    for (const AccessLogEntry &e : n.accessLog())
        b += e.method == u"GET" ? e.bodyBytes : 0;
    return b;
}
} // namespace

class TestArchive : public QObject {
    Q_OBJECT
    NginxFixture m_nginx;
    QTemporaryDir m_tmp;
    QList<ZipEntry> m_many;
    static constexpr qint64 kChunk = 256 * 1024;

    CliRun cli(const QStringList &args) { return runCli(m_tmp.filePath(QStringLiteral("cache")), args); }
    QByteArray file(const QString &name) const
    {
        QFile f(m_nginx.root() + u'/' + name);
        f.open(QIODevice::ReadOnly);
        return f.readAll();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_nginx.start(), qPrintable(m_nginx.errorText()));
        for (int i = 0; i < 10000; ++i)
            m_many.append({QStringLiteral("tree/%1/file-%2.txt").arg(i % 50).arg(i),
                           QStringLiteral("entry %1 ").arg(i).repeated(20 + i % 300).toUtf8() + patternBytes(i % 500, quint32(i)),
                           i % 2 == 0});
        writeZip(m_nginx.root() + QStringLiteral("/many.zip"), m_many);
    }
    void init() { m_nginx.clearAccessLog(); }

    void listsTenThousandEntriesForTheCostOfTheDirectory()
    {
        const QString url = m_nginx.url(QStringLiteral("many.zip"));
        const CliRun r = cli({QStringLiteral("list"), url, QStringLiteral("--json")});
        QCOMPARE(r.exitCode, 0);
        const QJsonArray entries = QJsonDocument::fromJson(r.out).array();
        QCOMPARE(entries.size(), 10000);
        const QJsonObject e7 = entries.at(8).toObject(); // an even entry: deflated
        QCOMPARE(e7.value(QStringLiteral("path")).toString(), m_many[8].name);
        QCOMPARE(qint64(e7.value(QStringLiteral("size")).toDouble()), m_many[8].data.size());
        QCOMPARE(e7.value(QStringLiteral("type")).toString(), QStringLiteral("file"));
        QVERIFY(e7.value(QStringLiteral("compressed_size")).toDouble() < e7.value(QStringLiteral("size")).toDouble()); // deflated
        QVERIFY(e7.contains(QStringLiteral("mtime")));
        QCOMPARE(e7.value(QStringLiteral("span")).toArray().size(), 2);
        const qint64 cost = getBytes(m_nginx), budget = centralDirectorySize(file(QStringLiteral("many.zip"))) + 2 * kChunk;
        qInfo("listing 10,000 entries: %lld upstream bytes; central directory + 2 chunks = %lld", cost, budget);
        QVERIFY2(cost <= budget, qPrintable(QString::number(cost)));
        // The second listing is free.
        m_nginx.clearAccessLog();
        QCOMPARE(cli({QStringLiteral("list"), url}).exitCode, 0);
        QCOMPARE(m_nginx.countRequests(QStringLiteral("GET")), 0);
    }
    void extractsOneEntryForItsCompressedSize()
    {
        const QString url = m_nginx.url(QStringLiteral("many.zip"));
        QCOMPARE(cli({QStringLiteral("list"), url}).exitCode, 0);
        m_nginx.clearAccessLog();
        const int pick = 8642; // deflated
        const CliRun r = cli({QStringLiteral("extract"), url, m_many[pick].name, QStringLiteral("-o"), QStringLiteral("-")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.out == m_many[pick].data);
        const QJsonArray entries = QJsonDocument::fromJson(cli({QStringLiteral("list"), url, QStringLiteral("--json")}).out).array();
        const qint64 compressed = qint64(entries.at(pick).toObject().value(QStringLiteral("compressed_size")).toDouble());
        qInfo("extracting one entry (%lld compressed bytes): %lld upstream bytes", compressed, getBytes(m_nginx));
        QVERIFY(getBytes(m_nginx) <= compressed + 2 * kChunk);
        // Into a directory, with relative paths and mtimes; every byte right.
        const QString out = m_tmp.filePath(QStringLiteral("out"));
        QCOMPARE(cli({QStringLiteral("extract"), url, m_many[1].name, m_many[2].name, QStringLiteral("-o"), out}).exitCode, 0);
        for (int i : {1, 2}) {
            QFile f(out + u'/' + m_many[i].name);
            QVERIFY(f.open(QIODevice::ReadOnly));
            QVERIFY(f.readAll() == m_many[i].data);
            QCOMPARE(QFileInfo(f).lastModified().toSecsSinceEpoch(),
                     qint64(entries.at(i).toObject().value(QStringLiteral("mtime")).toDouble()));
        }
        QCOMPARE(cli({QStringLiteral("extract"), url, QStringLiteral("no/such/entry"), QStringLiteral("-o"), out}).exitCode, 1);
    }
    void zip64WithSeventyThousandEntries()
    {
        QList<ZipEntry> entries;
        for (int i = 0; i < 70000; ++i)
            entries.append({QStringLiteral("z/%1").arg(i), QByteArray::number(i), false});
        writeZip(m_nginx.root() + QStringLiteral("/zip64.zip"), entries);
        QVERIFY(file(QStringLiteral("zip64.zip")).contains(QByteArray("PK\x06\x06", 4))); // a ZIP64 end record
        const QString url = m_nginx.url(QStringLiteral("zip64.zip"));
        const CliRun r = cli({QStringLiteral("list"), url});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(r.out.count('\n'), 70000);
        const CliRun one = cli({QStringLiteral("extract"), url, QStringLiteral("z/69999"), QStringLiteral("-o"), QStringLiteral("-")});
        QCOMPARE(one.exitCode, 0);
        QCOMPARE(one.out, QByteArray("69999"));
    }
    void refusesTraversal()
    {
        QList<ZipEntry> hostile = {{QStringLiteral("ok.txt"), "fine", true},
                                   {QStringLiteral("../escape.txt"), "evil", true},
                                   {QStringLiteral("/absolute.txt"), "evil", true},
                                   {QStringLiteral("a/../../up.txt"), "evil", true},
                                   {QStringLiteral("link"), "/", false, true},
                                   {QStringLiteral("planted/escape.txt"), "evil", true}};
        writeZip(m_nginx.root() + QStringLiteral("/hostile.zip"), hostile);
        const QString parent = m_tmp.filePath(QStringLiteral("jail"));
        const QString out = parent + QStringLiteral("/out");
        QDir().mkpath(out);
        // A symlink already in the target that points outside it.
        QDir().mkpath(parent + QStringLiteral("/outside"));
        QVERIFY(QFile::link(parent + QStringLiteral("/outside"), out + QStringLiteral("/planted")));
        const CliRun r = cli({QStringLiteral("extract"), m_nginx.url(QStringLiteral("hostile.zip")), QStringLiteral("-o"), out});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("../escape.txt") && r.err.contains("/absolute.txt") && r.err.contains("a/../../up.txt") &&
                     r.err.contains("planted/escape.txt") && r.err.contains("symbolic link"), r.err.constData());
        QFile ok(out + QStringLiteral("/ok.txt"));
        QVERIFY(ok.open(QIODevice::ReadOnly));
        QCOMPARE(ok.readAll(), QByteArray("fine"));
        // Nothing was written anywhere else.
        QVERIFY(!QFileInfo::exists(parent + QStringLiteral("/escape.txt")));
        QVERIFY(!QFileInfo::exists(m_tmp.filePath(QStringLiteral("up.txt"))));
        QVERIFY(!QFileInfo::exists(QStringLiteral("/absolute.txt")));
        QVERIFY(QDir(parent + QStringLiteral("/outside")).isEmpty());
        QVERIFY(!QFileInfo(out + QStringLiteral("/link")).exists());
    }
    void tarListsForAFractionOfTheArchive_data()
    {
        QTest::addColumn<int>("format");
        QTest::newRow("ustar") << int(ARCHIVE_FORMAT_TAR_USTAR);
        QTest::newRow("pax") << int(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
        QTest::newRow("gnu") << int(ARCHIVE_FORMAT_TAR_GNUTAR);
    }
    void tarListsForAFractionOfTheArchive()
    {
        QFETCH(int, format);
        const QString name = QStringLiteral("t%1.tar").arg(format);
        writeTar(m_nginx.root() + u'/' + name, format, ARCHIVE_FILTER_NONE, 200, 1 << 20);
        const qint64 size = QFileInfo(m_nginx.root() + u'/' + name).size();
        const QString url = m_nginx.url(name);
        const CliRun r = cli({QStringLiteral("--chunk-size"), QStringLiteral("64K"), QStringLiteral("list"), url, QStringLiteral("--json")});
        QCOMPARE(r.exitCode, 0);
        const QJsonArray entries = QJsonDocument::fromJson(r.out).array();
        if (format == ARCHIVE_FORMAT_TAR_USTAR) // ustar cannot store the long names: libarchive skips those
            QVERIFY(entries.size() >= 130);
        else
            QCOMPARE(entries.size(), 200);
        const double share = double(getBytes(m_nginx)) / double(size);
        qInfo("%s: listing %lld entries fetched %.2f%% of %lld bytes", QTest::currentDataTag(), qint64(entries.size()), 100 * share, size);
        QVERIFY(share <= 0.15);
        // Spans tile the archive: each entry's span ends where the next one's begins.
        for (int i = 0; i + 1 < entries.size(); ++i)
            QCOMPARE(entries.at(i).toObject().value(QStringLiteral("span")).toArray().at(1),
                     entries.at(i + 1).toObject().value(QStringLiteral("span")).toArray().at(0));
        // Extract one and compare with what was written.
        const QString pick = entries.at(entries.size() - 1).toObject().value(QStringLiteral("path")).toString();
        const int i = pick.section(u'-', -1).section(u'.', 0, 0).toInt();
        const CliRun one = cli({QStringLiteral("extract"), url, pick, QStringLiteral("-o"), QStringLiteral("-")});
        QCOMPARE(one.exitCode, 0);
        QVERIFY(one.out == patternBytes(1 << 20, quint32(100 + i)));
    }
    void tarListingIsPrintedAsTheWalkGoes()
    {
        // As `tar tf`: the first entries show while the rest of the archive is still being read
        // (here at 4 MiB/s, one 64 KiB chunk per header: well over a second in all).
        const QString name = QStringLiteral("printed-as-found.tar");
        writeTar(m_nginx.root() + u'/' + name, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_NONE, 100, 256 << 10);
        QProcess p;
        p.start(cliPath(), {QStringLiteral("--cache-dir"), m_tmp.filePath(QStringLiteral("cache")), QStringLiteral("--chunk-size"),
                            QStringLiteral("64K"), QStringLiteral("list"), m_nginx.url(QStringLiteral("slow/") + name)});
        QVERIFY(p.waitForStarted());
        QVERIFY(p.waitForReadyRead(10000));
        QByteArray out = p.readAllStandardOutput();
        QCOMPARE(p.state(), QProcess::Running); // lines came before the walk ended
        QVERIFY(out.count('\n') < 100);
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        out += p.readAllStandardOutput();
        QCOMPARE(out.count('\n'), 100);
        QVERIFY(out.startsWith("dir-0/" + QByteArray(80, 'x') + "entry-0.bin\t262144\t-\tfile\n"));
        // The same lines as a listing from the archive index (a second run, no walk).
        QCOMPARE(cli({QStringLiteral("list"), m_nginx.url(QStringLiteral("slow/") + name)}).out, out);
    }
    void aListingsCacheHitsAreTheBytesItRead()
    {
        // Listing a cached tar reads each header chunk once; the walk's read-ahead asks for the
        // same chunks, and those are not hits of their own (they were counted twice before).
        const QString name = QStringLiteral("hits.tar");
        writeTar(m_nginx.root() + u'/' + name, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_NONE, 400, 3000);
        const qint64 size = QFileInfo(m_nginx.root() + u'/' + name).size();
        const QString url = m_nginx.url(name);
        QCOMPARE(cli({QStringLiteral("prefetch"), url}).exitCode, 0);
        const CliRun r = cli({QStringLiteral("--stats"), QStringLiteral("list"), url});
        QCOMPARE(r.exitCode, 0);
        const qint64 hits = qint64(r.stats().value(QStringLiteral("cache_hit_bytes")).toDouble());
        QVERIFY2(hits >= size / 2 && hits <= size + sparsescope::ArchiveReader::kTailBytes, qPrintable(QStringLiteral("%1 of %2").arg(hits).arg(size)));
        QCOMPARE(qint64(r.stats().value(QStringLiteral("upstream_bytes")).toDouble()), 0);
    }
    void nonAsciiNamesListAsStored_data()
    {
        QTest::addColumn<int>("format");
        QTest::newRow("pax") << int(ARCHIVE_FORMAT_TAR_PAX_RESTRICTED); // path= records in UTF-8
        QTest::newRow("gnutar") << int(ARCHIVE_FORMAT_TAR_GNUTAR);      // the header's raw bytes
    }
    void nonAsciiNamesListAsStored()
    {
        // ASCII names are taken as stored, the others go through libarchive's UTF-8 form: both
        // list as written, in any locale the test runs in.
        QFETCH(int, format);
        const QStringList names{QStringLiteral("plain/ascii.txt"), QStringLiteral("donn\u00e9es/\u00e9t\u00e9.txt"),
                                QStringLiteral("\u65e5\u672c\u8a9e/\u30d5\u30a1\u30a4\u30eb.bin"), QStringLiteral("end.txt")};
        const QString file = QStringLiteral("names-%1.tar").arg(format);
        // Written in a UTF-8 locale (libarchive's writer cannot carry these names in "C"); the
        // CLI that lists them runs in the test's own locale.
        const QByteArray locale = std::setlocale(LC_CTYPE, nullptr);
        QVERIFY(std::setlocale(LC_CTYPE, "C.UTF-8"));
        auto restore = qScopeGuard([&locale] { std::setlocale(LC_CTYPE, locale.constData()); });
        archive *a = archive_write_new();
        archive_write_set_format(a, format);
        if (format == ARCHIVE_FORMAT_TAR_GNUTAR)
            archive_write_set_options(a, "hdrcharset=UTF-8");
        QCOMPARE(archive_write_open_filename(a, QFile::encodeName(m_nginx.root() + u'/' + file).constData()), ARCHIVE_OK);
        for (const QString &name : names) {
            archive_entry *e = archive_entry_new();
            archive_entry_set_pathname_utf8(e, name.toUtf8().constData());
            archive_entry_set_size(e, 3);
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0644);
            QVERIFY(archive_write_header(a, e) >= ARCHIVE_WARN);
            archive_write_data(a, "abc", 3);
            archive_entry_free(e);
        }
        archive_write_close(a);
        archive_write_free(a);
        std::setlocale(LC_CTYPE, locale.constData());
        restore.dismiss();
        const CliRun r = cli({QStringLiteral("list"), m_nginx.url(file), QStringLiteral("--json")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QStringList listed;
        for (const QJsonValue &v : QJsonDocument::fromJson(r.out).array())
            listed << v.toObject().value(QStringLiteral("path")).toString();
        QCOMPARE(listed, names);
    }
    void compressedTarIsSaidPlainly()
    {
        writeTar(m_nginx.root() + QStringLiteral("/small.tar.gz"), ARCHIVE_FORMAT_TAR_PAX_RESTRICTED, ARCHIVE_FILTER_GZIP, 5, 1000);
        const QString url = m_nginx.url(QStringLiteral("small.tar.gz"));
        const CliRun refused = cli({QStringLiteral("list"), url});
        QCOMPARE(refused.exitCode, 1);
        QVERIFY2(refused.err.contains("gzip-compressed") && refused.err.contains("--sequential"), refused.err.constData());
        const CliRun r = cli({QStringLiteral("list"), url, QStringLiteral("--sequential"), QStringLiteral("--json")});
        QCOMPARE(r.exitCode, 0);
        const QJsonArray entries = QJsonDocument::fromJson(r.out).array();
        QCOMPARE(entries.size(), 5);
        QVERIFY(entries.at(0).toObject().value(QStringLiteral("span")).isNull());
    }
};

QTEST_GUILESS_MAIN(TestArchive)
#include "tst_archive.moc"
