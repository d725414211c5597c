#!/usr/bin/env bash
# The Linux ARM64 cross build (issue #18): install what it needs, configure, build and test
# the `arm64-cross` preset (g++-aarch64-linux-gnu; every test runs under qemu-aarch64-static
# through CMAKE_CROSSCOMPILING_EMULATOR, set by cmake/toolchains/aarch64-linux-gnu.cmake),
# then check that tests/cross/install-deps-arm64 alone installs every package the build used.
#
# usage: tests/cross/run-arm64.sh [extra ctest arguments, e.g. -R "engine:"]
# Exit status: non-zero when the build, a test, or the install check fails.
set -uo pipefail
cd "$(dirname "$0")/../.."

build=build/arm64-cross
script=tests/cross/install-deps-arm64
log_dir=$build/run-arm64
start=$(date +%s)

step() { printf '\n== arm64: %s\n' "$*"; }

step "installing dependencies ($script)"
bash "$script" || { echo "arm64: $script failed" >&2; exit 1; }

step "configure and build (preset arm64-cross)"
cmake --preset arm64-cross || exit 1
nice cmake --build --preset arm64-cross -j2 || exit 1
built=$(date +%s)

# The test preset (jobs 2, timeout 300 for tests without their own, output on failure);
# any extra arguments go to ctest.
step "tests under $(command -v qemu-aarch64-static || command -v qemu-aarch64)"
mkdir -p "$log_dir"
nice ctest --preset arm64-cross "$@" 2>&1 | tee "$log_dir/ctest.log"
ctest_rc=${PIPESTATUS[0]}
tested=$(date +%s)

# check-install-deps on this build tree, against this install script.
step "check-install-deps"
bash .ci/check-install-deps "$build" --script "$script"
deps_rc=$?

summary=$(grep -E "tests passed|tests failed" "$log_dir/ctest.log" | tail -1)
step "summary"
machine=$(aarch64-linux-gnu-readelf -h "$build/tests/taskscope_engine_tests" 2>/dev/null | sed -n 's/^ *Machine: *//p')
echo "arm64: compiler   aarch64-linux-gnu-g++ $(aarch64-linux-gnu-g++ -dumpfullversion), test programs built for ${machine:-?}"
echo "arm64: build      $((built - start)) s (install + configure + build)"
echo "arm64: tests      ${summary:-no ctest summary} ($((tested - built)) s under qemu, ctest exit $ctest_rc)"
if ((ctest_rc != 0)); then
    sed -n '/The following tests FAILED:/,$p' "$log_dir/ctest.log" | grep -v "^Errors while running"
fi
echo "arm64: install    check-install-deps exit $deps_rc"
echo "arm64: log        $log_dir/ctest.log"
((ctest_rc == 0 && deps_rc == 0))
