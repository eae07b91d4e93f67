// No lock of SparseFileStore is held across I/O (issue: an export stalled the window). This test
// binary defines copy_file_range(2) itself, so that an export can be held inside its I/O for as
// long as the test likes; meanwhile chunk writes, coverage queries, reads and evictions of the same
// store must complete, and what the export wrote must still be right afterwards.
#include "sparsefilestore.h"

#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <future>
#include <mutex>
#include <condition_variable>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {
std::mutex g_gateMutex;
std::condition_variable g_gateChanged;
bool g_gateArmed = false;   // copy_file_range calls wait while this is true...
bool g_gateEntered = false; // ...after saying they arrived
} // namespace

// Takes the place of glibc's copy_file_range for this executable (the store is linked statically).
extern "C" ssize_t copy_file_range(int fdIn, off_t *offIn, int fdOut, off_t *offOut, size_t length, unsigned int flags)
{
    {
        std::unique_lock l(g_gateMutex);
        g_gateEntered = true;
        g_gateChanged.notify_all();
        g_gateChanged.wait(l, [] { return !g_gateArmed; });
    }
    return ::syscall(SYS_copy_file_range, fdIn, offIn, fdOut, offOut, length, flags);
}

using namespace sparsescope;

namespace {
constexpr qint64 kChunk = 64 << 10;
constexpr qint64 kChunks = 64;

QByteArray chunkBytes(qint64 index)
{
    QByteArray b(kChunk, Qt::Uninitialized);
    for (qint64 i = 0; i < kChunk; ++i)
        b[i] = char((index * 131 + i * 7) & 0xff);
    return b;
}

ObjectMeta meta(const QString &source)
{
    ObjectMeta m;
    m.source = source;
    m.size = kChunks * kChunk;
    m.validator = QStringLiteral("\"v1\"");
    m.chunkSize = kChunk;
    return m;
}

// A store in `entry` whose first `present` chunks are written and committed.
Result<std::unique_ptr<SparseFileStore>> storeWith(const QString &entry, const ObjectMeta &m, qint64 present)
{
    auto opened = SparseFileStore::open(entry, m, 1000);
    if (!opened)
        return opened;
    for (qint64 c = 0; c < present; ++c)
        if (Status st = (*opened)->writeChunk(c, chunkBytes(c)); !st)
            return st.error();
    if (Status st = (*opened)->commit(); !st)
        return st.error();
    return opened;
}

// Holds copy_file_range calls until release(); released on destruction whatever happened.
struct Gate {
    Gate()
    {
        std::lock_guard l(g_gateMutex);
        g_gateArmed = true;
        g_gateEntered = false;
    }
    ~Gate() { release(); }
    bool waitEntered(int ms)
    {
        std::unique_lock l(g_gateMutex);
        return g_gateChanged.wait_for(l, std::chrono::milliseconds(ms), [] { return g_gateEntered; });
    }
    void release()
    {
        std::lock_guard l(g_gateMutex);
        g_gateArmed = false;
        g_gateChanged.notify_all();
    }
};
} // namespace

class TestStoreLocks : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void anExportInsideItsIoBlocksNobody()
    {
        QTemporaryDir dir;
        const ObjectMeta m = meta(QStringLiteral("http://example.test/locks"));
        auto opened = storeWith(dir.filePath(QStringLiteral("e")), m, kChunks / 2);
        QVERIFY2(opened, qPrintable(opened ? QString() : opened.error().message));
        SparseFileStore &store = **opened;

        const QString target = dir.filePath(QStringLiteral("export"));
        const int fd = ::open(QFile::encodeName(target).constData(), O_RDWR | O_CREAT | O_TRUNC, 0644);
        QVERIFY(fd >= 0);
        QCOMPARE(::ftruncate(fd, m.size), 0);

        Gate gate;
        auto exported = std::async(std::launch::async, [&] { return store.copyPresentTo(fd, {0, m.size}, false); });
        QVERIFY2(gate.waitEntered(10000), "the export never reached copy_file_range");

        // The export is now inside its I/O. Everything below must finish without it.
        auto others = std::async(std::launch::async, [&] {
            QStringList failures;
            for (qint64 c = kChunks / 2; c < kChunks; ++c)
                if (Status st = store.writeChunk(c, chunkBytes(c)); !st)
                    failures << st.error().message;
            if (Status st = store.commit(); !st)
                failures << st.error().message;
            if (store.countPresent(0, kChunks - 1) != kChunks)
                failures << QStringLiteral("countPresent: %1").arg(store.countPresent(0, kChunks - 1));
            auto r = store.read({5 * kChunk, 6 * kChunk});
            if (!r || *r != chunkBytes(5))
                failures << QStringLiteral("read of chunk 5 failed or wrong");
            if (auto ev = store.evict(kChunks - 1, kChunks - 1); !ev || *ev != kChunk)
                failures << QStringLiteral("evict of the last chunk");
            return failures;
        });
        const bool finished = others.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
        gate.release();
        QVERIFY2(finished, "writes, queries, reads or evictions waited for an export's I/O");
        const QStringList failures = others.get();
        QVERIFY2(failures.isEmpty(), qPrintable(failures.join(u"; ")));

        QVERIFY(exported.get());
        for (qint64 c = 0; c < kChunks / 2; ++c) { // what was present when the export began
            QByteArray got(kChunk, Qt::Uninitialized);
            QCOMPARE(::pread(fd, got.data(), kChunk, c * kChunk), ssize_t(kChunk));
            QVERIFY2(got == chunkBytes(c), qPrintable(QStringLiteral("chunk %1 of the export").arg(c)));
        }
        ::close(fd);
    }

    void anEvictionDuringAnExportIsNotExportedAsZeros()
    {
        // The chunk the export is copying is evicted meanwhile (the punch happens while the copy
        // waits): the export either fails saying so or copies the block again; never zeros as data.
        QTemporaryDir dir;
        const ObjectMeta m = meta(QStringLiteral("http://example.test/evicted"));
        auto opened = storeWith(dir.filePath(QStringLiteral("e")), m, kChunks);
        QVERIFY2(opened, qPrintable(opened ? QString() : opened.error().message));
        SparseFileStore &store = **opened;
        const int fd = ::open(QFile::encodeName(dir.filePath(QStringLiteral("export"))).constData(), O_RDWR | O_CREAT | O_TRUNC, 0644);
        QVERIFY(fd >= 0);
        QCOMPARE(::ftruncate(fd, m.size), 0);

        Status result = okStatus();
        {
            Gate gate;
            auto exported = std::async(std::launch::async, [&] { return store.copyPresentTo(fd, {0, m.size}, true); });
            QVERIFY(gate.waitEntered(10000));
            auto evicting = std::async(std::launch::async, [&] { return store.evict(3, 3); });
            const bool finished = evicting.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
            gate.release();
            QVERIFY2(finished, "an eviction waited for an export's I/O");
            auto ev = evicting.get();
            QVERIFY(ev);
            QCOMPARE(*ev, kChunk);
            result = exported.get();
        }
        QVERIFY2(!result, "an export that needs every chunk must not succeed after one was evicted");
        QVERIFY2(result.error().message.contains(QStringLiteral("evicted")), qPrintable(result.error().message));
        ::close(fd);
    }
};

QTEST_GUILESS_MAIN(TestStoreLocks)
#include "tst_storelocks.moc"
