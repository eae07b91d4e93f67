#pragma once
// ReadTaps: reads waiting for one chunk that is being fetched, served from the chunk's bytes as
// they are written instead of read back from the cache afterwards.
//
// A user's read of a missing chunk otherwise costs, after the chunk is written, a hop to the
// engine's thread, a hop to the I/O pool to read the range back (pread) and a hop back — each
// waiting for a core when a download keeps both busy. With a tap, the I/O thread that wrote the
// chunk copies the waiting ranges out of its buffer and hands them over with the news that the
// chunk is stored: one hop. The bytes are exactly those just written and hashed; a chunk whose
// write failed serves nobody (its waiters fail as before).
//
// Thread-safe: want()/drop() on the engine's thread, take() on an I/O thread after a write.

#include "byterange.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QHash>
#include <QList>
#include <QMutex>

#include <atomic>

namespace sparsescope {

class ReadTaps {
public:
    struct Tapped {
        quint64 waiter = 0;
        QByteArray bytes; // the waiter's range, copied out of the chunk
    };

    // Waiter `waiter` wants `range` (object offsets, within chunk `chunk`, which starts at `chunkBegin`).
    // Replaces an earlier want of the same waiter for that chunk.
    void want(qint64 chunk, qint64 chunkBegin, quint64 waiter, ByteRange range);
    // The waiter finished otherwise: its want goes.
    void drop(qint64 chunk, quint64 waiter);
    // The wants of `chunk`, removed, each with its bytes copied out of `chunkBytes` (the whole
    // chunk as written). Cheap when nobody waits (one atomic load).
    QList<Tapped> take(qint64 chunk, QByteArrayView chunkBytes);

private:
    struct Want {
        quint64 waiter;
        qint64 offset; // in the chunk
        qint64 length;
    };
    QMutex m_mutex;
    QHash<qint64, QList<Want>> m_wants; // by chunk
    std::atomic<qsizetype> m_count{0};   // chunks with wants
};

} // namespace sparsescope
