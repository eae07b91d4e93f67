// sparsescope-cli mount against nginx, as a user would meet it: the files and their bytes, each
// chunk fetched once across the mount and other CLIs (nginx's log), a failed read as EIO and one
// line, and unmounting by signal, by fusermount3 and after SIGKILL. Skips where FUSE is missing.
#include "clirunner.h"
#include "nginxfixture.h"
#include "s3serverfixture.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <fcntl.h>
#include <unistd.h>

using namespace sparsescope::test;

namespace {
bool isMountPoint(const QString &path)
{
    QFile f(QStringLiteral("/proc/self/mountinfo"));
    if (!f.open(QIODevice::ReadOnly))
        return false;
    const QByteArray want = QFile::encodeName(QFileInfo(path).absoluteFilePath());
    for (const QByteArray &line : f.readAll().split('\n'))
        if (line.split(' ').value(4) == want)
            return true;
    return false;
}

// The bytes nginx's log says were asked for (GET ranges, "bytes=a-b,c-d"; a GET without a range
// counts the whole `size`).
qint64 requestedBytes(const QList<AccessLogEntry> &log, qint64 size)
{
    qint64 total = 0;
    for (const AccessLogEntry &e : log) {
        if (e.method != u"GET")
            continue;
        if (!e.range.startsWith(QStringLiteral("bytes="))) {
            total += size;
            continue;
        }
        for (const QString &part : e.range.mid(6).split(u',')) {
            const qint64 a = part.section(u'-', 0, 0).toLongLong();
            const QString b = part.section(u'-', 1, 1);
            total += (b.isEmpty() ? size - 1 : std::min(size - 1, b.toLongLong())) - a + 1;
        }
    }
    return total;
}

// CPU time (ns) the process `pid` has run so far, all its threads (/proc/PID/task/*/schedstat).
qint64 cpuNanoseconds(qint64 pid)
{
    qint64 total = 0;
    for (const QString &tid : QDir(QStringLiteral("/proc/%1/task").arg(pid)).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile f(QStringLiteral("/proc/%1/task/%2/schedstat").arg(pid).arg(tid));
        if (f.open(QIODevice::ReadOnly))
            total += f.readAll().split(' ').value(0).toLongLong();
    }
    return total;
}

QByteArray readThrough(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}
} // namespace

class TestMount : public QObject {
    Q_OBJECT
    NginxFixture m_nginx;
    QTemporaryDir m_dir;
    QByteArray m_bytes;
    QString m_path; // the local copy

    QString mountPoint() const { return m_dir.filePath(QStringLiteral("mnt")); }
    QString cacheDir() const { return m_dir.filePath(QStringLiteral("cache")); }

