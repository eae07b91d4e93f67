#include "handoff.h"

#include <QRunnable>

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

} // namespace

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
    std::function<void()> box = std::move(f);
    released(&box);
    {
        [[maybe_unused]] UnrecordedScope unrecorded; // Qt's queueing, and our wait inside it
        QMetaObject::invokeMethod(context, [&box] {
            acquired(&box);
            box();
            released(&box);
        }, Qt::BlockingQueuedConnection);
    }
    acquired(&box);
}

} // namespace sparsescope
