#define CATCH_CONFIG_MAIN
// Wide enough that --list-test-names-only never wraps a name: catch_discover_tests would
// read a wrapped name as two tests, each matching nothing.
#define CATCH_CONFIG_CONSOLE_WIDTH 400
#include <catch2/catch.hpp>
