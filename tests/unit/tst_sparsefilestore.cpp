#include "sparsefilestore.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace sparsescope;

namespace {
constexpr qint64 kChunk = 64 << 10;
constexpr qint64 kSize = 10 * kChunk + 1000; // last chunk short

QByteArray chunkBytes(qint64 index, qint64 length)
{
    QByteArray b(length, Qt::Uninitialized);
    for (qint64 i = 0; i < length; ++i)
        b[i] = char((index * 131 + i * 7) & 0xff);
    return b;
}

ObjectMeta meta(const QString &validator = QStringLiteral("\"v1\""))
{
    ObjectMeta m;
    m.source = QStringLiteral("http://example.test/object");
    m.size = kSize;
    m.validator = validator;
    m.chunkSize = kChunk;
    return m;
}

qint64 allocated(const QString &path)
{
    struct stat st {};
    ::stat(QFile::encodeName(path).constData(), &st);
    return qint64(st.st_blocks) * 512;
}

mode_t modeOf(const QString &path)
{
    struct stat st {};
    ::stat(QFile::encodeName(path).constData(), &st);
    return st.st_mode & 0777;
}
} // namespace

class TestSparseFileStore : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void writeCommitReopen()
    {
        QTemporaryDir dir;
        const QString entry = dir.filePath(QStringLiteral("e"));
        {
            auto s = SparseFileStore::open(entry, meta(), 1000);
            QVERIFY2(s.ok(), qPrintable(s.ok() ? QString() : s.error().message));
            auto &store = *s.value();
            QVERIFY(store.writeChunk(2, chunkBytes(2, kChunk)).ok());
            QVERIFY(store.writeChunk(10, chunkBytes(10, 1000)).ok());
            QVERIFY(!store.writeChunk(3, QByteArray(10, 'x')).ok()); // wrong length
            QVERIFY(store.commit().ok());
            QCOMPARE(store.presentBytes(), kChunk + 1000);
        }
        auto s = SparseFileStore::open(entry, meta(), 1000);
        QVERIFY(s.ok());
        auto &store = *s.value();
        QVERIFY(store.openWarnings().isEmpty());
        QVERIFY(store.isPresent(2) && store.isPresent(10) && !store.isPresent(3));
        auto bytes = store.read({2 * kChunk + 5, 2 * kChunk + 105});
        QVERIFY(bytes.ok());
        QCOMPARE(*bytes, chunkBytes(2, kChunk).mid(5, 100));
        QVERIFY(!store.read({0, 10}).ok()); // chunk 0 is missing
        // Cache files are private.
        QCOMPARE(modeOf(entry), mode_t(0700));
        QCOMPARE(modeOf(entry + QStringLiteral("/data")), mode_t(0600));
        QCOMPARE(modeOf(entry + QStringLiteral("/journal")), mode_t(0600));
        QCOMPARE(modeOf(entry + QStringLiteral("/meta.json")), mode_t(0600));
    }
    void uncommittedChunksAreNotDurable()
    {
        QTemporaryDir dir;
        const QString entry = dir.filePath(QStringLiteral("e"));
        // A child process writes a chunk without committing and dies hard.
        if (qEnvironmentVariableIsSet("SPARSESCOPE_TEST_CHILD")) {
            auto s = SparseFileStore::open(qEnvironmentVariable("SPARSESCOPE_TEST_CHILD"), meta(), 1000);
            (void)s.value()->writeChunk(1, chunkBytes(1, kChunk));
            ::_exit(0); // no destructor, no commit
        }
        QProcess child;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("SPARSESCOPE_TEST_CHILD"), entry);
        child.setProcessEnvironment(env);
        child.start(QCoreApplication::applicationFilePath(), {QStringLiteral("uncommittedChunksAreNotDurable")});
        QVERIFY(child.waitForFinished(10000));
        auto s = SparseFileStore::open(entry, meta(), 1000);
        QVERIFY(s.ok());
        QVERIFY(!s.value()->isPresent(1));
    }
    void evictFreesBlocks()
    {
        QTemporaryDir dir;
        const QString entry = dir.filePath(QStringLiteral("e"));
        auto s = SparseFileStore::open(entry, meta(), 1000);
        QVERIFY(s.ok());
        auto &store = *s.value();
        for (qint64 i = 0; i < 10; ++i)
            QVERIFY(store.writeChunk(i, chunkBytes(i, kChunk)).ok());
        QVERIFY(store.commit().ok());
        const qint64 before = allocated(entry + QStringLiteral("/data"));
        QVERIFY(before >= 10 * kChunk);
        auto dropped = store.evict(2, 5);
        QVERIFY(dropped.ok());
        QCOMPARE(*dropped, 4 * kChunk);
        const qint64 after = allocated(entry + QStringLiteral("/data"));
        QCOMPARE(before - after, 4 * kChunk); // the blocks are really gone
        QVERIFY(store.allocatedBytes() <= store.presentBytes() + 4096);
        s.value().reset();
        auto again = SparseFileStore::open(entry, meta(), 1000);
        QVERIFY(again.ok());
        QCOMPARE(again.value()->presentBytes(), 6 * kChunk);
        QVERIFY(!again.value()->isPresent(3));
    }
    void changedValidatorDropsEverything()
    {
        QTemporaryDir dir;
        const QString entry = dir.filePath(QStringLiteral("e"));
        {
            auto s = SparseFileStore::open(entry, meta(), 1000);
            QVERIFY(s.value()->writeChunk(0, chunkBytes(0, kChunk)).ok());
            QVERIFY(s.value()->commit().ok());
        }
        auto s = SparseFileStore::open(entry, meta(QStringLiteral("\"v2\"")), 1000);
        QVERIFY(s.ok());
        QCOMPARE(s.value()->presentBytes(), 0);
        QCOMPARE(s.value()->openWarnings().size(), 1);
        QVERIFY(s.value()->openWarnings().first().contains(QStringLiteral("changed upstream")));
        QVERIFY(allocated(entry + QStringLiteral("/data")) == 0);
    }
    void holesAndDamageAreCaught()
    {
        QTemporaryDir dir;
        const QString entry = dir.filePath(QStringLiteral("e"));
        {
            auto s = SparseFileStore::open(entry, meta(), 1000);
            for (qint64 i = 0; i < 4; ++i)
                QVERIFY(s.value()->writeChunk(i, chunkBytes(i, kChunk)).ok());
            QVERIFY(s.value()->commit().ok());
        }
        // Behind our back: punch chunk 1 (it would read as zeros) and flip a byte of chunk 3.
        const int fd = ::open(QFile::encodeName(entry + QStringLiteral("/data")).constData(), O_RDWR);
        QVERIFY(fd >= 0);
        QCOMPARE(::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, kChunk, kChunk), 0);
        char c = 0;
        QCOMPARE(::pread(fd, &c, 1, 3 * kChunk + 10), ssize_t(1));
        c = char(c ^ 1);
        QCOMPARE(::pwrite(fd, &c, 1, 3 * kChunk + 10), ssize_t(1));
        ::close(fd);
        auto s = SparseFileStore::open(entry, meta(), 1000);
        QVERIFY(s.ok());
        auto &store = *s.value();
        QVERIFY(!store.isPresent(1)); // the SEEK_HOLE veto on open
        QVERIFY(!store.openWarnings().isEmpty());
        auto report = store.verify();
        QVERIFY(report.ok());
        QCOMPARE(report->checkedChunks, 3);
        QCOMPARE(report->badChunks, QList<qint64>{3});
        QVERIFY(!store.isPresent(3) && store.isPresent(0) && store.isPresent(2));
    }
    // Two stores of one entry in one process have their own open file descriptions (flock and
    // OFD claims), so they behave towards each other as two processes do.
    void twoStoresShareOneEntry()
    {
        QTemporaryDir dir;
        const QString entry = dir.filePath(QStringLiteral("e"));
        auto first = SparseFileStore::open(entry, meta(), 1000);
        QVERIFY(first.ok());
        auto second = SparseFileStore::open(entry, meta(), 300);
        QVERIFY2(second.ok(), qPrintable(second.ok() ? QString() : second.error().message));
        auto &a = *first.value();
        auto &b = *second.value();
        QVERIFY(a.writeChunk(0, chunkBytes(0, kChunk)).ok());
        QVERIFY(a.commit().ok());
        auto changes = b.refresh();
        QVERIFY(changes.ok());
        QCOMPARE(changes->present, (QList<std::pair<qint64, qint64>>{{0, 0}}));
        QVERIFY(b.read({0, kChunk}).value() == chunkBytes(0, kChunk));
        QVERIFY(a.refresh()->isEmpty()); // its own records are not news to it
    }
    void claimsExcludeOtherStores()
    {
        QTemporaryDir dir;
        const QString entry = dir.filePath(QStringLiteral("e"));
        auto first = SparseFileStore::open(entry, meta(), 1000);
        auto second = SparseFileStore::open(entry, meta(), 1000);
        auto &a = *first.value();
        auto &b = *second.value();
        using Runs = QList<std::pair<qint64, qint64>>;
        QCOMPARE(a.claim(0, 3)->claimed, (Runs{{0, 3}}));
        QCOMPARE(b.claim(0, 5)->claimed, (Runs{{4, 5}})); // 0-3 are being fetched by the first
        // The first stores chunk 1: its claim goes with the commit, and the second learns it is present.
        QVERIFY(a.writeChunk(1, chunkBytes(1, kChunk)).ok());
        QVERIFY(a.commit().ok());
        auto c1 = b.claim(1, 1);
        QVERIFY(c1->claimed.isEmpty());
        QCOMPARE(c1->present, (Runs{{1, 1}}));
        // Given up (the fetch failed): the second may take them.
        a.releaseClaims(2, 3);
        QCOMPARE(b.claim(2, 3)->claimed, (Runs{{2, 3}}));
        QVERIFY(b.claim(0, 0)->claimed.isEmpty());
    }
    void aDeadFetchersClaimsAreReleased()
    {
        QTemporaryDir dir;
        const QString entry = dir.filePath(QStringLiteral("e"));
        auto mine = SparseFileStore::open(entry, meta(), 1000);
        QVERIFY(mine.ok());
        int ready[2];
        QCOMPARE(::pipe(ready), 0);
        const pid_t child = ::fork();
        if (child == 0) { // another process claims chunks 0-3, says so, and waits to be killed
            auto other = SparseFileStore::open(entry, meta(), 1000);
            const bool ok = other.ok() && other.value()->claim(0, 3).ok();
            (void)!::write(ready[1], ok ? "y" : "n", 1);
            ::pause();
            ::_exit(0);
        }
        char said = 0;
        QCOMPARE(::read(ready[0], &said, 1), ssize_t(1));
        QCOMPARE(said, 'y');
        QVERIFY(mine.value()->claim(0, 3)->claimed.isEmpty());
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, 0);
        QCOMPARE(mine.value()->claim(0, 3)->claimed, (QList<std::pair<qint64, qint64>>{{0, 3}}));
        ::close(ready[0]);
        ::close(ready[1]);
    }
    void anotherStoresEvictionIsNeverReadAsData()
    {
        QTemporaryDir dir;
        const QString entry = dir.filePath(QStringLiteral("e"));
        auto first = SparseFileStore::open(entry, meta(), 1000);
        auto second = SparseFileStore::open(entry, meta(), 1000);
        auto &a = *first.value();
        auto &b = *second.value();
        for (qint64 i = 0; i < 4; ++i)
            QVERIFY(a.writeChunk(i, chunkBytes(i, kChunk)).ok());
        QVERIFY(a.commit().ok());
        QVERIFY(b.refresh().ok());
        QVERIFY(b.isPresent(1));
        // The first evicts chunk 1 while the second still believes it present: the second's read
        // sees the Evict record after its pread and refuses the bytes (they may be a hole).
        QCOMPARE(a.evict(1, 1).value(), kChunk);
        QVERIFY(b.isPresent(1));
        auto r = b.read({kChunk, 2 * kChunk});
        QVERIFY(!r.ok());
        QCOMPARE(r.error().kind, ErrorKind::Integrity);
        QVERIFY(!b.isPresent(1));
        QVERIFY(b.read({0, kChunk}).value() == chunkBytes(0, kChunk)); // the others are fine
        QVERIFY(b.read({2 * kChunk, 3 * kChunk}).value() == chunkBytes(2, kChunk));
    }
    void aResetIsSeenByTheOthers()
    {
        QTemporaryDir dir;
        const QString entry = dir.filePath(QStringLiteral("e"));
        auto first = SparseFileStore::open(entry, meta(), 1000);
        QVERIFY(first.value()->writeChunk(0, chunkBytes(0, kChunk)).ok());
        QVERIFY(first.value()->commit().ok());
        // A new version is found by another process while the first has the entry open.
        auto second = SparseFileStore::open(entry, meta(QStringLiteral("\"v2\"")), 1000);
        QVERIFY(second.ok());
        QCOMPARE(second.value()->presentBytes(), 0);
        auto changes = first.value()->refresh();
        QVERIFY(changes.ok());
        QVERIFY(changes->reset);
        QCOMPARE(first.value()->presentBytes(), 0);
        QVERIFY(!first.value()->read({0, 100}).ok());
        // And a later open in the new version keeps what the second stores.
        QVERIFY(second.value()->writeChunk(2, chunkBytes(2, kChunk)).ok());
        QVERIFY(second.value()->commit().ok());
        first.value().reset();
        second.value().reset();
        auto third = SparseFileStore::open(entry, meta(QStringLiteral("\"v2\"")), 1000);
        QVERIFY(third.ok());
        QVERIFY(third.value()->isPresent(2) && !third.value()->isPresent(0));
    }
    void removeDoesNotWaitForUsersWhoSeeIt()
    {
        QTemporaryDir dir;
        const QString entry = dir.filePath(QStringLiteral("e"));
        auto open = SparseFileStore::open(entry, meta(), 1000);
        QVERIFY(open.ok());
        QVERIFY(open.value()->writeChunk(0, chunkBytes(0, kChunk)).ok());
        QVERIFY(open.value()->commit().ok());
        QElapsedTimer t;
        t.start();
        QVERIFY(SparseFileStore::removeEntry(entry, 300).ok());
        QVERIFY(t.elapsed() < 250);
        QVERIFY(!QFileInfo::exists(entry));
        auto changes = open.value()->refresh();
        QVERIFY(changes.ok());
        QVERIFY(changes->removed);
        // A new open starts afresh.
        open.value().reset();
        auto again = SparseFileStore::open(entry, meta(), 300);
        QVERIFY(again.ok());
        QCOMPARE(again.value()->presentBytes(), 0);
    }
};

QTEST_GUILESS_MAIN(TestSparseFileStore)
#include "tst_sparsefilestore.moc"