    // Starts `sparsescope-cli mount` in the background; waits until `expectFile` appears.
    bool startMount(QProcess &p, const QStringList &args, const QString &expectFile)
    {
        p.setProgram(cliPath());
        p.setArguments(QStringList{QStringLiteral("--cache-dir"), cacheDir(), QStringLiteral("mount"), mountPoint()} + args);
        p.start();
        if (!p.waitForStarted())
            return false;
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 15000) {
            if (QFileInfo::exists(mountPoint() + u'/' + expectFile))
                return true;
            if (p.state() == QProcess::NotRunning)
                return false;
            QTest::qWait(50);
        }
        return false;
    }
    void stopMount(QProcess &p)
    {
        if (p.state() != QProcess::NotRunning) {
            ::kill(pid_t(p.processId()), SIGTERM);
            p.waitForFinished(10000);
        }
        if (isMountPoint(mountPoint()))
            QProcess::execute(QStringLiteral("fusermount3"), {QStringLiteral("-u"), mountPoint()});
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (::access("/dev/fuse", R_OK | W_OK) != 0)
            QSKIP("no usable /dev/fuse here: mounting cannot be tested (the mount command exits 1 saying so)");
        QVERIFY2(m_nginx.start(), qPrintable(m_nginx.errorText()));
        m_bytes = patternBytes(24 << 20, 18);
        m_nginx.addFile(QStringLiteral("data.bin"), m_bytes);
        m_path = m_dir.filePath(QStringLiteral("local/data.bin"));
        QDir().mkpath(QFileInfo(m_path).path());
        QFile f(m_path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(m_bytes);
        f.close();
        QDir().mkpath(mountPoint());
        // Is mounting permitted here at all (a container may have /dev/fuse and still refuse)?
        QProcess probe;
        if (!startMount(probe, {m_path}, QStringLiteral("data.bin"))) {
            probe.waitForFinished(5000);
            const QByteArray why = probe.readAllStandardError();
            stopMount(probe);
            if (probe.exitCode() == 1 && why.contains("cannot mount"))
                QSKIP(qPrintable(QStringLiteral("mounting is not permitted here: %1").arg(QString::fromUtf8(why).trimmed())));
            QFAIL(why.constData());
        }
        stopMount(probe);
    }

    void filesHaveTheSourcesBytesAndEachChunkIsFetchedOnce()
    {
        QDir(cacheDir()).removeRecursively();
        m_nginx.clearAccessLog();
        QProcess p;
        auto unmount = qScopeGuard([&] { stopMount(p); });
        const QString url = m_nginx.url(QStringLiteral("data.bin"));
        QVERIFY(startMount(p, {url, m_path}, QStringLiteral("data (2).bin"))); // the same name twice: a suffix
        QCOMPARE(QDir(mountPoint()).entryList(QDir::Files, QDir::Name), (QStringList{QStringLiteral("data (2).bin"), QStringLiteral("data.bin")}));
        const QFileInfo info(mountPoint() + QStringLiteral("/data.bin"));
        QCOMPARE(info.size(), m_bytes.size());
        // Its mtime is the server's Last-Modified (nginx: the file's), the local file's its mtime.
        QCOMPARE(info.lastModified().toSecsSinceEpoch(), QFileInfo(m_nginx.root() + QStringLiteral("/data.bin")).lastModified().toSecsSinceEpoch());
        QCOMPARE(QFileInfo(mountPoint() + QStringLiteral("/data (2).bin")).lastModified().toSecsSinceEpoch(),
                 QFileInfo(m_path).lastModified().toSecsSinceEpoch());
        QVERIFY(!info.isWritable() || ::getuid() == 0);
        QCOMPARE(::open(QFile::encodeName(info.filePath()).constData(), O_WRONLY), -1); // read-only
        // Random reads first (each a little range), then the whole file: right bytes everywhere.
        QFile f(info.filePath());
        QVERIFY(f.open(QIODevice::ReadOnly | QIODevice::Unbuffered));
        QRandomGenerator rng(3);
        for (int i = 0; i < 20; ++i) {
            const qint64 at = rng.bounded(int(m_bytes.size() - 5000));
            QVERIFY(f.seek(at));
            QCOMPARE(f.read(4096), m_bytes.mid(at, 4096));
        }
        f.close();
        QVERIFY(readThrough(info.filePath()) == m_bytes);
        QVERIFY(readThrough(mountPoint() + QStringLiteral("/data (2).bin")) == m_bytes); // the local file
        // Each chunk came from nginx once: the ranges asked for add up to the object at most.
        const qint64 fetched = requestedBytes(m_nginx.accessLog(), m_bytes.size());
        QVERIFY2(fetched <= m_bytes.size(), qPrintable(QStringLiteral("%1 bytes asked for, of %2").arg(fetched).arg(m_bytes.size())));
        // Another process on the same cache fetches nothing of it (the shared cache).
        const qint64 requests = m_nginx.countRequests(QStringLiteral("GET"));
        const CliRun read = runCli(cacheDir(), {QStringLiteral("read"), url, QStringLiteral("-r"), QStringLiteral("0-1048575"), QStringLiteral("-o"),
                                                m_dir.filePath(QStringLiteral("part"))});
        QCOMPARE(read.exitCode, 0);
        QCOMPARE(m_nginx.countRequests(QStringLiteral("GET")), requests);
        stopMount(p);
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 0);
        QVERIFY(!isMountPoint(mountPoint()));
        QVERIFY(checkPresentBytes(cacheDir(), url, m_bytes) == m_bytes.size());
    }

    void aFailedReadIsEioAndOneLine()
    {
        QDir(cacheDir()).removeRecursively();
        m_nginx.addFile(QStringLiteral("gone.bin"), patternBytes(8 << 20, 5));
        QProcess p;
        auto unmount = qScopeGuard([&] { stopMount(p); });
        QVERIFY(startMount(p, {m_nginx.url(QStringLiteral("gone.bin")), QStringLiteral("--name"), QStringLiteral("g.bin")}, QStringLiteral("g.bin")));
        QFile::remove(m_nginx.root() + QStringLiteral("/gone.bin")); // the server loses it: 404 from now on
        QFile f(mountPoint() + QStringLiteral("/g.bin"));
        QVERIFY(f.open(QIODevice::ReadOnly | QIODevice::Unbuffered));
        QVERIFY(f.seek(5 << 20));
        errno = 0;
        char buf[4096];
        const ssize_t n = ::read(f.handle(), buf, sizeof buf);
        QCOMPARE(n, ssize_t(-1));
        QCOMPARE(errno, EIO);
        f.close();
        stopMount(p);
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QCOMPARE(err.count(QStringLiteral("failed (EIO)")), 1);
        QVERIFY2(err.contains(QStringLiteral("gone.bin")) && err.contains(QStringLiteral("5242880-")), qPrintable(err));
    }

    void signalsUnmountAndAKilledMountIsReleased()
    {
        QProcess p;
        QVERIFY(startMount(p, {m_path}, QStringLiteral("data.bin")));
        ::kill(pid_t(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(10000));
        QCOMPARE(p.exitCode(), 0);
        QVERIFY(!isMountPoint(mountPoint()));

        QProcess killed;
        QVERIFY(startMount(killed, {m_nginx.url(QStringLiteral("data.bin"))}, QStringLiteral("data.bin")));
        QVERIFY(readThrough(mountPoint() + QStringLiteral("/data.bin")).left(1 << 20) == m_bytes.left(1 << 20));
        ::kill(pid_t(killed.processId()), SIGKILL);
        QVERIFY(killed.waitForFinished(10000));
        // Released: by auto_unmount's watcher, or else by fusermount3 -u (which then succeeds).
        QTRY_VERIFY_WITH_TIMEOUT(!isMountPoint(mountPoint()) ||
                                     QProcess::execute(QStringLiteral("fusermount3"), {QStringLiteral("-u"), mountPoint()}) == 0, 5000);
        QVERIFY(!isMountPoint(mountPoint()));
        QProcess again;
        QVERIFY(startMount(again, {m_nginx.url(QStringLiteral("data.bin"))}, QStringLiteral("data.bin")));
        QVERIFY(readThrough(mountPoint() + QStringLiteral("/data.bin")) == m_bytes);
        stopMount(again);
        QVERIFY(checkPresentBytes(cacheDir(), m_nginx.url(QStringLiteral("data.bin")), m_bytes) > 0);
    }

    void archivesAreDirectoriesAtTheCostOfAList()
    {
        // A 10,001-entry ZIP (stored and deflated members) and a tar and .tar.gz with a symlink
        // inside and one leading out, made by Python, whose zipfile also says what a member holds.
        const QString www = m_nginx.root();
        const QString script = QStringLiteral(R"(
import zipfile, tarfile, os, sys
www, src = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(www + '/many.zip', 'w') as z:
    for i in range(10001):
        z.writestr('d%02d/f%05d.txt' % (i % 37, i), (b'line %d\n' % i) * (1 + i % 50),
                   compress_type=zipfile.ZIP_DEFLATED if i % 2 else zipfile.ZIP_STORED)
os.makedirs(src + '/a/b', exist_ok=True)
open(src + '/a/b/big.bin', 'wb').write(bytes(range(256)) * 12000)
os.utime(src + '/a/b/big.bin', (1500000000, 1500000000))
os.symlink('b/big.bin', src + '/a/inside')
os.symlink('/etc/passwd', src + '/a/outside')
for name, mode in (('t.tar', 'w'), ('t.tar.gz', 'w:gz')):
    with tarfile.open(www + '/' + name, mode, format=tarfile.PAX_FORMAT) as t:
        t.add(src + '/a', arcname='a')
sys.stdout.buffer.write(zipfile.ZipFile(www + '/many.zip').read('d05/f09995.txt'))
)");
        QProcess py;
        py.start(QStringLiteral("python3"), {QStringLiteral("-c"), script, www, m_dir.filePath(QStringLiteral("tree"))});
        QVERIFY(py.waitForFinished(60000));
        QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
        const QByteArray member = py.readAllStandardOutput();
        QVERIFY(!member.isEmpty());

        // What `list` costs on a cache of its own.
        m_nginx.clearAccessLog();
        const QString zipUrl = m_nginx.url(QStringLiteral("many.zip"));
        QCOMPARE(runCli(m_dir.filePath(QStringLiteral("listcache")), {QStringLiteral("list"), zipUrl}).exitCode, 0);
        const qint64 listBytes = m_nginx.bodyBytes();
        m_nginx.clearAccessLog();

        QDir(cacheDir()).removeRecursively();
        QProcess p;
        auto unmount = qScopeGuard([&] { stopMount(p); });
        QVERIFY(startMount(p, {QStringLiteral("--archives"), zipUrl, m_nginx.url(QStringLiteral("t.tar")), m_nginx.url(QStringLiteral("t.tar.gz"))},
                           QStringLiteral("t.tar.gz.d")));
        int files = 0;
        for (QDirIterator it(mountPoint() + QStringLiteral("/many.zip.d"), QDir::Files, QDirIterator::Subdirectories); it.hasNext(); it.next())
            ++files;
        QCOMPARE(files, 10001);
        qint64 zipBytes = 0;
        for (const AccessLogEntry &e : m_nginx.accessLog())
            zipBytes += e.uri == u"/many.zip" ? e.bodyBytes : 0;
        QVERIFY2(zipBytes <= listBytes, qPrintable(QStringLiteral("mount and find: %1 bytes of the ZIP; list: %2").arg(zipBytes).arg(listBytes)));
        QCOMPARE(readThrough(mountPoint() + QStringLiteral("/many.zip.d/d05/f09995.txt")), member);
        QCOMPARE(readThrough(mountPoint() + QStringLiteral("/many.zip.d/d04/f09994.txt")), QByteArray("line 9994\n").repeated(1 + 9994 % 50));
        // Tar and .tar.gz: files with their bytes, size and mtime; a symlink inside kept, one outside left out.
        QFile source(m_dir.filePath(QStringLiteral("tree/a/b/big.bin")));
        QVERIFY(source.open(QIODevice::ReadOnly));
        const QByteArray expected = source.readAll();
        for (const QString &archive : {QStringLiteral("t.tar.d"), QStringLiteral("t.tar.gz.d")}) {
            const QString a = mountPoint() + u'/' + archive + QStringLiteral("/a");
            QCOMPARE(readThrough(a + QStringLiteral("/b/big.bin")), expected);
            QCOMPARE(QFileInfo(a + QStringLiteral("/b/big.bin")).lastModified().toSecsSinceEpoch(), qint64(1500000000));
            QCOMPARE(QFileInfo(a + QStringLiteral("/inside")).symLinkTarget(), a + QStringLiteral("/b/big.bin"));
            QCOMPARE(readThrough(a + QStringLiteral("/inside")), expected);
            QVERIFY(!QFileInfo::exists(a + QStringLiteral("/outside")) && !QFileInfo(a + QStringLiteral("/outside")).isSymLink());
            // A seek into the middle of the member reads the right bytes.
            QFile f(a + QStringLiteral("/b/big.bin"));
            QVERIFY(f.open(QIODevice::ReadOnly | QIODevice::Unbuffered));
            QVERIFY(f.seek(1234567));
            QCOMPARE(f.read(1000), expected.mid(1234567, 1000));
        }
    }

    void anS3PrefixIsADirectoryTree()
    {
        S3ServerFixture s3;
        QVERIFY2(s3.start(), qPrintable(s3.errorText()));
        const QByteArray a = patternBytes(3 << 20, 41), b = patternBytes(1000, 42);
        s3.put(QStringLiteral("bkt"), QStringLiteral("logs/2026/app one.log"), a);
        s3.put(QStringLiteral("bkt"), QStringLiteral("logs/2026/12/b.bin"), b);
        s3.put(QStringLiteral("bkt"), QStringLiteral("other/c.bin"), b);
        QProcess p;
        auto unmount = qScopeGuard([&] { stopMount(p); });
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        for (const QString &kv : s3.environment())
            env.insert(kv.section(u'=', 0, 0), kv.section(u'=', 1));
        p.setProcessEnvironment(env);
        QVERIFY(startMount(p, {QStringLiteral("s3://bkt/logs/")}, QStringLiteral("logs")));
        QTRY_VERIFY(QFileInfo::exists(mountPoint() + QStringLiteral("/logs/2026/12/b.bin")));
        QCOMPARE(QDir(mountPoint() + QStringLiteral("/logs/2026")).entryList(QDir::AllEntries | QDir::NoDotAndDotDot, QDir::Name),
                 (QStringList{QStringLiteral("12"), QStringLiteral("app one.log")}));
        QVERIFY(!QFileInfo::exists(mountPoint() + QStringLiteral("/logs/c.bin")) && !QFileInfo::exists(mountPoint() + QStringLiteral("/other")));
        QCOMPARE(QFileInfo(mountPoint() + QStringLiteral("/logs/2026/app one.log")).size(), a.size());
        // Listed, not opened: nothing but the listing reached the server yet.
        for (const S3LogEntry &e : s3.log())
            QVERIFY2(e.method == u"GET" && e.query.contains(QStringLiteral("list-type=2")), qPrintable(e.method + u' ' + e.path));
        QCOMPARE(readThrough(mountPoint() + QStringLiteral("/logs/2026/app one.log")), a);
        QCOMPARE(readThrough(mountPoint() + QStringLiteral("/logs/2026/12/b.bin")), b);
    }

    void aChangeUpstreamIsSeenWhenTheFileIsOpened()
    {
        // As the CLI's commands: each open(2) validates the object (a HEAD), unless --max-age says
        // the last validation is recent enough; a changed object's cached bytes are dropped.
        const QByteArray v1 = patternBytes(1 << 20, 61), v2 = patternBytes(3 << 19, 62);
        const QString name = QStringLiteral("change.bin");
        for (const bool trusted : {false, true}) {
            m_nginx.addFile(name, v1);
            QDir(cacheDir()).removeRecursively();
            QProcess p;
            auto unmount = qScopeGuard([&] { stopMount(p); });
            QStringList args{m_nginx.url(name)};
            if (trusted)
                args << QStringLiteral("--max-age") << QStringLiteral("3600");
            QVERIFY(startMount(p, args, name));
            const QString file = mountPoint() + u'/' + name;
            QCOMPARE(readThrough(file), v1);
            const QDateTime mountedMtime = QFileInfo(file).lastModified();
            // Replaced upstream: another size, another ETag, an mtime an hour later.
            QFile replaced(m_nginx.addFile(name, v2));
            const QDateTime later = mountedMtime.addSecs(3600);
            QVERIFY(replaced.open(QIODevice::ReadWrite) && replaced.setFileTime(later, QFileDevice::FileModificationTime));
            replaced.close();
            m_nginx.clearAccessLog();
            if (!trusted) {
                QCOMPARE(readThrough(file), v2);
                QTRY_COMPARE_WITH_TIMEOUT(QFileInfo(file).size(), v2.size(), 3000);
                QCOMPARE(QFileInfo(file).lastModified(), later); // make and rsync see the new version

                QCOMPARE(m_nginx.countRequests(QStringLiteral("HEAD")), 1);
            } else {
                QCOMPARE(readThrough(file), v1); // trusted for an hour: served from the cache, nothing asked
                QCOMPARE(m_nginx.accessLog().size(), 0);
                QCOMPARE(QFileInfo(file).lastModified(), mountedMtime);
            }
            stopMount(p);
            const QByteArray err = p.readAllStandardError();
            QCOMPARE(err.contains("changed upstream"), !trusted);
        }
    }

    void warmReadsAreServedByTheKernelsPageCache()
    {
        // Once a program has read a file, its pages stay in the kernel's page cache and later
        // reads never reach the daemon: no GETATTR before each read either (the kernel's
        // auto_inval_data did that while file attributes are asked on every stat, and 20,000
        // warm 4 KiB reads then cost the daemon ~0.3 s of CPU; fio went from ~690 k to ~40 k IOPS).
        QDir(cacheDir()).removeRecursively();
        QProcess p;
        auto unmount = qScopeGuard([&] { stopMount(p); });
        QVERIFY(startMount(p, {m_path}, QStringLiteral("data.bin")));
        const QString file = mountPoint() + QStringLiteral("/data.bin");
        QCOMPARE(readThrough(file), m_bytes); // now in the page cache
        const int fd = ::open(QFile::encodeName(file).constData(), O_RDONLY);
        QVERIFY(fd >= 0);
        auto closeFd = qScopeGuard([fd] { ::close(fd); });
        QRandomGenerator rng(5);
        QByteArray page(4096, Qt::Uninitialized);
        const qint64 before = cpuNanoseconds(p.processId());
        for (int i = 0; i < 20000; ++i) {
            const qint64 at = qint64(rng.bounded(quint32(m_bytes.size() / 4096))) * 4096;
            QCOMPARE(::pread(fd, page.data(), 4096, off_t(at)), ssize_t(4096));
            if (i % 1000 == 0)
                QCOMPARE(page, m_bytes.mid(at, 4096));
        }
        const double daemonMs = (cpuNanoseconds(p.processId()) - before) / 1e6;
        QVERIFY2(daemonMs < 50, qPrintable(QStringLiteral("the mount spent %1 ms of CPU on 20,000 warm reads").arg(daemonMs)));
    }

    void usageErrors()
    {
        QCOMPARE(runCli(cacheDir(), {QStringLiteral("mount"), mountPoint()}).exitCode, 2);
        QCOMPARE(runCli(cacheDir(), {QStringLiteral("mount"), mountPoint(), m_path, m_path, QStringLiteral("--name"), QStringLiteral("x")}).exitCode, 2);
        const CliRun notDir = runCli(cacheDir(), {QStringLiteral("mount"), m_path, m_path});
        QCOMPARE(notDir.exitCode, 2);
        QVERIFY(notDir.err.contains("not a directory"));
        const CliRun missing = runCli(cacheDir(), {QStringLiteral("mount"), mountPoint(), m_dir.filePath(QStringLiteral("nope.bin"))});
        QCOMPARE(missing.exitCode, 1);
        QVERIFY(!isMountPoint(mountPoint()));
    }
};

QTEST_GUILESS_MAIN(TestMount)
#include "tst_mount.moc"
