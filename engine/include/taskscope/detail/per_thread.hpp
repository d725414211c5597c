#pragma once
// One T per thread, made on first use and destroyed when its thread ends: what a
// `thread_local T` with a destructor is for, on every compiler the engine supports.
//
// Why not a plain `thread_local T`: MinGW's emulated TLS frees a thread_local's storage
// before that thread_local's destructor runs (mingw-w64 bug 527, GCC bug 80816), so the
// destructor works on freed (and soon reused) memory. There the T lives on the heap, and a
// fiber-local-storage callback destroys it once the thread's thread_locals are gone; its
// destructor must not use thread_locals (nor another per_thread).

namespace taskscope::detail {

#if defined(__MINGW32__)
#define TASKSCOPE_PER_THREAD_ON_HEAP 1
/// Calls `destroy(object)` when the calling thread ends, newest registration first, after
/// the thread's thread_locals (FlsAlloc's callback). Defined in per_thread.cpp.
void destroy_at_thread_exit(void (*destroy)(void*), void* object);
#endif

template <class T>
class per_thread {
public:
    /// The calling thread's T, made on first use; nullptr once the thread is ending and its
    /// T has been destroyed (a destructor of a later thread_local may still ask).
    static T* get() {
#if defined(TASKSCOPE_PER_THREAD_ON_HEAP)
        thread_local T* object = nullptr;
        if (object == nullptr) {
            object = new T;
            destroy_at_thread_exit([](void* p) { delete static_cast<T*>(p); }, object);
        }
        return object;
#else
        if (t_destroyed) {
            return nullptr;
        }
        thread_local holder here;
        return &here.value;
#endif
    }

private:
    struct holder {
        T value;
        ~holder() { t_destroyed = true; } // before value's destructor: it sees nullptr too
    };
    static inline thread_local bool t_destroyed = false;
};

} // namespace taskscope::detail
