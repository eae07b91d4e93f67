#pragma once
// WriteSlots: how many chunks of one object may wait for the disk (written and hashed on the I/O
// pool) — the backpressure between network and disk, without blocking any thread. A transfer
// asks hasRoom() before it reads more of its body; when there is none it stops reading (the
// source's bounded buffer and TCP then hold the stream back) and is resumed once a queued write
// finishes. A reader delivers what it has already read, so the limit can be exceeded by what one
// read holds (the source's read buffer: 1 MiB for HTTP).
//
// Thread-safe: take() on the thread that delivers bytes, give() on the I/O pool, resume callbacks
// run on the thread of the give() that makes room (they must only queue work elsewhere).

#include <functional>
#include <mutex>
#include <vector>

namespace sparsescope {

class WriteSlots {
public:
    explicit WriteSlots(int limit) : m_limit(limit) {}

    // True if fewer than `limit` chunks wait for the disk. Else false, and `resume` is called once
    // when one of them is written.
    bool hasRoom(std::function<void()> resume);
    void take(); // a chunk was queued for the disk
    void give(); // a queued chunk was written (or failed): wakes the waiting transfers

private:
    std::mutex m_mutex;
    int m_limit;
    int m_used = 0;
    std::vector<std::function<void()>> m_waiting;
};

} // namespace sparsescope
