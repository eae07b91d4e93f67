#include "httpsource.h"
#include "httpworker.h"
#include "handoff.h"
#include "networkstack.h"

#include <QPromise>

namespace sparsescope {

HttpSource::HttpSource(QUrl url, const SourceOptions &options, std::shared_ptr<Statistics> statistics)
    : m_stats(std::move(statistics)), m_stack(NetworkStack::shared())
{
    m_worker = new HttpWorker(std::move(url), options, m_stats, m_stack.get());
    m_worker->moveToThread(m_stack->thread());
}

HttpSource::HttpSource(QUrl url, const SourceOptions &options, std::shared_ptr<Statistics> statistics, aws::S3Settings s3)
    : m_stats(std::move(statistics)), m_stack(NetworkStack::shared()), m_s3(true)
{
    HttpWorker::S3Object object{std::move(s3), url.host(), url.path(QUrl::FullyDecoded).mid(1)};
    m_worker = new HttpWorker(std::move(url), options, m_stats, m_stack.get(), std::move(object));
    m_worker->moveToThread(m_stack->thread());
}

HttpSource::~HttpSource()
{
    HttpWorker *worker = m_worker;
    runBlockingOn(worker, [worker] { delete worker; });
}

QFuture<Result<SourceInfo>> HttpSource::open(const OpenProbe &probe)
{
    auto promise = std::make_shared<QPromise<Result<SourceInfo>>>();
    QFuture<Result<SourceInfo>> future = promise->future();
    promise->start();
    postTo(m_worker, [w = m_worker, promise, probe] { w->probe(promise, probe); });
    return future;
}

void HttpSource::assume(const SourceInfo &info)
{
    postTo(m_worker, [w = m_worker, info] { w->assume(info); });
}

quint64 HttpSource::read(ByteRange range, std::shared_ptr<ReadSink> sink, bool interactive)
{
    const quint64 id = m_nextId++;
    auto start = [w = m_worker, id, range, sink = std::move(sink), interactive] { w->startRead(id, range, sink, interactive); };
    if (interactive)
        m_worker->link()->postUrgent(std::move(start)); // not behind the events of running downloads
    else
        postTo(m_worker, std::move(start));
    return id;
}

void HttpSource::preconnect()
{
    postTo(m_worker, [w = m_worker] { w->preconnect(); });
}

bool HttpSource::batchesReads() const { return !m_s3 && !m_worker->rangesIgnored(); } // S3 answers one range per GET
bool HttpSource::rangesIgnored() const { return m_worker->rangesIgnored(); }

QList<quint64> HttpSource::readBatch(const QList<ByteRange> &ranges, const QList<std::shared_ptr<ReadSink>> &sinks, bool interactive)
{
    QList<quint64> ids;
    for (qsizetype i = 0; i < ranges.size(); ++i)
        ids.append(m_nextId++);
    auto start = [w = m_worker, ids, ranges, sinks, interactive] { w->startBatch(ids, ranges, sinks, interactive); };
    if (interactive)
        m_worker->link()->postUrgent(std::move(start));
    else
        postTo(m_worker, std::move(start));
    return ids;
}

void HttpSource::cancel(quint64 id)
{
    postTo(m_worker, [w = m_worker, id] { w->cancel(id); });
}

} // namespace sparsescope
