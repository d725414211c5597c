// Catch2's implementation, compiled once for all the test programs (tests/CMakeLists.txt
// builds it without debug information: it is the largest thing the tests compile, and not
// what a failing test is debugged in).
#define CATCH_CONFIG_RUNNER
// Wide enough that --list-test-names-only never wraps a name: catch_discover_tests would
// read a wrapped name as two tests, each matching nothing.
#define CATCH_CONFIG_CONSOLE_WIDTH 400
#include "catch_session.hpp"

#include <catch2/catch.hpp>

int taskscope::test::run_catch_session(int argc, char** argv) {
    return Catch::Session().run(argc, argv);
}
