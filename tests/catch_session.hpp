#pragma once
// The tests' mains (test_main.cpp, ui/ui_test_main.cpp) run Catch2 through this, so that
// Catch's implementation is compiled once for every test program, in catch_session.cpp.

namespace taskscope::test {

/// Runs the test cases the command line asks for (Catch2's session); returns the exit code.
int run_catch_session(int argc, char** argv);

} // namespace taskscope::test
