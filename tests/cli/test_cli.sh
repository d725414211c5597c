#!/usr/bin/env bash
# End-to-end checks of taskscope-cli as a user runs it: serve on a free port, load it
# (text and --json), bad input gets a message and a non-zero exit, Ctrl-C stops serve.
set -uo pipefail
cli=$1
work=$(mktemp -d)
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
cleanup() { [ -n "${serve_pid:-}" ] && kill "$serve_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$cli" serve --port 0 --workers 1 --sleep-mode blocking >"$work/serve.out" 2>&1 &
serve_pid=$!
port=""
for _ in $(seq 1 100); do
    port=$(sed -n 's|^serving http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$work/serve.out")
    [ -n "$port" ] && break
    sleep 0.05
done
[ -n "$port" ] || { fail "serve printed no port: $(cat "$work/serve.out")"; exit 1; }
grep -q "sleep mode blocking" "$work/serve.out" || fail "serve banner lacks the sleep mode"

out=$("$cli" load "http://127.0.0.1:$port/" -n 50 -c 5)
echo "$out" | grep -q "answered 50, errors 0" || fail "load text output: $out"

json=$("$cli" load "http://127.0.0.1:$port/sleep?ms=20" -n 4 -c 2 --json)
for key in count errors p50 p90 p99 max; do
    echo "$json" | grep -q "\"$key\":" || fail "--json lacks $key: $json"
done
echo "$json" | grep -q '"count":4' || fail "--json count: $json"

"$cli" load "https://127.0.0.1:$port/" -n 1 >/dev/null 2>"$work/err" && fail "https URL accepted"
grep -q "http://" "$work/err" || fail "bad URL message: $(cat "$work/err")"
"$cli" serve --sleep-mode sometimes >/dev/null 2>"$work/err" && fail "bad sleep mode accepted"
grep -q "async" "$work/err" || fail "bad sleep mode message: $(cat "$work/err")"
"$cli" load "http://127.0.0.1:$port/" -n 0 >/dev/null 2>&1 && fail "-n 0 accepted"

kill -INT "$serve_pid"
wait "$serve_pid"
status=$?
serve_pid=""
[ "$status" -eq 0 ] || fail "serve exited $status after Ctrl-C"
grep -q "served 5[0-9] responses" "$work/serve.out" || fail "serve summary: $(tail -2 "$work/serve.out")"

"$cli" demo --workers 1 --columns 40 >"$work/demo.out" 2>&1 || fail "demo failed"
grep -q "^worker 0" "$work/demo.out" || fail "demo lacks the worker lane"

if [ "$failures" -eq 0 ]; then
    echo "cli: all checks passed"
fi
exit "$failures"
