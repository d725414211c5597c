#!/usr/bin/env bash
# Both cross builds of issue #18, one after the other: Windows x86-64 (mingw-w64, tests
# under wine) and Linux ARM64 (tests under qemu-user). Each installs what it needs, builds,
# tests, and checks its install script with check-install-deps; the summaries end up
# together at the end (and in README.md's platform table).
#
# usage: tests/cross/run.sh            (takes about 15 minutes on 2 cores from scratch)
set -uo pipefail
cd "$(dirname "$0")/../.."

log_dir=build/cross-logs
mkdir -p "$log_dir"
status=0
for target in windows arm64; do
    bash "tests/cross/run-$target.sh" 2>&1 | tee "$log_dir/$target.log"
    rc=${PIPESTATUS[0]}
    ((rc == 0)) || status=1
done

printf '\n== both\n'
for target in windows arm64; do
    grep -E "^$target: " "$log_dir/$target.log" || echo "$target: no summary (see $log_dir/$target.log)"
done
exit $status
