#pragma once
// ChunkAssembler: the ReadSink of one upstream request. It cuts the streamed body into whole
// chunks, hands each to the I/O pool to be written and hashed (store->writeChunk), and reports
// every stored chunk and finally the request's outcome to the engine, the outcome only after
// all of the request's chunk writes have finished. A trailing partial chunk (failed transfer)
// is discarded, never written.
//
// Backpressure: about `writeSlots` chunks per object wait for the disk (writeslots.h); when they
// are taken, ready() says no and the source stops reading the body until a write finishes, which
// stalls the socket rather than growing memory — and never blocks the network thread, which
// keeps serving the other transfers (a user's read above all).
// Chunk bodies live in buffers of BufferPool::shared(), reused once written: no allocation per chunk.

#include "bufferpool.h"
#include "chunkgeometry.h"
#include "chunkstore.h"
#include "enginelink.h"
#include "readtaps.h"
#include "source.h"
#include "writeslots.h"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

namespace sparsescope {

class ChunkAssembler final : public ReadSink, public std::enable_shared_from_this<ChunkAssembler> {
public:
    // Runs on the engine thread; `tapped`: the ranges of reads waiting for the chunk, copied out of
    // it as it was written (readtaps.h; empty if the write failed).
    using ChunkStored = std::function<void(qint64 chunk, const Status &result, QList<ReadTaps::Tapped> tapped)>;
    using Finished = std::function<void(const Status &result)>;                 // runs on the engine thread

    // `interactive`: the chunks of a user's read — their writes go before queued prefetch writes
    // in the I/O pool and take no write slot (so a read is not stuck behind a download).
    ChunkAssembler(qint64 firstChunk, ChunkGeometry geometry, std::shared_ptr<ChunkStore> store,
                   std::shared_ptr<EngineLink> link, std::shared_ptr<WriteSlots> writeSlots,
                   ChunkStored chunkStored, Finished finished, bool interactive = false,
                   std::shared_ptr<ReadTaps> taps = nullptr);

    bool onBytes(const char *data, qint64 length) override;
    char *space(qint64 *room) override; // the rest of the chunk being filled (a pooled buffer)
    bool written(qint64 length) override;
    bool ready(std::function<void()> resume) override; // interactive transfers never wait
    void onFinished(const Status &result) override;
    void stop() { m_stop = true; } // any thread: the transfer ends at the next onBytes()

private:
    void submit(qint64 chunk, Buffer bytes);
    void finishIfDone();

    qint64 m_chunk;
    ChunkGeometry m_geometry;
    std::shared_ptr<ChunkStore> m_store;
    std::shared_ptr<EngineLink> m_link;
    std::shared_ptr<WriteSlots> m_writeSlots;
    std::shared_ptr<ReadTaps> m_taps;
    ChunkStored m_chunkStored;
    Finished m_finishedCallback;
    Buffer m_buffer; // bytes of m_chunk received so far
    bool m_interactive = false;

    std::atomic<bool> m_stop{false};
    std::atomic<int> m_pendingWrites{0};
    std::atomic<bool> m_transferDone{false};
    std::atomic<bool> m_reported{false};
    std::mutex m_mutex; // guards m_result
    Status m_result = okStatus();
};

} // namespace sparsescope
