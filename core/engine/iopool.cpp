#include "iopool.h"

namespace sparsescope {

QThreadPool *ioPool()
{
    static QThreadPool *pool = [] {
        auto *p = new QThreadPool; // lives for the process; threads expire when idle
        p->setMaxThreadCount(std::max(4, QThread::idealThreadCount()));
        p->setObjectName(QStringLiteral("sparsescope-io"));
        return p;
    }();
    return pool;
}

QThreadPool *jobPool()
{
    static QThreadPool *pool = [] {
        auto *p = new QThreadPool; // lives as long as the process: jobs may outlive any owner
        p->setMaxThreadCount(4);
        p->setExpiryTimeout(30000);
        p->setObjectName(QStringLiteral("sparsescope-jobs"));
        return p;
    }();
    return pool;
}

} // namespace sparsescope
