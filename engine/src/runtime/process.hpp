#pragma once
// The running process, as a program serving its trace names itself (process.cpp).

#include <cstdint>
#include <string>

namespace taskscope::detail {

[[nodiscard]] std::uint64_t process_id() noexcept;
/// The executable's name ("own-server"), or "program" where the system does not say.
[[nodiscard]] std::string program_name();

} // namespace taskscope::detail
