// The engine, net, trace and lesson tests' main: Catch2's, after giving the process
// folders of its own (own_folders.hpp).
#include "catch_session.hpp"
#include "own_folders.hpp"

int main(int argc, char** argv) {
    taskscope::test::use_own_folders();
    return taskscope::test::run_catch_session(argc, argv);
}
