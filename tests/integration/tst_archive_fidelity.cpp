// Archives as GNU tar and unzip extract them, against a real nginx: duplicate names (the last
// wins), truncated tars (listed, warned, exit 1), permission bits, ZIP extended-timestamp mtimes,
// directory entries naming subtrees, symbolic links, the persistent archive index (a new process
// after evicting every chunk pays only for the entry), one-pass extraction, and SIGTERM leaving no
// temporary file. ZIPs are written by hand here (stored entries), because libzip will not write
// two entries of one name.
#include "clirunner.h"
#include "nginxfixture.h"

#include <QDirIterator>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtEndian>
#include <QtTest>

#include <archive.h>
#include <archive_entry.h>
#include <csignal>
#include <sys/stat.h>
#include <zlib.h>

using namespace sparsescope::test;

namespace {
struct Member {
    QString name;
    QByteArray data;
    int mode = 0644;
    qint64 mtime = 1700000001;
    enum Kind { File, Directory, Symlink } kind = File;
    QString link = {};
};

void writeTar(const QString &path, const QList<Member> &members)
{
    archive *a = archive_write_new();
    archive_write_set_format(a, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
    QCOMPARE(archive_write_open_filename(a, QFile::encodeName(path).constData()), ARCHIVE_OK);
    for (const Member &m : members) {
        archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, m.name.toUtf8().constData());
        archive_entry_set_filetype(e, m.kind == Member::Directory ? AE_IFDIR : m.kind == Member::Symlink ? AE_IFLNK : AE_IFREG);
        if (m.kind == Member::Symlink)
            archive_entry_set_symlink(e, m.link.toUtf8().constData());
        archive_entry_set_size(e, m.kind == Member::File ? m.data.size() : 0);
        archive_entry_set_perm(e, mode_t(m.mode));
        archive_entry_set_mtime(e, m.mtime, 0);
        archive_write_header(a, e);
        if (m.kind == Member::File)
            archive_write_data(a, m.data.constData(), size_t(m.data.size()));
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
}

// A ZIP of stored entries, made by Unix (external attributes carry the mode), each with an
// extended-timestamp extra field (0x5455) holding its mtime, and a DOS time two seconds off.
QByteArray makeZip(const QList<Member> &members)
{
    QByteArray out, cd;
    auto u16 = [](QByteArray &b, quint16 v) { char x[2]; qToLittleEndian(v, x); b.append(x, 2); };
    auto u32 = [](QByteArray &b, quint32 v) { char x[4]; qToLittleEndian(v, x); b.append(x, 4); };
    for (const Member &m : members) {
        const QByteArray name = m.name.toUtf8();
        const quint32 crc = quint32(crc32(0, reinterpret_cast<const Bytef *>(m.data.constData()), uInt(m.data.size())));
        QByteArray extra;
        u16(extra, 0x5455);
        u16(extra, 5);
        extra.append(char(1));
        u32(extra, quint32(m.mtime));
        const quint32 offset = quint32(out.size());
        const quint16 dosTime = 0, dosDate = (10 << 9) | (1 << 5) | 1; // 1990-01-01 00:00
        u32(out, 0x04034b50); u16(out, 20); u16(out, 0); u16(out, 0); u16(out, dosTime); u16(out, dosDate);
        u32(out, crc); u32(out, quint32(m.data.size())); u32(out, quint32(m.data.size()));
        u16(out, quint16(name.size())); u16(out, quint16(extra.size()));
        out += name + extra + m.data;
        const quint32 type = m.kind == Member::Directory ? S_IFDIR : m.kind == Member::Symlink ? S_IFLNK : S_IFREG;
        u32(cd, 0x02014b50); u16(cd, (3 << 8) | 20); u16(cd, 20); u16(cd, 0); u16(cd, 0); u16(cd, dosTime); u16(cd, dosDate);
        u32(cd, crc); u32(cd, quint32(m.data.size())); u32(cd, quint32(m.data.size()));
        u16(cd, quint16(name.size())); u16(cd, quint16(extra.size())); u16(cd, 0); u16(cd, 0); u16(cd, 0);
        u32(cd, (type | quint32(m.mode)) << 16); u32(cd, offset);
        cd += name + extra;
    }
    const quint32 cdOffset = quint32(out.size());
    out += cd;
    u32(out, 0x06054b50); u16(out, 0); u16(out, 0); u16(out, quint16(members.size())); u16(out, quint16(members.size()));
    u32(out, quint32(cd.size())); u32(out, cdOffset); u16(out, 0);
    return out;
}

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray("<missing>");
}

QStringList temporaryFiles(const QString &dir)
{
    QStringList found;
    QDirIterator it(dir, QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString p = it.next();
        if (p.contains(QStringLiteral(".sparsescope-")))
            found << p;
    }
    return found;
}
} // namespace

