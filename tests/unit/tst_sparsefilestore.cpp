#include "sparsefilestore.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <fcntl.h>
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
    void secondHolderWaitsThenNamesHolder()
    {
        QTemporaryDir dir;
        const QString entry = dir.filePath(QStringLiteral("e"));
        auto first = SparseFileStore::open(entry, meta(), 1000);
        QVERIFY(first.ok());
        // flock locks belong to open file descriptions, so a second open in this process conflicts too.
        QElapsedTimer t;
        t.start();
        auto second = SparseFileStore::open(entry, meta(), 300);
        QVERIFY(!second.ok());
        QVERIFY(t.elapsed() >= 290);
        QVERIFY2(second.error().message.contains(QStringLiteral("pid %1").arg(QCoreApplication::applicationPid())),
                 qPrintable(second.error().message));
        first.value().reset();
        QVERIFY(SparseFileStore::open(entry, meta(), 300).ok());
    }
};

QTEST_GUILESS_MAIN(TestSparseFileStore)
#include "tst_sparsefilestore.moc"
