#include "chunkassembler.h"
#include "handoff.h"
#include "iopool.h"

#include <algorithm>
#include <cstring>

namespace sparsescope {

ChunkAssembler::ChunkAssembler(qint64 firstChunk, ChunkGeometry geometry, std::shared_ptr<ChunkStore> store,
                               std::shared_ptr<EngineLink> link, std::shared_ptr<WriteSlots> writeSlots,
                               ChunkStored chunkStored, Finished finished, bool interactive, std::shared_ptr<ReadTaps> taps)
    : m_chunk(firstChunk), m_geometry(geometry), m_store(std::move(store)), m_link(std::move(link)),
      m_writeSlots(std::move(writeSlots)), m_taps(std::move(taps)), m_chunkStored(std::move(chunkStored)), m_finishedCallback(std::move(finished)),
      m_interactive(interactive)
{
}

bool ChunkAssembler::onBytes(const char *data, qint64 length)
{
    while (length > 0 && !m_stop) {
        qint64 room = 0;
        char *to = space(&room);
        const qint64 take = std::min(length, room);
        std::memcpy(to, data, size_t(take));
        data += take;
        length -= take;
        written(take);
    }
    return !m_stop;
}

char *ChunkAssembler::space(qint64 *room)
{
    if (m_stop)
        return nullptr;
    const qint64 want = m_geometry.chunkRange(m_chunk).length();
    if (m_buffer.isNull())
        m_buffer = BufferPool::shared().acquire(want);
    *room = want - m_buffer.size();
    return m_buffer.data() + m_buffer.size();
}

bool ChunkAssembler::written(qint64 length)
{
    m_buffer.resize(m_buffer.size() + length);
    if (m_buffer.size() == m_geometry.chunkRange(m_chunk).length()) {
        submit(m_chunk, std::move(m_buffer));
        ++m_chunk;
    }
    return !m_stop;
}

bool ChunkAssembler::ready(std::function<void()> resume)
{
    return m_interactive || m_stop || m_writeSlots->hasRoom(std::move(resume));
}

void ChunkAssembler::submit(qint64 chunk, Buffer bytes)
{
    if (!m_interactive)
        m_writeSlots->take();
    ++m_pendingWrites;
    // The pool takes a copyable std::function: the buffer travels behind a shared_ptr.
    startOnPool(ioPool(), [self = shared_from_this(), chunk, bytes = std::make_shared<Buffer>(std::move(bytes))] {
        const Status st = self->m_store->writeChunk(chunk, bytes->view());
        QList<ReadTaps::Tapped> tapped;
        if (st && self->m_taps)
            tapped = self->m_taps->take(chunk, bytes->view());
        bytes->release();
        if (!st) {
            self->m_stop = true; // no point in receiving more: the disk refuses it
            std::lock_guard l(self->m_mutex);
            if (self->m_result)
                self->m_result = st;
        }
        auto stored = [cb = self->m_chunkStored, chunk, st, tapped = std::move(tapped)]() mutable { cb(chunk, st, std::move(tapped)); };
        if (self->m_interactive)
            self->m_link->postUrgent(std::move(stored)); // a user waits for it
        else
            self->m_link->post(std::move(stored));
        if (!self->m_interactive)
            self->m_writeSlots->give();
        if (--self->m_pendingWrites == 0)
            self->finishIfDone();
    }, m_interactive ? kInteractivePoolPriority : 0);
}

void ChunkAssembler::onFinished(const Status &result)
{
    {
        std::lock_guard l(m_mutex);
        if (m_result) // a write error outranks what the transfer says (it was stopped because of it)
            m_result = result;
    }
    m_buffer.release();
    m_transferDone = true;
    if (m_pendingWrites == 0)
        finishIfDone();
}

void ChunkAssembler::finishIfDone()
{
    if (!m_transferDone || m_pendingWrites != 0 || m_reported.exchange(true))
        return;
    Status result = okStatus();
    {
        std::lock_guard l(m_mutex);
        result = m_result;
    }
    m_link->post([cb = m_finishedCallback, result] { cb(result); });
}

} // namespace sparsescope
