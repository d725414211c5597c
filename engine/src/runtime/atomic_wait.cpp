// The table behind taskscope/detail/atomic_wait.hpp where libstdc++'s own atomic wait can
// lose a wake-up; empty elsewhere.

#include "taskscope/detail/atomic_wait.hpp"

#if defined(TASKSCOPE_ATOMIC_WAIT_BY_TABLE)

#include <array>
#include <cstdint>

namespace taskscope::detail {

wait_slot& wait_slot_for(const void* address) noexcept {
    // Never destroyed: a thread may still wake another while static objects go.
    static auto* const slots = new std::array<wait_slot, 16>;
    // Cache-line granules: neighbouring fields of one object share a slot, which is fine.
    return (*slots)[(reinterpret_cast<std::uintptr_t>(address) >> 6) % slots->size()];
}

} // namespace taskscope::detail

#endif
