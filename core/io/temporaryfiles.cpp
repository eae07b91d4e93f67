#include "temporaryfiles.h"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <unistd.h>

namespace sparsescope::temporaryfiles {

namespace {
constexpr int kSlots = 1024;
std::atomic<char *> g_slots[kSlots];
std::atomic<int> g_changing{0};

void onSignal(int sig)
{
    removeAllFromSignalHandler();
    std::signal(sig, SIG_DFL);
    ::raise(sig);
}
} // namespace

void beginChange() { g_changing.fetch_add(1, std::memory_order_acq_rel); }
void endChange() { g_changing.fetch_sub(1, std::memory_order_acq_rel); }

int registerPath(const char *path)
{
    char *copy = ::strdup(path);
    if (!copy)
        return -1;
    for (int i = 0; i < kSlots; ++i) {
        char *expected = nullptr;
        if (g_slots[i].compare_exchange_strong(expected, copy, std::memory_order_acq_rel))
            return i;
    }
    std::free(copy);
    return -1;
}

void unregisterPath(int slot)
{
    if (slot < 0 || slot >= kSlots)
        return;
    // Whoever takes the pointer out of the slot owns it: here it is freed, in a signal handler it
    // is unlinked (and the process dies).
    std::free(g_slots[slot].exchange(nullptr, std::memory_order_acq_rel));
}

void removeAllFromSignalHandler()
{
    // Let a creation or rename under way on another thread finish registering (bounded).
    for (int i = 0; i < 200 && g_changing.load(std::memory_order_acquire) > 0; ++i) {
        const timespec ms{0, 1000000};
        ::nanosleep(&ms, nullptr);
    }
    for (auto &slot : g_slots)
        if (char *path = slot.exchange(nullptr, std::memory_order_acq_rel))
            ::unlink(path);
}

void removeOnTerminationSignals()
{
    struct sigaction sa {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP})
        ::sigaction(sig, &sa, nullptr);
}

} // namespace sparsescope::temporaryfiles