class TestArchiveFidelity : public QObject {
    Q_OBJECT
    NginxFixture m_nginx;
    QTemporaryDir m_tmp;
    QString cache() const { return m_tmp.filePath(QStringLiteral("cache")); }
    CliRun cli(const QStringList &args) { return runCli(cache(), args); }
    QString out(const QString &name) const { return m_tmp.filePath(name); }

private Q_SLOTS:
    void initTestCase()
    {
        ::umask(022);
        QVERIFY2(m_nginx.start(), qPrintable(m_nginx.errorText()));
    }
    void init() { m_nginx.clearAccessLog(); }

    void tarDuplicatesGiveTheLastMember()
    {
        writeTar(m_nginx.root() + QStringLiteral("/dup.tar"),
                 {{QStringLiteral("a.txt"), "old"}, {QStringLiteral("b.txt"), "b"}, {QStringLiteral("a.txt"), "new", 0644, 1700000009}});
        const QString url = m_nginx.url(QStringLiteral("dup.tar"));
        const CliRun list = cli({QStringLiteral("list"), url});
        QCOMPARE(list.exitCode, 0);
        QCOMPARE(list.out.count("a.txt"), 2); // every member is listed
        const CliRun one = cli({QStringLiteral("extract"), url, QStringLiteral("a.txt"), QStringLiteral("-o"), QStringLiteral("-")});
        QCOMPARE(one.exitCode, 0);
        QCOMPARE(one.out, QByteArray("new"));
        QCOMPARE(cli({QStringLiteral("extract"), url, QStringLiteral("a.txt"), QStringLiteral("-o"), out(QStringLiteral("dup1"))}).exitCode, 0);
        QCOMPARE(readAll(out(QStringLiteral("dup1/a.txt"))), QByteArray("new"));
        QCOMPARE(QFileInfo(out(QStringLiteral("dup1/a.txt"))).lastModified().toSecsSinceEpoch(), 1700000009);
        QCOMPARE(cli({QStringLiteral("extract"), url, QStringLiteral("-o"), out(QStringLiteral("dup2"))}).exitCode, 0);
        QCOMPARE(readAll(out(QStringLiteral("dup2/a.txt"))), QByteArray("new"));
    }
    void zipDuplicatesGiveTheLastMember()
    {
        m_nginx.addFile(QStringLiteral("dup.zip"), makeZip({{QStringLiteral("a.txt"), "old"}, {QStringLiteral("a.txt"), "new"}}));
        const QString url = m_nginx.url(QStringLiteral("dup.zip"));
        const CliRun list = cli({QStringLiteral("list"), url});
        QCOMPARE(list.exitCode, 0);
        QCOMPARE(list.out.count("a.txt"), 2);
        const CliRun one = cli({QStringLiteral("extract"), url, QStringLiteral("a.txt"), QStringLiteral("-o"), QStringLiteral("-")});
        QCOMPARE(one.exitCode, 0);
        QCOMPARE(one.out, QByteArray("new"));
        QCOMPARE(cli({QStringLiteral("extract"), url, QStringLiteral("-o"), out(QStringLiteral("zdup"))}).exitCode, 0);
        QCOMPARE(readAll(out(QStringLiteral("zdup/a.txt"))), QByteArray("new"));
    }
    void truncatedTarIsListedWarnedAndFails()
    {
        const QByteArray big = patternBytes(300000, 7);
        writeTar(out(QStringLiteral("whole.tar")), {{QStringLiteral("first.txt"), "complete"}, {QStringLiteral("big.bin"), big},
                                                    {QStringLiteral("last.txt"), "never reached"}});
        m_nginx.addFile(QStringLiteral("cut.tar"), readAll(out(QStringLiteral("whole.tar"))).left(150000));
        const QString url = m_nginx.url(QStringLiteral("cut.tar"));
        const CliRun list = cli({QStringLiteral("list"), url, QStringLiteral("--json")});
        QCOMPARE(list.exitCode, 1);
        QVERIFY2(list.err.contains("unexpected end of archive") && list.err.contains("big.bin"), list.err.constData());
        const QJsonArray entries = QJsonDocument::fromJson(list.out).array();
        QCOMPARE(entries.size(), 2);
        QCOMPARE(entries.at(1).toObject().value(QStringLiteral("complete")).toBool(true), false);
        // The same answer from the archive index, in a new process.
        QCOMPARE(cli({QStringLiteral("list"), url}).exitCode, 1);
        const CliRun x = cli({QStringLiteral("extract"), url, QStringLiteral("-o"), out(QStringLiteral("cut"))});
        QCOMPARE(x.exitCode, 1);
        QVERIFY2(x.err.contains("\"big.bin\" is incomplete"), x.err.constData());
        QCOMPARE(readAll(out(QStringLiteral("cut/first.txt"))), QByteArray("complete"));
        QVERIFY(!QFileInfo::exists(out(QStringLiteral("cut/big.bin"))));
        QVERIFY(temporaryFiles(out(QStringLiteral("cut"))).isEmpty());
    }
    void modesTimesDirectoriesAndLinks_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("tar") << QStringLiteral("tree.tar");
        QTest::newRow("zip") << QStringLiteral("tree.zip");
    }
    void modesTimesDirectoriesAndLinks()
    {
        QFETCH(QString, name);
        const QList<Member> members = {
            {QStringLiteral("top/"), {}, 0755, 1700000100, Member::Directory},
            {QStringLiteral("top/run.sh"), "#!/bin/sh\n", 0755, 1700000201},
            {QStringLiteral("top/secret"), "s", 0600, 1700000203},
            {QStringLiteral("top/suid"), "x", 04755, 1700000205},
            {QStringLiteral("top/sub/deep.txt"), "deep", 0664, 1700000207},
            {QStringLiteral("top/inside"), {}, 0777, 1700000209, Member::Symlink, QStringLiteral("sub/deep.txt")},
            {QStringLiteral("top/outside"), {}, 0777, 1700000211, Member::Symlink, QStringLiteral("../../etc/passwd")},
            {QStringLiteral("other.txt"), "other", 0644, 1700000213}};
        if (name.endsWith(QStringLiteral(".zip"))) {
            QList<Member> zipped = members;
            for (Member &m : zipped)
                if (m.kind == Member::Symlink)
                    m.data = m.link.toUtf8(); // a ZIP symlink's target is its body
            m_nginx.addFile(name, makeZip(zipped));
        } else {
            writeTar(m_nginx.root() + u'/' + name, members);
        }
        const QString url = m_nginx.url(name);
        const QString dir = out(QStringLiteral("tree-") + name);
        const CliRun x = cli({QStringLiteral("extract"), url, QStringLiteral("-o"), dir});
        QCOMPARE(x.exitCode, 1); // the outside link is refused
        QVERIFY2(x.err.contains("top/outside") && x.err.contains("outside the target"), x.err.constData());
        auto mode = [&](const QString &p) {
            struct stat st {};
            ::lstat(QFile::encodeName(dir + u'/' + p).constData(), &st);
            return int(st.st_mode & 07777);
        };
        QCOMPARE(mode(QStringLiteral("top/run.sh")), 0755);
        QCOMPARE(mode(QStringLiteral("top/secret")), 0600);
        QCOMPARE(mode(QStringLiteral("top/suid")), 0755); // never setuid
        QCOMPARE(mode(QStringLiteral("top/sub/deep.txt")), 0644); // umask 022
        QCOMPARE(QFileInfo(dir + QStringLiteral("/top/run.sh")).lastModified().toSecsSinceEpoch(), 1700000201);
        QCOMPARE(QFileInfo(dir + QStringLiteral("/top/sub/deep.txt")).lastModified().toSecsSinceEpoch(), 1700000207);
        QCOMPARE(QFileInfo(dir + QStringLiteral("/top")).lastModified().toSecsSinceEpoch(), 1700000100);
        QCOMPARE(QFileInfo(dir + QStringLiteral("/top/inside")).symLinkTarget(), QFileInfo(dir + QStringLiteral("/top/sub/deep.txt")).absoluteFilePath());
        QCOMPARE(readAll(dir + QStringLiteral("/top/inside")), QByteArray("deep"));
        QVERIFY(!QFileInfo(dir + QStringLiteral("/top/outside")).isSymLink());
        // Naming a directory extracts its subtree, and nothing else.
        const QString sub = out(QStringLiteral("sub-") + name);
        QCOMPARE(cli({QStringLiteral("extract"), url, QStringLiteral("top/sub"), QStringLiteral("-o"), sub}).exitCode, 0);
        QCOMPARE(readAll(sub + QStringLiteral("/top/sub/deep.txt")), QByteArray("deep"));
        QVERIFY(!QFileInfo::exists(sub + QStringLiteral("/top/run.sh")));
        QVERIFY(!QFileInfo::exists(sub + QStringLiteral("/other.txt")));
        const CliRun all = cli({QStringLiteral("extract"), url, QStringLiteral("top/"), QStringLiteral("-o"), out(QStringLiteral("all-") + name)});
        QCOMPARE(all.exitCode, 1); // top/outside again
        QCOMPARE(readAll(out(QStringLiteral("all-") + name) + QStringLiteral("/top/secret")), QByteArray("s"));
    }
    void aTarOfDotExtractsCleanly()
    {
        // `tar -C dir -cf x.tar .` names its first entry "./" and the others "./name".
        const QString dir = out(QStringLiteral("dot-src"));
        QDir().mkpath(dir + QStringLiteral("/sub"));
        QFile f(dir + QStringLiteral("/sub/a.txt"));
        QVERIFY(f.open(QIODevice::WriteOnly) && f.write("dot") == 3);
        f.close();
        QCOMPARE(QProcess::execute(QStringLiteral("tar"), {QStringLiteral("-C"), dir, QStringLiteral("-cf"),
                                                           m_nginx.root() + QStringLiteral("/dot.tar"), QStringLiteral(".")}), 0);
        const CliRun x = cli({QStringLiteral("extract"), m_nginx.url(QStringLiteral("dot.tar")), QStringLiteral("-o"), out(QStringLiteral("dot"))});
        QVERIFY2(x.exitCode == 0, x.err.constData());
        QCOMPARE(readAll(out(QStringLiteral("dot/sub/a.txt"))), QByteArray("dot"));
        const CliRun one = cli({QStringLiteral("extract"), m_nginx.url(QStringLiteral("dot.tar")), QStringLiteral("sub/a.txt"),
                                QStringLiteral("-o"), QStringLiteral("-")});
        QCOMPARE(one.exitCode, 0);
        QCOMPARE(one.out, QByteArray("dot"));
    }
    void xzTarMatchesTarXJAndItsTruncationIsReported()
    {
        // A multi-block .xz (as `xz -T` writes it; so is linux-source's): decompressed on a thread
        // of its own by liblzma's multi-threaded decoder. Several megabytes, so that blocks queue.
        const QString src = out(QStringLiteral("xz-src"));
        QDir().mkpath(src + QStringLiteral("/sub"));
        for (int i = 0; i < 24; ++i) {
            QFile f(src + QStringLiteral("/sub/f%1.bin").arg(i));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(patternBytes(300000 + i * 1000, 50 + i));
        }
        const QString tar = out(QStringLiteral("tree.tar"));
        QCOMPARE(QProcess::execute(QStringLiteral("tar"), {QStringLiteral("-C"), src, QStringLiteral("-cf"), tar, QStringLiteral(".")}), 0);
        QCOMPARE(QProcess::execute(QStringLiteral("xz"), {QStringLiteral("-k"), QStringLiteral("-T2"), QStringLiteral("--block-size=1MiB"), tar}), 0);
        m_nginx.addFile(QStringLiteral("tree.tar.xz"), readAll(tar + QStringLiteral(".xz")));
        const QString url = m_nginx.url(QStringLiteral("tree.tar.xz"));
        const CliRun refused = cli({QStringLiteral("list"), url});
        QCOMPARE(refused.exitCode, 1);
        QVERIFY(refused.err.contains("--sequential"));
        const CliRun x = cli({QStringLiteral("extract"), url, QStringLiteral("--sequential"), QStringLiteral("-o"), out(QStringLiteral("xz-ours"))});
        QVERIFY2(x.exitCode == 0, x.err.constData());
        QDir().mkpath(out(QStringLiteral("xz-theirs")));
        QCOMPARE(QProcess::execute(QStringLiteral("tar"), {QStringLiteral("-C"), out(QStringLiteral("xz-theirs")), QStringLiteral("-xJf"), tar + QStringLiteral(".xz")}), 0);
        QCOMPARE(QProcess::execute(QStringLiteral("diff"), {QStringLiteral("-r"), out(QStringLiteral("xz-ours")), out(QStringLiteral("xz-theirs"))}), 0);
        // From the index it made: one named entry, in a new process.
        const CliRun one = cli({QStringLiteral("extract"), url, QStringLiteral("--sequential"), QStringLiteral("./sub/f7.bin"), QStringLiteral("-o"), QStringLiteral("-")});
        QCOMPARE(one.exitCode, 0);
        QVERIFY(one.out == patternBytes(307000, 57));

        // Cut in the middle: what was found, a warning, exit 1 (tar: "Unexpected EOF").
        const QByteArray whole = readAll(tar + QStringLiteral(".xz"));
        m_nginx.addFile(QStringLiteral("cut.tar.xz"), whole.left(whole.size() / 2));
        const CliRun cut = cli({QStringLiteral("list"), m_nginx.url(QStringLiteral("cut.tar.xz")), QStringLiteral("--sequential")});
        QCOMPARE(cut.exitCode, 1);
        QVERIFY2(cut.err.contains("truncated"), cut.err.constData());
        QVERIFY(cut.out.contains("sub/"));
    }
    void sparseMembersComeOutWithTheirHoles()
    {
        // GNU tar --sparse stores only the data blocks of a file with holes, at their offsets.
        const QString dir = out(QStringLiteral("sparse-src"));
        QDir().mkpath(dir);
        QFile f(dir + QStringLiteral("/holes.bin"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        const QByteArray a = patternBytes(70000, 1), b = patternBytes(5000, 2);
        QVERIFY(f.seek(1 << 20) && f.write(a) == a.size());
        QVERIFY(f.seek(5 << 20) && f.write(b) == b.size());
        QVERIFY(f.resize(8 << 20)); // and a hole at the end
        f.close();
        QCOMPARE(QProcess::execute(QStringLiteral("tar"), {QStringLiteral("--sparse"), QStringLiteral("-cf"),
                                                           m_nginx.root() + QStringLiteral("/sparse.tar"), QStringLiteral("-C"), dir,
                                                           QStringLiteral("holes.bin")}), 0);
        const CliRun x = cli({QStringLiteral("extract"), m_nginx.url(QStringLiteral("sparse.tar")), QStringLiteral("holes.bin"),
                              QStringLiteral("-o"), QStringLiteral("-")});
        QCOMPARE(x.exitCode, 0);
        QCOMPARE(x.out.size(), qint64(8 << 20));
        QVERIFY(x.out == readAll(dir + QStringLiteral("/holes.bin")));
    }
    void indexedEntryCostsOnlyItsBytesInANewProcess()
    {
        QList<Member> members;
        for (int i = 0; i < 300; ++i)
            members.append({QStringLiteral("d%1/f%2.bin").arg(i % 9).arg(i), patternBytes(40000 + i * 97, quint32(i))});
        writeTar(m_nginx.root() + QStringLiteral("/indexed.tar"), members);
        const QString url = m_nginx.url(QStringLiteral("indexed.tar"));
        const QStringList chunk64 = {QStringLiteral("--chunk-size"), QStringLiteral("64K")};
        QCOMPARE(cli(chunk64 + QStringList{QStringLiteral("list"), url}).exitCode, 0);
        QCOMPARE(cli({QStringLiteral("evict"), url}).exitCode, 0);
        m_nginx.clearAccessLog();
        QCOMPARE(cli({QStringLiteral("list"), url}).exitCode, 0);
        QCOMPARE(m_nginx.countRequests(QStringLiteral("GET")), 0); // the index answers
        const Member &pick = members[290];
        const CliRun one = cli({QStringLiteral("extract"), url, pick.name, QStringLiteral("-o"), QStringLiteral("-")});
        QCOMPARE(one.exitCode, 0);
        QVERIFY(one.out == pick.data);
        qInfo("a cold extract of a %lld-byte entry near the end, indexed: %lld upstream bytes", qint64(pick.data.size()), m_nginx.bodyBytes());
        QVERIFY(m_nginx.bodyBytes() <= pick.data.size() + 1024 + 2 * (64 << 10));
        // Extract-all reads the archive once.
        QCOMPARE(cli({QStringLiteral("evict"), url}).exitCode, 0);
        m_nginx.clearAccessLog();
        QCOMPARE(cli({QStringLiteral("extract"), url, QStringLiteral("-o"), out(QStringLiteral("indexed"))}).exitCode, 0);
        const qint64 size = QFileInfo(m_nginx.root() + QStringLiteral("/indexed.tar")).size();
        qInfo("extract-all of %lld bytes: %lld upstream bytes in %lld GETs", size, m_nginx.bodyBytes(), m_nginx.countRequests(QStringLiteral("GET")));
        QVERIFY(m_nginx.bodyBytes() <= size);
        for (int i : {0, 150, 299})
            QVERIFY(readAll(out(QStringLiteral("indexed/")) + members[i].name) == members[i].data);
        // The index goes with the object when the object changes upstream.
        writeTar(m_nginx.root() + QStringLiteral("/indexed.tar"), {{QStringLiteral("changed.txt"), "changed", 0644, 1800000000}});
        const CliRun relisted = cli({QStringLiteral("list"), url});
        QCOMPARE(relisted.exitCode, 0);
        QCOMPARE(relisted.out.trimmed().split('\n').size(), 1);
    }
    void termSignalLeavesNoTemporaryFile_data()
    {
        QTest::addColumn<QString>("command");
        QTest::newRow("read -o") << QStringLiteral("read");
        QTest::newRow("export") << QStringLiteral("export");
        QTest::newRow("extract") << QStringLiteral("extract");
    }
    void termSignalLeavesNoTemporaryFile()
    {
        QFETCH(QString, command);
        if (!QFileInfo::exists(m_nginx.root() + QStringLiteral("/slowtree.tar"))) {
            QList<Member> members;
            for (int i = 0; i < 24; ++i)
                members.append({QStringLiteral("f%1.bin").arg(i), patternBytes(2 << 20, quint32(1000 + i))});
            writeTar(m_nginx.root() + QStringLiteral("/slowtree.tar"), members);
        }
        QString url = m_nginx.url(QStringLiteral("slow/slowtree.tar")); // 4 MiB/s per connection
        if (command == u"export") {
            // An export holds its temporary file while it copies the cached object: cache a big one first.
            if (!QFileInfo::exists(m_nginx.root() + QStringLiteral("/big.bin")))
                m_nginx.addFile(QStringLiteral("big.bin"), patternBytes(192 << 20, 5));
            url = m_nginx.url(QStringLiteral("big.bin"));
            QCOMPARE(runCli(cache() + command, {QStringLiteral("prefetch"), url}).exitCode, 0);
        }
        const QString dir = out(QStringLiteral("signal-") + command);
        QDir().mkpath(dir);
        QStringList args = {QStringLiteral("--cache-dir"), cache() + command, command, url, QStringLiteral("-o")};
        if (command == u"read")
            args << dir + QStringLiteral("/a.bin") << QStringLiteral("-r") << QStringLiteral("0-");
        else if (command == u"export")
            args << dir + QStringLiteral("/a.bin");
        else
            args << dir;
        QProcess p;
        p.start(cliPath(), args);
        QVERIFY(p.waitForStarted());
        // Wait until it has written something, then stop it as `kill` would.
        QElapsedTimer waited;
        waited.start();
        while (temporaryFiles(dir).isEmpty() && p.state() == QProcess::Running && waited.elapsed() < 20000)
            QThread::usleep(500);
        QVERIFY2(p.state() == QProcess::Running && p.processId() > 0, "the command ended before it could be interrupted");
        if (command != u"export")
            QTest::qWait(300);
        ::kill(pid_t(p.processId()), SIGTERM);
        QVERIFY(p.waitForFinished(10000));
        QCOMPARE(p.exitStatus(), QProcess::CrashExit); // died of SIGTERM, as it should
        QVERIFY2(temporaryFiles(dir).isEmpty(), qPrintable(temporaryFiles(dir).join(u' ')));
        QVERIFY(!QFileInfo::exists(dir + QStringLiteral("/a.bin")));
        if (command == u"export")
            return;
        // Whatever an interrupted extraction left under a final name is whole.
        QDirIterator it(dir, QDir::Files);
        while (it.hasNext()) {
            const QString f = it.next();
            const int i = QFileInfo(f).baseName().mid(1).toInt();
            QVERIFY2(readAll(f) == patternBytes(2 << 20, quint32(1000 + i)), qPrintable(f));
        }
        // The cache is consistent.
        const CliRun v = runCli(cache() + command, {QStringLiteral("verify"), url});
        QCOMPARE(v.exitCode, 0);
    }
};

QTEST_GUILESS_MAIN(TestArchiveFidelity)
#include "tst_archive_fidelity.moc"
