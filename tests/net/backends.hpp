#pragma once
// The reactor backends this build has: epoll and poll on Linux, poll alone in the portable
// build and everywhere else. Tests that run "on each backend" loop over these.

#include "taskscope/runtime.hpp"

#include <vector>

namespace taskscope::test {

inline std::vector<reactor_backend> built_reactor_backends() {
    std::vector<reactor_backend> built;
    for (const auto backend : {reactor_backend::epoll, reactor_backend::poll}) {
        if (reactor_backend_available(backend)) {
            built.push_back(backend);
        }
    }
    return built;
}

} // namespace taskscope::test
