#pragma once
// Handing work to another thread in a way ThreadSanitizer can follow.
//
// Qt queues work for pool threads (QThreadPool::start) and for an object's thread (a queued
// QMetaObject::invokeMethod) under locks taken inside libQt6Core. Debian's Qt is not built with
// TSan, so TSan cannot see that a functor built by the sending thread happens before it runs on
// the receiving thread, and reports each such hand-off as a data race, hiding the real ones. The
// functions here behave exactly like the Qt calls they replace and, in a TSan build
// (cmake -DSPARSESCOPE_SANITIZE=thread), add that edge with __tsan_release / __tsan_acquire
// (<sanitizer/tsan_interface.h>). In other builds the annotations compile to nothing.
//
// All functions are thread-safe and may be called from any thread.

#include <QFuture>
#include <QObject>
#include <QPromise>
#include <QThreadPool>

#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace sparsescope {

// Runs task once on a thread of pool, ordered by priority as QThreadPool::start(QRunnable *, int)
// orders it (higher first). Ownership of task passes to the pool. Never fails: the pool queues
// the task when every thread is busy.
void startOnPool(QThreadPool *pool, std::function<void()> task, int priority = 0);

// Queues f to run on context's thread, as QMetaObject::invokeMethod(context, f,
// Qt::QueuedConnection) does; f is dropped unrun if context is destroyed first. context must be
// non-null.
void postTo(QObject *context, std::function<void()> f);

// Runs f on context's thread and returns once it has run, as QMetaObject::invokeMethod(context,
// f, Qt::BlockingQueuedConnection) does; what f wrote is visible to the caller afterwards. Must
// not be called from context's thread (it would wait for itself). If context is destroyed before
// f runs, f is dropped and the call returns.
void runBlockingOn(QObject *context, std::function<void()> f);

// Like QtConcurrent::run(pool, f) with a priority: returns a future, already started, that
// finishes with f's result once f has run on a thread of pool. f must be copy-constructible (it
// is held in a std::function) and return a value (or void); it must not throw (the project
// reports errors as Result<T>).
template <typename F>
auto runOnPool(QThreadPool *pool, F f, int priority = 0) -> QFuture<std::invoke_result_t<F &>>
{
    using R = std::invoke_result_t<F &>;
    auto promise = std::make_shared<QPromise<R>>();
    QFuture<R> future = promise->future();
    promise->start();
    startOnPool(pool, [promise, f = std::move(f)]() mutable {
        if constexpr (std::is_void_v<R>)
            f();
        else
            promise->addResult(f());
        promise->finish();
    }, priority);
    return future;
}

} // namespace sparsescope
