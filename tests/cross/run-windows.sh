#!/usr/bin/env bash
# The Windows x86-64 cross build (issue #18): install what it needs (and cross-build zstd
# from Debian's source package), configure, build and test the `windows-cross` preset
# (mingw-w64 g++ 12, POSIX threads; every test runs under wine through
# CMAKE_CROSSCOMPILING_EMULATOR, set by cmake/toolchains/mingw-w64-x86_64.cmake), then
# check that tests/cross/install-deps-windows alone installs every package the build used.
#
# usage: tests/cross/run-windows.sh [extra ctest arguments, e.g. -R "trace:"]
# Exit status: non-zero when the build, a test, or the install check fails.
set -uo pipefail
cd "$(dirname "$0")/../.."

build=build/windows-cross
script=tests/cross/install-deps-windows
log_dir=$build/run-windows
start=$(date +%s)

step() { printf '\n== windows: %s\n' "$*"; }

step "installing dependencies ($script)"
bash "$script" || { echo "windows: $script failed" >&2; exit 1; }

step "configure and build (preset windows-cross)"
cmake --preset windows-cross || exit 1
# The build tree's own wine prefix (the toolchain file's WINEPREFIX), made once up front
# so the first test program does not pay for it or print its notices.
if [ ! -f "$build/wineprefix/system.reg" ]; then
    WINEPREFIX="$PWD/$build/wineprefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" \
        wine wineboot -i >/dev/null 2>&1 || true
fi
nice cmake --build --preset windows-cross -j2 || exit 1
built=$(date +%s)

# The test preset (jobs 2, timeout 300 for tests without their own, output on failure);
# any extra arguments go to ctest.
step "tests under $(wine --version 2>/dev/null || echo wine)"
mkdir -p "$log_dir"
nice ctest --preset windows-cross "$@" 2>&1 | tee "$log_dir/ctest.log"
ctest_rc=${PIPESTATUS[0]}
tested=$(date +%s)

step "check-install-deps"
bash .ci/check-install-deps "$build" --script "$script"
deps_rc=$?

summary=$(grep -E "tests passed|tests failed" "$log_dir/ctest.log" | tail -1)
step "summary"
machine=$(x86_64-w64-mingw32-objdump -f "$build/tests/taskscope_engine_tests.exe" 2>/dev/null | sed -n 's/.*file format *//p')
echo "windows: compiler   x86_64-w64-mingw32-g++-posix $(x86_64-w64-mingw32-g++-posix -dumpfullversion), test programs built as ${machine:-?}"
echo "windows: build      $((built - start)) s (install + configure + build)"
echo "windows: tests      ${summary:-no ctest summary} ($((tested - built)) s under wine, ctest exit $ctest_rc)"
if ((ctest_rc != 0)); then
    sed -n '/The following tests FAILED:/,$p' "$log_dir/ctest.log" | grep -v "^Errors while running"
fi
echo "windows: install    check-install-deps exit $deps_rc"
echo "windows: log        $log_dir/ctest.log"
((ctest_rc == 0 && deps_rc == 0))
