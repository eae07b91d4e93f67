#include "httpsource.h"
#include "httpworker.h"

#include <QPromise>

namespace sparsescope {

HttpSource::HttpSource(QUrl url, const SourceOptions &options, std::shared_ptr<Statistics> statistics)
    : m_stats(std::move(statistics))
{
    m_thread.setObjectName(QStringLiteral("sparsescope-network"));
    m_worker = new HttpWorker(std::move(url), options, m_stats);
    m_worker->moveToThread(&m_thread);
    m_thread.start();
}

HttpSource::~HttpSource()
{
    HttpWorker *worker = m_worker;
    QMetaObject::invokeMethod(worker, [worker] { delete worker; }, Qt::BlockingQueuedConnection);
    m_thread.quit();
    m_thread.wait();
}

QFuture<Result<SourceInfo>> HttpSource::open()
{
    auto promise = std::make_shared<QPromise<Result<SourceInfo>>>();
    QFuture<Result<SourceInfo>> future = promise->future();
    promise->start();
    QMetaObject::invokeMethod(m_worker, [w = m_worker, promise] { w->probe(promise); }, Qt::QueuedConnection);
    return future;
}

quint64 HttpSource::read(ByteRange range, std::shared_ptr<ReadSink> sink, bool interactive)
{
    const quint64 id = m_nextId++;
    QMetaObject::invokeMethod(m_worker, [w = m_worker, id, range, sink = std::move(sink), interactive]() mutable {
        w->startRead(id, range, std::move(sink), interactive);
    }, Qt::QueuedConnection);
    return id;
}

void HttpSource::cancel(quint64 id)
{
    QMetaObject::invokeMethod(m_worker, [w = m_worker, id] { w->cancel(id); }, Qt::QueuedConnection);
}

} // namespace sparsescope
