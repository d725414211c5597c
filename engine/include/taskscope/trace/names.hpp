#pragma once
// Interned names: events carry a 32-bit id instead of a string (task names, routes,
// markers). The table is process-wide and only grows.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace taskscope::trace {

using name_id = std::uint32_t;

/// Id 0 is always the name "task", the name of a task spawned without one.
inline constexpr name_id default_task_name = 0;

/// Returns the id for `name`, adding it on first use. Thread-safe; takes a shared lock
/// on the lookup path and an exclusive one only for a new name.
[[nodiscard]] name_id intern(std::string_view name);

/// The name behind an id ("?" for an id never handed out). Thread-safe.
[[nodiscard]] std::string name_of(name_id id);

/// Every name interned so far, indexed by id.
[[nodiscard]] std::vector<std::string> all_names();

/// The names with ids `first` and up, in id order (what a trace file has not written yet).
[[nodiscard]] std::vector<std::string> names_from(name_id first);

} // namespace taskscope::trace
