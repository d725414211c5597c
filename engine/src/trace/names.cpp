#include "taskscope/trace/names.hpp"

#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace taskscope::trace {
namespace {

struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

struct name_table {
    std::shared_mutex mutex;
    std::unordered_map<std::string, name_id, string_hash, std::equal_to<>> ids;
    std::vector<std::string> names;

    name_table() {
        ids.emplace("task", default_task_name);
        names.emplace_back("task");
    }
};

name_table& table() {
    static name_table t;
    return t;
}

} // namespace

name_id intern(std::string_view name) {
    name_table& t = table();
    {
        std::shared_lock lock(t.mutex);
        if (auto it = t.ids.find(name); it != t.ids.end()) {
            return it->second;
        }
    }
    std::unique_lock lock(t.mutex);
    auto [it, inserted] =
        t.ids.try_emplace(std::string(name), static_cast<name_id>(t.names.size()));
    if (inserted) {
        t.names.emplace_back(name);
    }
    return it->second;
}

std::string name_of(name_id id) {
    name_table& t = table();
    std::shared_lock lock(t.mutex);
    return id < t.names.size() ? t.names[id] : std::string("?");
}

std::vector<std::string> all_names() {
    name_table& t = table();
    std::shared_lock lock(t.mutex);
    return t.names;
}

std::vector<std::string> names_from(name_id first) {
    name_table& t = table();
    std::shared_lock lock(t.mutex);
    if (first >= t.names.size()) {
        return {};
    }
    return {t.names.begin() + first, t.names.end()};
}

} // namespace taskscope::trace
