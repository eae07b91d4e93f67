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
#include <mutex>
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

// Runs functors on its thread ahead of what is queued there already: post() queues with
// Qt::HighEventPriority (QCoreApplication::postEvent), so a user's read is not queued behind a
// download's many events. Create it as a child of the object whose thread should run them.
class UrgentQueue final : public QObject {
public:
    using QObject::QObject;
    void post(std::function<void()> f); // any thread, while this object lives

protected:
    bool event(QEvent *e) override;
};

// A way back to an object's thread for work that may outlive the object (a pool task, a
// callback kept by another layer): post() queues f to the object's thread as postTo() does,
// postUrgent() ahead of what is queued there (UrgentQueue), until detach() (called by the
// object's destructor, on its thread); later posts are dropped. Construct it on the object's
// thread. Thread-safe; share it behind a std::shared_ptr.
class ObjectLink {
public:
    explicit ObjectLink(QObject *object) : m_object(object), m_urgent(new UrgentQueue(object)) {}
    void post(std::function<void()> f)
    {
        std::lock_guard l(m_mutex);
        if (m_object)
            postTo(m_object, std::move(f));
    }
    void postUrgent(std::function<void()> f)
    {
        std::lock_guard l(m_mutex);
        if (m_object)
            m_urgent->post(std::move(f));
    }
    void detach()
    {
        std::lock_guard l(m_mutex);
        m_object = nullptr;
    }

private:
    std::mutex m_mutex;
    QObject *m_object;
    UrgentQueue *m_urgent; // a child of m_object
};

} // namespace sparsescope
