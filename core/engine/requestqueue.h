#pragma once
// RequestQueue: the upstream requests of one object, queued and running, and the order they
// start in. Interactive requests go before prefetch requests and may use `lane` connections
// beyond the limit, so a user's read never waits for running prefetch work (nydus issue #468);
// promote() carves a user's chunks out of queued prefetch requests. Pure bookkeeping: it starts
// nothing itself. Not thread-safe (the engine's thread owns it).

#include <QList>
#include <QtGlobal>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>

namespace sparsescope {

class ChunkAssembler;

enum class Priority { Prefetch = 0, Interactive = 1 };

struct UpstreamRequest {
    qint64 firstChunk = 0; // inclusive chunk span
    qint64 lastChunk = 0;
    Priority priority = Priority::Prefetch;
    int attempt = 0;
    bool running = false;
    quint64 sourceId = 0;                       // the source's id while running
    std::shared_ptr<ChunkAssembler> assembler;  // while running
    qint64 arrivedThrough = -1;                 // last chunk stored so far (chunks arrive in order)
    bool pausing = false;                       // stopped by a pause: what did not arrive is queued again
    bool batchable = false;                     // may share a multi-range request (a small, whole missing run)
    quint64 batch = 0;                          // running as a member of this batch (one upstream request), 0: alone
    bool readAhead = false;                     // on a streaming reader's behalf (SparseDevice's read-ahead)
};

class RequestQueue {
public:
    // A new request, neither queued nor running yet; its id.
    quint64 add(qint64 first, qint64 last, Priority priority, int attempt);
    // Queues request `id` behind the others of its priority.
    void enqueue(quint64 id);
    UpstreamRequest *find(quint64 id);
    // Removes request `id` (queued, waiting or running) and returns it.
    std::optional<UpstreamRequest> take(quint64 id);
    // The next request to start with `limit` connections (interactive ones may use `lane` more),
    // marked running; nullopt when none may start now.
    std::optional<quint64> startNext(int limit, int lane);
    // Like startNext(), and with it up to maxMembers - 1 more queued `batchable` requests of the
    // same priority (the first must be batchable too), while their chunks add up to at most
    // maxTotalChunks: a batch, sent as one upstream request (a multi-range GET), that takes one
    // connection of the limit until its last member is taken. Ids in queue order; empty when
    // none may start now.
    QList<quint64> startBatch(int limit, int lane, int maxMembers, qint64 maxTotalChunks);
    // Chunks [x, y] held by queued prefetch requests move into interactive requests of their
    // own; the rest of each such request stays queued where it was.
    void promote(qint64 x, qint64 y);
    // Removes the queued requests for which `unwanted(first, last)`; returns their chunk spans.
    QList<std::pair<qint64, qint64>> dropQueued(const std::function<bool(qint64, qint64)> &unwanted);
    QList<UpstreamRequest *> running();
    // The chunk spans of the running requests that have not arrived yet (being transferred).
    QList<std::pair<qint64, qint64>> transferring() const;
    // Whether any request, queued or running, is a read-ahead.
    bool anyReadAhead() const;
    int runningCount() const { return m_running; }
    int runningInteractive() const { return m_runningInteractive; }

private:
    std::map<quint64, UpstreamRequest> m_requests;
    std::deque<quint64> m_queue[2]; // queued ids, by Priority
    int m_running = 0;
    int m_runningInteractive = 0;
    quint64 m_nextId = 1;
    std::map<quint64, int> m_batchMembers; // batch id (its first member's) -> members still running
};

} // namespace sparsescope
