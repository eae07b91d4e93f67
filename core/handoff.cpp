#include "handoff.h"

#include <QCoreApplication>
#include <QEvent>
#include <QRunnable>

#include <condition_variable>
#include <mutex>

#if defined(__SANITIZE_THREAD__)
#define SPARSESCOPE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SPARSESCOPE_TSAN 1
#endif
#endif

#ifdef SPARSESCOPE_TSAN
#include <sanitizer/tsan_interface.h>
// From the TSan runtime (tsan_interface.cpp); not declared in GCC 12's public header.
extern "C" void __tsan_ignore_thread_begin();
extern "C" void __tsan_ignore_thread_end();
#endif

namespace sparsescope {

namespace {

// The sender publishes everything it wrote before the hand-off...
void released(void *token)
{
#ifdef SPARSESCOPE_TSAN
    __tsan_release(token);
#else
    (void)token;
#endif
}

// ... and the receiver sees it before it touches the functor.
void acquired(void *token)
{
#ifdef SPARSESCOPE_TSAN
    __tsan_acquire(token);
#else
    (void)token;
#endif
}

// Memory Qt allocates and fills while queueing (the slot object holding our one pointer) is
// written after the release; TSan is told not to record those writes. Qt's own state is
// uninstrumented anyway.
struct UnrecordedScope {
#ifdef SPARSESCOPE_TSAN
    UnrecordedScope() { __tsan_ignore_thread_begin(); }
    ~UnrecordedScope() { __tsan_ignore_thread_end(); }
#endif
};

class HandOffRunnable final : public QRunnable {
public:
    explicit HandOffRunnable(std::function<void()> task) : m_task(std::move(task)) { setAutoDelete(true); }
    void run() override
    {
        acquired(this);
        m_task();
    }

private:
    std::function<void()> m_task;
};

const QEvent::Type kUrgentEvent = QEvent::Type(QEvent::registerEventType());

class UrgentEvent final : public QEvent {
public:
    explicit UrgentEvent(std::function<void()> f) : QEvent(kUrgentEvent), task(std::move(f)) {}
    ~UrgentEvent() override { acquired(this); } // run or dropped unrun, on the receiving side
    std::function<void()> task;
};

} // namespace

void UrgentQueue::post(std::function<void()> f)
{
    auto *event = new UrgentEvent(std::move(f));
    released(event);
    [[maybe_unused]] UnrecordedScope unrecorded;
    QCoreApplication::postEvent(this, event, Qt::HighEventPriority); // Qt deletes it, run or not
}

bool UrgentQueue::event(QEvent *e)
{
    if (e->type() != kUrgentEvent)
        return QObject::event(e);
    acquired(e);
    static_cast<UrgentEvent *>(e)->task();
    return true;
}

void startOnPool(QThreadPool *pool, std::function<void()> task, int priority)
{
    auto *runnable = new HandOffRunnable(std::move(task));
    released(runnable);
    pool->start(runnable, priority); // the pool deletes it on its thread after run()
}

void postTo(QObject *context, std::function<void()> f)
{
    auto *box = new std::function<void()>(std::move(f));
    released(box);
    // Qt runs the lambda or, if context dies first, destroys it unrun: either way the box goes.
    struct Owner {
        std::function<void()> *box;
        explicit Owner(std::function<void()> *b) : box(b) {}
        Owner(const Owner &) = delete;
        Owner(Owner &&o) noexcept : box(std::exchange(o.box, nullptr)) {}
        ~Owner()
        {
            if (box) {
                acquired(box);
                delete box;
            }
        }
    };
    [[maybe_unused]] UnrecordedScope unrecorded;
    QMetaObject::invokeMethod(context, [owner = Owner(box)] {
        acquired(owner.box);
        (*owner.box)();
    }, Qt::QueuedConnection);
}

void runBlockingOn(QObject *context, std::function<void()> f)
{
    // Not Qt::BlockingQueuedConnection: its wake-up goes through a QSemaphore inside Qt. The
    // caller waits on a std::condition_variable instead, signalled when the functor has been run
    // or dropped (Done is destroyed either way), which TSan follows.
    struct State {
        std::mutex mutex;
        std::condition_variable cv;
        bool done = false;
    };
    struct Done {
        std::shared_ptr<State> state;
        ~Done()
        {
            if (!state)
                return;
            std::lock_guard l(state->mutex);
            state->done = true;
            state->cv.notify_all();
        }
        Done(std::shared_ptr<State> s) : state(std::move(s)) {}
        Done(Done &&o) noexcept = default;
        Done(const Done &) = delete;
    };
    auto state = std::make_shared<State>();
    auto done = std::make_shared<Done>(state);
    postTo(context, [f = std::move(f), done]() mutable {
        f();
        f = nullptr; // what f captured goes before the caller resumes
        done.reset();
    });
    done.reset(); // the functor (run or dropped) now holds the last Done
    std::unique_lock l(state->mutex);
    state->cv.wait(l, [&] { return state->done; });
}

} // namespace sparsescope
