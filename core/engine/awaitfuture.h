#pragma once
// Waiting for a QFuture by running a local event loop (which drives the engine) until the future
// is finished. For the command-line tool and tests, whose main thread has nothing else to do;
// never for the GUI thread. A cancelled future yields a default T (for Result<T>: an error).

#include <QEventLoop>
#include <QFutureWatcher>

namespace sparsescope {

template <typename T>
T awaitFuture(QFuture<T> future)
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
