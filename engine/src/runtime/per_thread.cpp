// The MinGW half of taskscope/detail/per_thread.hpp: destruction at thread exit through a
// fiber-local-storage callback, which Windows runs as the thread ends, after the emulated
// thread_locals are gone. Elsewhere per_thread is a plain thread_local and this is empty.

#include "taskscope/detail/per_thread.hpp"

#if defined(TASKSCOPE_PER_THREAD_ON_HEAP)

#include <cstdio>
#include <cstdlib>
#include <windows.h>

namespace taskscope::detail {
namespace {

struct exit_entry {
    void (*destroy)(void*);
    void* object;
    exit_entry* next;
};

void WINAPI destroy_entries(void* head) {
    for (auto* e = static_cast<exit_entry*>(head); e != nullptr;) {
        exit_entry* next = e->next;
        e->destroy(e->object);
        delete e;
        e = next;
    }
}

DWORD exit_slot() {
    static const DWORD slot = [] {
        const DWORD s = ::FlsAlloc(&destroy_entries);
        if (s == FLS_OUT_OF_INDEXES) {
            std::fputs("taskscope: FlsAlloc failed: no fiber-local storage slot left\n", stderr);
            std::abort();
        }
        return s;
    }();
    return slot;
}

} // namespace

void destroy_at_thread_exit(void (*destroy)(void*), void* object) {
    const DWORD slot = exit_slot();
    auto* e = new exit_entry{destroy, object, static_cast<exit_entry*>(::FlsGetValue(slot))};
    ::FlsSetValue(slot, e);
}

} // namespace taskscope::detail

#endif
