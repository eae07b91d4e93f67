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

} // namespace sparsescope
