#pragma once
// EngineLink: how worker threads (network, I/O pool) hand results back to a SparseObject that may
// be destroyed meanwhile. post() queues a functor to the object's thread; after detach() (done by
// the object's destructor) posts are dropped, and Qt drops functors still queued for a deleted
// context object. Thread-safe.

#include "handoff.h"

#include <QObject>

#include <functional>
#include <mutex>

namespace sparsescope {

class EngineLink {
public:
    explicit EngineLink(QObject *object) : m_object(object) {}
    void post(std::function<void()> f)
    {
        std::lock_guard l(m_mutex);
        if (m_object)
            postTo(m_object, std::move(f));
    }
    void detach()
    {
        std::lock_guard l(m_mutex);
        m_object = nullptr;
    }

private:
    std::mutex m_mutex;
    QObject *m_object;
};

} // namespace sparsescope
