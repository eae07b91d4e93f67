#include "writeslots.h"

namespace sparsescope {

bool WriteSlots::hasRoom(std::function<void()> resume)
{
    std::lock_guard l(m_mutex);
    if (m_used < m_limit)
        return true;
    m_waiting.push_back(std::move(resume));
    return false;
}

void WriteSlots::take()
{
    std::lock_guard l(m_mutex);
    ++m_used;
}

void WriteSlots::give()
{
    std::vector<std::function<void()>> wake;
    {
        std::lock_guard l(m_mutex);
        --m_used;
        if (m_used < m_limit)
            wake.swap(m_waiting);
    }
    for (auto &resume : wake) // outside the lock: a callback may ask hasRoom() again
        resume();
}

} // namespace sparsescope
