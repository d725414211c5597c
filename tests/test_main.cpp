// The engine, net, trace and lesson tests' main: Catch2's, after giving the process
// folders of its own (own_folders.hpp).
#define CATCH_CONFIG_RUNNER
// Wide enough that --list-test-names-only never wraps a name: catch_discover_tests would
// read a wrapped name as two tests, each matching nothing.
#define CATCH_CONFIG_CONSOLE_WIDTH 400
#include "own_folders.hpp"

#include <catch2/catch.hpp>

int main(int argc, char** argv) {
    taskscope::test::use_own_folders();
    return Catch::Session().run(argc, argv);
}
