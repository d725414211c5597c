#!/usr/bin/env bash
# The cross builds of issue #18, end to end, each: install what it needs (by package name;
# zstd for Windows from Debian's source package), configure, build and test its preset
# (every test program runs under the toolchain file's CMAKE_CROSSCOMPILING_EMULATOR),
# then check with check-install-deps that its install script alone installs every package
# the build used.
#
#   windows  Windows x86-64: mingw-w64 g++ 12 (POSIX threads), tests under wine
#   arm64    Linux ARM64: g++-aarch64-linux-gnu, Debian multiarch, tests under qemu-user
#
# usage: tests/cross/run.sh [windows|arm64]... [-- extra ctest arguments, e.g. -R "trace:"]
#        (no target: both; about 15 minutes on 2 cores from scratch)
# Logs: build/cross-logs/TARGET.log. Exit status: non-zero when a build, a test or an
# install check failed.
set -uo pipefail
cd "$(dirname "$0")/../.."

targets=()
while (($# > 0)) && [ "$1" != "--" ]; do
    case $1 in
    windows | arm64) targets+=("$1") ;;
    *)
        echo "usage: tests/cross/run.sh [windows|arm64]... [-- ctest arguments]" >&2
        exit 2
        ;;
    esac
    shift
done
(($# > 0)) && shift # the --
((${#targets[@]} > 0)) || targets=(windows arm64)

# run_target TARGET [ctest arguments...]: prints lines "TARGET: ..." for the summary.
run_target() {
    local target=$1
    shift
    local preset script emulator compiler binary
    case $target in
    windows)
        preset=windows-cross
        script=tests/cross/install-deps-windows
        compiler=x86_64-w64-mingw32-g++-posix
        binary=tests/taskscope_engine_tests.exe
        ;;
    arm64)
        preset=arm64-cross
        script=tests/cross/install-deps-arm64
        compiler=aarch64-linux-gnu-g++
        binary=tests/taskscope_engine_tests
        ;;
    esac
    local build=build/$preset
    local start=$SECONDS
    step() { printf '\n== %s: %s\n' "$target" "$*"; }

    step "installing dependencies ($script)"
    bash "$script" || { echo "$target: $script failed"; return 1; }

    step "configure and build (preset $preset)"
    cmake --preset "$preset" || { echo "$target: configure failed"; return 1; }
    if [ "$target" = windows ] && [ ! -f "$build/wineprefix/system.reg" ]; then
        # The build tree's own wine prefix (the toolchain file's WINEPREFIX), made once up
        # front so the first test program does not pay for it or print its notices.
        WINEPREFIX="$PWD/$build/wineprefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" \
            wine wineboot -i >/dev/null 2>&1 || true
    fi
    nice cmake --build --preset "$preset" -j2 || { echo "$target: build failed"; return 1; }
    local built=$SECONDS

    case $target in
    windows) emulator=$(wine --version 2>/dev/null || echo wine) ;;
    arm64) emulator=$(qemu-aarch64-static --version 2>/dev/null | head -n 1) ;;
    esac
    # The test preset: jobs 2, timeout 300 for tests without their own, output on failure.
    # (Under wine, ctest's wine_session fixture keeps one wineserver for the whole run.)
    step "tests under $emulator"
    mkdir -p "$build/cross-run"
    nice ctest --preset "$preset" "$@" 2>&1 | tee "$build/cross-run/ctest.log"
    local ctest_rc=${PIPESTATUS[0]}
    local tested=$SECONDS

    step "check-install-deps"
    bash .ci/check-install-deps "$build" --script "$script"
    local deps_rc=$?

    local summary machine
    summary=$(grep -E "tests passed|tests failed" "$build/cross-run/ctest.log" | tail -n 1)
    case $target in # the cross binutils say what the test programs were built for
    windows) machine=$(x86_64-w64-mingw32-objdump -f "$build/$binary" 2>/dev/null | sed -n 's/.*file format *//p') ;;
    arm64) machine=$(aarch64-linux-gnu-readelf -h "$build/$binary" 2>/dev/null | sed -n 's/^ *Machine: *//p') ;;
    esac
    step "summary"
    echo "$target: compiler   $compiler $($compiler -dumpfullversion); test programs: ${machine:-?}"
    echo "$target: build      $((built - start)) s (install + configure + build)"
    echo "$target: tests      ${summary:-no ctest summary} ($((tested - built)) s under $emulator, ctest exit $ctest_rc)"
    if ((ctest_rc != 0)); then
        sed -n '/The following tests FAILED:/,$p' "$build/cross-run/ctest.log" |
            grep -v "^Errors while running" | sed "s/^/$target: /"
    fi
    echo "$target: install    check-install-deps exit $deps_rc"
    ((ctest_rc == 0 && deps_rc == 0))
}

log_dir=build/cross-logs
mkdir -p "$log_dir"
status=0
for target in "${targets[@]}"; do
    run_target "$target" "$@" 2>&1 | tee "$log_dir/$target.log"
    ((PIPESTATUS[0] == 0)) || status=1
done

printf '\n== summary\n'
for target in "${targets[@]}"; do
    grep -E "^$target: " "$log_dir/$target.log" || echo "$target: no summary (see $log_dir/$target.log)"
done
exit $status
