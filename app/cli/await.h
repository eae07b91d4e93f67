#pragma once
// Waiting for a QFuture in the CLI: runs the event loop (which drives the engine) until the
// future is finished. Only for the command-line tool, whose main thread has nothing else to do.

#include <QEventLoop>
#include <QFutureWatcher>

namespace sparsescope::cli {

template <typename T>
T await(QFuture<T> future)
{
    if (!future.isFinished()) {
        QEventLoop loop;
        QFutureWatcher<T> watcher;
        QObject::connect(&watcher, &QFutureWatcher<T>::finished, &loop, &QEventLoop::quit);
        watcher.setFuture(future);
        if (!future.isFinished())
            loop.exec();
    }
    if (future.isCanceled() || future.resultCount() == 0)
        return T();
    return future.result();
}

} // namespace sparsescope::cli
