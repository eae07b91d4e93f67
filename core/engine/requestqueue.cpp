#include "requestqueue.h"

#include <algorithm>

namespace sparsescope {

quint64 RequestQueue::add(qint64 first, qint64 last, Priority priority, int attempt)
{
    const quint64 id = m_nextId++;
    UpstreamRequest r;
    r.firstChunk = first;
    r.lastChunk = last;
    r.priority = priority;
    r.attempt = attempt;
    m_requests.emplace(id, std::move(r));
    return id;
}

void RequestQueue::enqueue(quint64 id)
{
    if (auto *r = find(id))
        m_queue[int(r->priority)].push_back(id);
}

UpstreamRequest *RequestQueue::find(quint64 id)
{
    auto it = m_requests.find(id);
    return it == m_requests.end() ? nullptr : &it->second;
}

std::optional<UpstreamRequest> RequestQueue::take(quint64 id)
{
    auto it = m_requests.find(id);
    if (it == m_requests.end())
        return std::nullopt;
    UpstreamRequest r = std::move(it->second);
    m_requests.erase(it);
    if (r.running) {
        auto batch = r.batch ? m_batchMembers.find(r.batch) : m_batchMembers.end();
        if (batch == m_batchMembers.end() || --batch->second == 0) {
            --m_running; // the batch's connection is free when its last member goes
            if (batch != m_batchMembers.end())
                m_batchMembers.erase(batch);
        }
        if (r.priority == Priority::Interactive)
            --m_runningInteractive;
    } else {
        for (auto &queue : m_queue)
            std::erase(queue, id);
    }
    return r;
}

std::optional<quint64> RequestQueue::startNext(int limit, int lane)
{
    std::deque<quint64> *queue = nullptr;
    if (!m_queue[int(Priority::Interactive)].empty() && m_running < limit + lane)
        queue = &m_queue[int(Priority::Interactive)];
    else if (!m_queue[int(Priority::Prefetch)].empty() && m_running < limit)
        queue = &m_queue[int(Priority::Prefetch)];
    if (!queue)
        return std::nullopt;
    const quint64 id = queue->front();
    queue->pop_front();
    UpstreamRequest &r = m_requests.at(id);
    r.running = true;
    ++m_running;
    if (r.priority == Priority::Interactive)
        ++m_runningInteractive;
    return id;
}

QList<quint64> RequestQueue::startBatch(int limit, int lane, int maxMembers, qint64 maxTotalChunks)
{
    const std::optional<quint64> first = startNext(limit, lane);
    if (!first)
        return {};
    QList<quint64> ids{*first};
    UpstreamRequest &head = m_requests.at(*first);
    qint64 total = head.lastChunk - head.firstChunk + 1;
    if (maxMembers <= 1 || !head.batchable)
        return ids;
    auto &queue = m_queue[int(head.priority)];
    for (auto q = queue.begin(); q != queue.end() && ids.size() < maxMembers;) {
        UpstreamRequest &r = m_requests.at(*q);
        const qint64 chunks = r.lastChunk - r.firstChunk + 1;
        if (total + chunks > maxTotalChunks || !r.batchable) {
            ++q;
            continue;
        }
        total += chunks;
        r.running = true;
        r.batch = *first;
        if (r.priority == Priority::Interactive)
            ++m_runningInteractive;
        ids.append(*q);
        q = queue.erase(q);
    }
    if (ids.size() > 1) {
        head.batch = *first;
        m_batchMembers[*first] = int(ids.size());
    }
    return ids;
}

void RequestQueue::promote(qint64 x, qint64 y)
{
    auto &slow = m_queue[int(Priority::Prefetch)];
    std::deque<quint64> keep;
    for (quint64 id : slow) {
        auto r = m_requests.find(id);
        if (r == m_requests.end())
            continue;
        const qint64 first = r->second.firstChunk, last = r->second.lastChunk;
        if (first > y || last < x) {
            keep.push_back(id);
            continue;
        }
        const int attempt = r->second.attempt;
        m_requests.erase(r);
        if (first < x)
            keep.push_back(add(first, x - 1, Priority::Prefetch, attempt));
        m_queue[int(Priority::Interactive)].push_back(add(std::max(first, x), std::min(last, y), Priority::Interactive, attempt));
        if (last > y)
            keep.push_back(add(y + 1, last, Priority::Prefetch, attempt));
    }
    slow = std::move(keep);
}

QList<std::pair<qint64, qint64>> RequestQueue::dropQueued(const std::function<bool(qint64, qint64)> &unwanted)
{
    QList<std::pair<qint64, qint64>> dropped;
    for (auto &queue : m_queue) {
        for (auto q = queue.begin(); q != queue.end();) {
            auto r = m_requests.find(*q);
            if (r != m_requests.end() && unwanted(r->second.firstChunk, r->second.lastChunk)) {
                dropped.append({r->second.firstChunk, r->second.lastChunk});
                m_requests.erase(r);
                q = queue.erase(q);
            } else {
                ++q;
            }
        }
    }
    return dropped;
}

QList<UpstreamRequest *> RequestQueue::running()
{
    QList<UpstreamRequest *> out;
    for (auto &[id, r] : m_requests)
        if (r.running)
            out.append(&r);
    return out;
}

QList<std::pair<qint64, qint64>> RequestQueue::transferring() const
{
    QList<std::pair<qint64, qint64>> out;
    for (const auto &[id, r] : m_requests)
        if (r.running && std::max(r.firstChunk, r.arrivedThrough + 1) <= r.lastChunk)
            out.append({std::max(r.firstChunk, r.arrivedThrough + 1), r.lastChunk});
    return out;
}

bool RequestQueue::anyReadAhead() const
{
    return std::any_of(m_requests.begin(), m_requests.end(), [](const auto &entry) { return entry.second.readAhead; });
}

} // namespace sparsescope
