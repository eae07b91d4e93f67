// Warm random 4 KiB reads from one cache entry, fio-style: THREADS threads each read random
// 4 KiB-aligned ranges of the entry's present chunks for SECONDS through SparseFileStore::read
// (what the engine calls for a cache hit), after one warming pass over every chunk. Prints
// "iops N" — run it on a loose entry and on the same entry packed (tests/bench/pack.sh).
//   bench_packreads ENTRY_DIR [SECONDS=3] [THREADS=2]
#include "sparsefilestore.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QTextStream>

#include <atomic>
#include <thread>
#include <vector>

using namespace sparsescope;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 2) {
        QTextStream(stderr) << "usage: bench_packreads ENTRY_DIR [SECONDS] [THREADS]\n";
        return 2;
    }
    const double seconds = args.size() > 2 ? args[2].toDouble() : 3.0;
    const int threads = args.size() > 3 ? args[3].toInt() : 2;
    auto in = SparseFileStore::inspect(args[1]);
    if (!in) {
        QTextStream(stderr) << in.error().message << "\n";
        return 1;
    }
    auto store = SparseFileStore::open(args[1], in->meta, 10000);
    if (!store) {
        QTextStream(stderr) << store.error().message << "\n";
        return 1;
    }
    SparseFileStore &s = **store;
    const ChunkGeometry g = s.geometry();
    QList<qint64> chunks;
    const ChunkBitmap present = s.presentChunks();
    for (qint64 c = present.nextSet(0); c < present.size(); c = present.nextSet(c + 1))
        chunks.append(c);
    if (chunks.isEmpty()) {
        QTextStream(stderr) << "nothing present\n";
        return 1;
    }
    for (qint64 c : std::as_const(chunks)) // warm: the page cache holds the files
        (void)s.read(g.chunkRange(c));
    std::atomic<qint64> reads{0}, failures{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
        workers.emplace_back([&, t] {
            QRandomGenerator rng(quint32(1234 + t));
            qint64 n = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                const ByteRange chunk = g.chunkRange(chunks[rng.bounded(qint64(chunks.size()))]);
                const qint64 blocks = std::max<qint64>(1, chunk.length() / 4096);
                const qint64 at = chunk.begin + rng.bounded(blocks) * 4096;
                if (auto r = s.read({at, std::min(chunk.end, at + 4096)}); !r && failures++ == 0)
                    qWarning("%s", qPrintable(r.error().message));
                ++n;
            }
            reads += n;
        });
    QElapsedTimer clock;
    clock.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(qint64(seconds * 1000)));
    stop = true;
    for (auto &w : workers)
        w.join();
    const double elapsed = double(clock.nsecsElapsed()) / 1e9;
    QTextStream(stdout) << "iops " << qint64(double(reads.load()) / elapsed) << " failures " << failures.load() << "\n";
    return failures.load() == 0 ? 0 : 1;
}
