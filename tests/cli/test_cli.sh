#!/usr/bin/env bash
# End-to-end checks of taskscope-cli as a user runs it: serve on a free port, load it
# (text and --json), bad input gets a message and a non-zero exit, Ctrl-C stops serve.
set -uo pipefail
# A pipe ends in `grep PATTERN >/dev/null`, never `grep -q`: -q exits at the first match, the
# writer may then die of SIGPIPE, and pipefail counts that as a failure (flaky under load).
# The program, after the emulator that runs it when it was cross-built (qemu-aarch64 ...).
cli=("$@")
data=$(cd "$(dirname "$0")/../data" && pwd)
work=$(mktemp -d)
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
cleanup() {
    [ -n "${serve_pid:-}" ] && kill "$serve_pid" 2>/dev/null
    [ -n "${chat_pid:-}" ] && kill "$chat_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
# wait_for FILE SED-EXPRESSION: what the expression prints from FILE once it prints
# anything (a program's banner naming its port), within 5 s.
wait_for() {
    local found=""
    for _ in $(seq 1 100); do
        found=$(sed -n "$2" "$1")
        [ -n "$found" ] && break
        sleep 0.05
    done
    echo "$found"
}

"${cli[@]}" serve --port 0 --workers 1 --sleep-mode blocking --http2-max-streams 8 >"$work/serve.out" 2>&1 &
serve_pid=$!
port=$(wait_for "$work/serve.out" 's|^serving http://127.0.0.1:\([0-9]*\)/.*|\1|p')
[ -n "$port" ] || { fail "serve printed no port: $(cat "$work/serve.out")"; exit 1; }
grep -q "sleep mode blocking" "$work/serve.out" || fail "serve banner lacks the sleep mode"

out=$("${cli[@]}" load "http://127.0.0.1:$port/" -n 50 -c 5)
echo "$out" | grep "answered 50, errors 0" >/dev/null || fail "load text output: $out"
# HTTP/2 on the same port: 5 streams at once on each of 2 connections.
out=$("${cli[@]}" load "http://127.0.0.1:$port/sleep?ms=20" -n 40 -c 2 --http2 -m 5)
echo "$out" | grep "over HTTP/2, 5 stream(s) each" >/dev/null || fail "load --http2 header: $out"
echo "$out" | grep "answered 40, errors 0 (status 200 x40)" >/dev/null || fail "load --http2: $out"
# The server's SETTINGS carry --http2-max-streams (nghttp prints the frames it receives).
nghttp -nv "http://127.0.0.1:$port/" >"$work/nghttp.out" 2>&1 || fail "nghttp: $(tail -3 "$work/nghttp.out")"
grep -q "SETTINGS_MAX_CONCURRENT_STREAMS(0x03):8" "$work/nghttp.out" ||
    fail "--http2-max-streams not in the server's SETTINGS: $(grep -m1 SETTINGS "$work/nghttp.out")"
"${cli[@]}" load "http://127.0.0.1:$port/" -n 5 -m 3 >/dev/null 2>"$work/err" && fail "-m without --http2 accepted"
grep -q "requires --http2" "$work/err" || fail "-m without --http2: $(cat "$work/err")"

json=$("${cli[@]}" load "http://127.0.0.1:$port/sleep?ms=20" -n 4 -c 2 --json)
for key in count errors p50 p90 p99 max; do
    echo "$json" | grep "\"$key\":" >/dev/null || fail "--json lacks $key: $json"
done
echo "$json" | grep '"count":4' >/dev/null || fail "--json count: $json"

"${cli[@]}" load "https://127.0.0.1:$port/" -n 1 >/dev/null 2>"$work/err" && fail "https URL accepted"
grep -q "http://" "$work/err" || fail "bad URL message: $(cat "$work/err")"
"${cli[@]}" serve --sleep-mode sometimes >/dev/null 2>"$work/err" && fail "bad sleep mode accepted"
grep -q "async" "$work/err" || fail "bad sleep mode message: $(cat "$work/err")"
"${cli[@]}" load "http://127.0.0.1:$port/" -n 0 >/dev/null 2>&1 && fail "-n 0 accepted"

kill -INT "$serve_pid"
wait "$serve_pid"
status=$?
serve_pid=""
[ "$status" -eq 0 ] || fail "serve exited $status after Ctrl-C"
grep -q "served 9[0-9] responses" "$work/serve.out" || fail "serve summary: $(tail -2 "$work/serve.out")"

"${cli[@]}" demo --workers 1 --columns 40 >"$work/demo.out" 2>&1 || fail "demo failed"
grep -q "^worker 0" "$work/demo.out" || fail "demo lacks the worker lane"

# ---- trace files: record, stats, export, golden output, damaged and wrong files ----
"${cli[@]}" record -o "$work/r.tstrace" --workers 2 --sleep-mode offload --load "/sleep?ms=3" \
    -n 20 -c 4 >"$work/record.out" 2>&1 || fail "record failed: $(cat "$work/record.out")"
grep -q "answered 20, errors 0" "$work/record.out" || fail "record summary: $(cat "$work/record.out")"
grep -q "blocking-pool jobs 20" "$work/record.out" || fail "offload sleeps not on the pool: $(cat "$work/record.out")"
stats=$("${cli[@]}" stats "$work/r.tstrace" --json) || fail "stats --json failed"
for key in events dropped duration_ns tasks polls wakes steals blocks workers requests lints; do
    echo "$stats" | grep "\"$key\":" >/dev/null || fail "stats --json lacks $key"
done
echo "$stats" | grep '"count": 20' >/dev/null || fail "stats request count: $stats"
"${cli[@]}" stats "$work/r.tstrace" | grep "^worker 1" >/dev/null || fail "stats text lacks worker 1"
"${cli[@]}" export "$work/r.tstrace" --chrome "$work/r.json" --csv "$work/r.csv" >"$work/export.out" 2>&1 ||
    fail "export failed: $(cat "$work/export.out")"
grep -q '"traceEvents":\[' "$work/r.json" || fail "chrome export lacks traceEvents"
[ "$(head -1 "$work/r.csv")" = "start_ns,latency_ns,route,status,worker,side,bytes,request_id,protocol,connection,stream" ] ||
    fail "csv header: $(head -1 "$work/r.csv")"
[ "$(grep -c ',client,' "$work/r.csv")" -eq 20 ] || fail "csv client rows: $(cat "$work/r.csv")"
"${cli[@]}" export "$work/r.tstrace" >/dev/null 2>"$work/err" && fail "export with no output accepted"
grep -q -- "--chrome" "$work/err" || fail "export usage message: $(cat "$work/err")"

"${cli[@]}" export "$work/r.tstrace" --chrome "$work/r.tstrace" >/dev/null 2>"$work/err" &&
    fail "export over its own input accepted"
grep -q "is the input file" "$work/err" || fail "export-over-input message: $(cat "$work/err")"
"${cli[@]}" stats "$work/r.tstrace" >/dev/null 2>&1 || fail "the input was damaged by a refused export"

# --max-seconds bounds a run that would otherwise take 100 x 2 s on one blocked worker.
"${cli[@]}" record -o "$work/bounded.tstrace" --workers 1 --sleep-mode blocking \
    --load "/sleep?ms=2000" -n 100 -c 1 --max-seconds 1 >"$work/bounded.out" 2>&1
grep -q "requests were not sent" "$work/bounded.out" || fail "--max-seconds: $(cat "$work/bounded.out")"
"${cli[@]}" stats "$work/bounded.tstrace" --json | grep '"blocked_worker"' >/dev/null ||
    fail "a worker blocked at the end of a recording has no finding"

# The committed sample: its summary must not drift unnoticed.
"${cli[@]}" stats "$data/http-blocking.tstrace" --json | diff -u "$data/http-blocking.stats.json" - >"$work/golden.diff" ||
    fail "stats --json of tests/data/http-blocking.tstrace differs from the golden file: $(head -40 "$work/golden.diff")"

size=$(stat -c %s "$work/r.tstrace")
head -c $((size * 2 / 3)) "$work/r.tstrace" >"$work/cut.tstrace"
"${cli[@]}" stats "$work/cut.tstrace" >"$work/cut.out" 2>"$work/err" || fail "a cut file was refused: $(cat "$work/err")"
grep -q "cut off\|damaged" "$work/err" || fail "no warning for a cut file: $(cat "$work/err")"
echo '{"traceEvents":[]}' >"$work/not.tstrace"
"${cli[@]}" stats "$work/not.tstrace" >/dev/null 2>"$work/err" && fail "a JSON file was accepted as a trace"
grep -q "not a taskscope trace" "$work/err" || fail "wrong-file message: $(cat "$work/err")"
"${cli[@]}" stats "$work/missing.tstrace" >/dev/null 2>"$work/err" && fail "a missing file was accepted"
grep -q "cannot open" "$work/err" || fail "missing-file message: $(cat "$work/err")"

"${cli[@]}" demo --workers 2 --columns 40 -o "$work/demo.tstrace" >/dev/null 2>&1 || fail "demo -o failed"
"${cli[@]}" stats "$work/demo.tstrace" | grep "blocking-pool jobs 1" >/dev/null || fail "demo trace lacks its pool job"

# Lessons: the list, a run's phase lines and recording, --explain, bad names and scales.
"${cli[@]}" lessons | grep "^three-sleeps " >/dev/null || fail "lessons does not list three-sleeps"
[ "$("${cli[@]}" lessons | grep -c " s  ")" -eq 10 ] || fail "lessons does not list ten lessons"
"${cli[@]}" lesson three-sleeps --scale 0.02 -o "$work/lesson.tstrace" >"$work/lesson.out" 2>"$work/err" ||
    fail "lesson three-sleeps failed: $(cat "$work/err")"
[ "$(grep -cE '^phase [a-z-]+ [0-9]+\.[0-9]{3} result=6$' "$work/lesson.out")" -eq 4 ] ||
    fail "lesson phase lines: $(cat "$work/lesson.out")"
"${cli[@]}" stats "$work/lesson.tstrace" | grep "lesson three-sleeps" >/dev/null ||
    fail "the lesson's recording does not name its command"
"${cli[@]}" lesson own-executor --explain | grep "^## Predict" >/dev/null || fail "--explain lacks Predict"
"${cli[@]}" lesson no-such-lesson >/dev/null 2>"$work/err"
[ $? -eq 2 ] || fail "an unknown lesson did not exit 2"
grep -q "taskscope-cli lessons" "$work/err" || fail "unknown lesson message: $(cat "$work/err")"
"${cli[@]}" lesson three-sleeps --scale 100 >/dev/null 2>"$work/err" && fail "--scale 100 accepted"
grep -q "scale" "$work/err" || fail "bad scale message: $(cat "$work/err")"

# Chat: a client no one here wrote (Python's socket and json) talks to chat-serve; the
# interactive client and the load generator; bad addresses; Ctrl-C writes the recording.
"${cli[@]}" chat-serve --port 0 --workers 2 --capacity 50 --record "$work/chat.tstrace" \
    >"$work/chat.out" 2>&1 &
chat_pid=$!
chat_port=$(wait_for "$work/chat.out" 's|^chat on 127.0.0.1:\([0-9]*\) .*|\1|p')
[ -n "$chat_port" ] || fail "chat-serve printed no port: $(cat "$work/chat.out")"
if [ -n "$chat_port" ] && command -v python3 >/dev/null; then
    python3 - "$chat_port" >"$work/py.out" 2>&1 <<'PY' || fail "python chat client: $(cat "$work/py.out")"
import json, socket, sys
port = int(sys.argv[1])
def client():
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s, s.makefile("r", encoding="utf-8")
def send(s, obj):
    s.sendall((json.dumps(obj) + "\n").encode())
def sync(s, f):  # Stats is answered after every earlier line of this connection was handled
    send(s, {"Stats": None})
    while True:
        doc = json.loads(f.readline())
        if "Stats" in doc:
            return doc["Stats"]
a, fa = client()
b, fb = client()
send(a, {"Join": {"group_name": "py"}})
send(b, {"Join": {"group_name": "py"}})
sync(a, fa)
sync(b, fb)
send(a, {"Post": {"group_name": "py", "message": "hello from python"}})
want = {"Message": {"group_name": "py", "message": "hello from python"}}
assert json.loads(fa.readline()) == want
assert json.loads(fb.readline()) == want
send(b, {"Post": {"group_name": "nope", "message": "x"}})
assert json.loads(fb.readline()) == {"Error": "Group 'nope' does not exist"}
b.sendall(b"not json\n")
assert "Error" in json.loads(fb.readline())
import time
for _ in range(100):  # a delivery is counted once its write returned, maybe after the read
    stats = sync(b, fb)
    if stats["deliveries"] == 2:
        break
    time.sleep(0.05)
assert stats["posts"] == 1 and stats["deliveries"] == 2, stats
print("python ok")
PY
    grep "python ok" "$work/py.out" >/dev/null || fail "python chat client did not finish: $(cat "$work/py.out")"
fi
if [ -n "$chat_port" ]; then
    printf 'join room\npost room hi from the cli\nwhat\n' |
        "${cli[@]}" chat "127.0.0.1:$chat_port" --linger-ms 300 >"$work/chat-client.out" 2>"$work/err" ||
        fail "chat client failed: $(cat "$work/err")"
    grep -F '{"Message":{"group_name":"room","message":"hi from the cli"}}' "$work/chat-client.out" \
        >/dev/null || fail "chat client did not print its message: $(cat "$work/chat-client.out")"
    grep -q "join GROUP" "$work/err" || fail "chat client's help for a bad line: $(cat "$work/err")"
    "${cli[@]}" chat-load "127.0.0.1:$chat_port" --posters 1 --rate 200 --fast 2 --slow 1 \
        --seconds 0.5 --json >"$work/chat-load.json" 2>"$work/err" ||
        fail "chat-load failed: $(cat "$work/err")"
    grep '"fast":{' "$work/chat-load.json" >/dev/null || fail "chat-load --json: $(cat "$work/chat-load.json")"
    kill -INT "$chat_pid"
    wait "$chat_pid" || fail "chat-serve did not exit cleanly on Ctrl-C: $(cat "$work/chat.out")"
    chat_pid=""
    grep "^recorded [0-9]* events" "$work/chat.out" >/dev/null || fail "chat-serve did not record: $(cat "$work/chat.out")"
    "${cli[@]}" stats "$work/chat.tstrace" >/dev/null 2>&1 || fail "the chat recording does not open"
fi
"${cli[@]}" chat "127.0.0.1" </dev/null >/dev/null 2>"$work/err"
[ $? -eq 2 ] || fail "chat without a port did not exit 2"
grep -q "HOST:PORT" "$work/err" || fail "chat bad-address message: $(cat "$work/err")"
"${cli[@]}" chat-serve --backlog sideways >/dev/null 2>"$work/err" && fail "--backlog sideways accepted"
grep -q "backlog" "$work/err" || fail "bad --backlog message: $(cat "$work/err")"

# Attach (issue 17): an unchanged program (serve) serves its trace when TASKSCOPE_LISTEN is
# set; record --attach records it until the program ends.
TASKSCOPE_LISTEN=127.0.0.1:0 "${cli[@]}" serve --port 0 --workers 2 >"$work/served.out" 2>&1 &
served_pid=$!
trace_port=$(wait_for "$work/served.out" 's|^taskscope: serving the trace of .* on 127.0.0.1:\([0-9]*\) .*|\1|p')
http_port=$(wait_for "$work/served.out" 's|^serving http://127.0.0.1:\([0-9]*\)/.*|\1|p')
if [ -z "$trace_port" ] || [ -z "$http_port" ]; then
    fail "TASKSCOPE_LISTEN: serve did not say where its trace is: $(cat "$work/served.out")"
    kill "$served_pid" 2>/dev/null
else
    "${cli[@]}" record --attach "127.0.0.1:$trace_port" -o "$work/attached.tstrace" >"$work/attach.out" 2>&1 &
    attach_pid=$!
    for _ in $(seq 1 100); do
        grep "^attached to taskscope-cli (pid $served_pid)" "$work/attach.out" >/dev/null && break
        sleep 0.05
    done
    grep "^attached to taskscope-cli (pid $served_pid)" "$work/attach.out" >/dev/null ||
        fail "record --attach banner: $(cat "$work/attach.out")"
    "${cli[@]}" load "http://127.0.0.1:$http_port/" -n 120 -c 4 >/dev/null || fail "load of the attached serve"
    # A second viewer, for a moment: several may attach.
    "${cli[@]}" record --attach "127.0.0.1:$trace_port" -o "$work/second.tstrace" --max-seconds 0.3 >"$work/second.out" 2>&1 ||
        fail "a second viewer: $(cat "$work/second.out")"
    grep "stopped after 0.3 s" "$work/second.out" >/dev/null || fail "second viewer's ending: $(cat "$work/second.out")"
    # The flight recorder (attached from here on): the last 5 s in memory, written on SIGUSR1.
    # Chunks reach it up to a chunk's age (100 ms) after the requests: ask until the file
    # holds all 30.
    "${cli[@]}" record --attach "127.0.0.1:$trace_port" -o "$work/flight.tstrace" --flight-recorder 5s >"$work/flight.out" 2>&1 &
    flight_pid=$!
    [ -n "$(wait_for "$work/flight.out" '/flight recorder: keeping the last 5 s/p')" ] ||
        fail "flight recorder banner: $(cat "$work/flight.out")"
    "${cli[@]}" load "http://127.0.0.1:$http_port/" -n 30 -c 2 >/dev/null || fail "load while the flight recorder ran"
    flight_requests=""
    for n in $(seq 1 20); do
        kill -USR1 "$flight_pid"
        [ -n "$(wait_for "$work/flight.out" "/^wrote .*flight-$n.tstrace/p")" ] || break
        flight_requests=$("${cli[@]}" stats "$work/flight-$n.tstrace" 2>&1 | sed -n 's|^requests (server side): \([0-9]*\),.*|\1|p')
        [ "$flight_requests" = "30" ] && break
        sleep 0.1
    done
    [ "$flight_requests" = "30" ] || fail "the flight recording holds $flight_requests requests, not 30: $(cat "$work/flight.out")"
    kill -INT "$flight_pid"
    wait "$flight_pid" || fail "the flight recorder did not exit cleanly: $(cat "$work/flight.out")"
    "${cli[@]}" record -o "$work/x.tstrace" --flight-recorder 5s >/dev/null 2>"$work/err"
    [ $? -eq 2 ] || fail "--flight-recorder without --attach did not exit 2"
    "${cli[@]}" record --attach 127.0.0.1:1 -o "$work/x.tstrace" --flight-recorder soon >/dev/null 2>"$work/err"
    grep "takes a duration such as 60s" "$work/err" >/dev/null || fail "bad duration message: $(cat "$work/err")"
    kill -INT "$served_pid"
    wait "$served_pid" || fail "the served program did not exit cleanly"
    wait "$attach_pid" || fail "record --attach exited non-zero: $(cat "$work/attach.out")"
    grep "the program ended" "$work/attach.out" >/dev/null || fail "record --attach ending: $(cat "$work/attach.out")"
    stats=$("${cli[@]}" stats "$work/attached.tstrace" 2>&1)
    echo "$stats" | grep "requests (server side): 150," >/dev/null || fail "the attached recording's requests: $stats"
    "${cli[@]}" stats "$work/second.tstrace" >/dev/null 2>&1 || fail "the second viewer's recording does not open"
    # Not a trace stream: the HTTP port of a server.
    "${cli[@]}" serve --port 0 >"$work/plain.out" 2>&1 &
    plain_pid=$!
    plain_port=$(wait_for "$work/plain.out" 's|^serving http://127.0.0.1:\([0-9]*\)/.*|\1|p')
    "${cli[@]}" record --attach "127.0.0.1:$plain_port" -o "$work/nothing.tstrace" >/dev/null 2>"$work/err" &&
        fail "an HTTP port was recorded as a trace stream"
    grep "127.0.0.1:$plain_port is not a taskscope trace stream" "$work/err" >/dev/null ||
        fail "not-a-stream message: $(cat "$work/err")"
    kill -INT "$plain_pid"
    wait "$plain_pid"
    # Nobody there: the port the served program had.
    "${cli[@]}" record --attach "127.0.0.1:$trace_port" -o "$work/nothing.tstrace" >/dev/null 2>"$work/err" &&
        fail "attached to a program that has exited"
    grep "cannot connect to 127.0.0.1:$trace_port: connection refused (is the program running with TASKSCOPE_LISTEN set?)" "$work/err" >/dev/null ||
        fail "unreachable message: $(cat "$work/err")"
    "${cli[@]}" record --attach 127.0.0.1:1 --load / -o "$work/nothing.tstrace" >/dev/null 2>"$work/err"
    [ $? -eq 2 ] || fail "--attach with --load did not exit 2"
fi

if [ "$failures" -eq 0 ]; then
    echo "cli: all checks passed"
fi
exit "$failures"
