#!/usr/bin/env bash
# HTTP throughput: taskscope-cli serve (1 worker) against nginx (1 worker process), one
# after the other, each on core 0 and loaded from core 1, over HTTP/1.1 and HTTP/2:
#   http1  keep-alive HTTP/1.1, loaded by wrk -t1 -c50 -d$DURATION
#   http2  cleartext HTTP/2 with prior knowledge (h2c; taskscope speaks it on its HTTP/1.1
#          port, nginx on a `listen ... http2;` port without TLS), loaded by
#          h2load -c50 -m10 -D$DURATION --warm-up-time=$WARMUP
# For each protocol, in the same run: taskscope with tracing on, taskscope with --no-trace,
# then nginx (`access_log off; return 200`, keepalive_requests raised so that it never
# closes a connection mid-run). Prints, with <p> = http (HTTP/1.1) or http2:
#   bench <p>/taskscope_trace_on <req/s> req/s
#   bench <p>/taskscope_trace_off <req/s> req/s
#   bench <p>/nginx <req/s> req/s
#   ratio <p> ours/nginx <value>             (tracing on)
#   ratio <p>_trace_off ours/nginx <value>
# A run whose load generator saw failed, errored or timed-out requests, socket errors or
# non-2xx answers (or, for http2, no h2c) gets "FAILED: ..." on its line and on its ratios,
# its tool's output on stderr, and the script exits 1 at the end.
#
# Usage: tests/bench/http_vs_nginx.sh [path/to/taskscope-cli]
#   PROTOCOLS="http1 http2"  which protocols, run in the order given (default: both)
#   DURATION=10s             measured time per run (wrk -d, h2load -D)
#   WARMUP=2s                unmeasured load before each run (h2load --warm-up-time; for
#                            wrk, which has none, a discarded run); 0: none
# Needs: wrk (http1), h2load (http2; Debian package nghttp2-client), nginx-light, taskset
# (util-linux), and a release build of taskscope-cli.
set -euo pipefail

me=http_vs_nginx
cli=${1:-build/release/app/taskscope-cli}
protocols=${PROTOCOLS:-http1 http2}
duration=${DURATION:-10s}
warmup=${WARMUP:-2s}
case $warmup in 0 | 0s | 0ms) warmup= ;; esac
port_ours=18181 # taskscope serves HTTP/1.1 and h2c on the same port
port_nginx_http1=18182
port_nginx_http2=18183

# The tools, and which Debian package has each.
needed=(taskset:util-linux nginx:nginx-light)
for proto in $protocols; do
    case $proto in
    http1) needed+=(wrk:wrk) ;;
    http2) needed+=(h2load:nghttp2-client) ;;
    *)
        echo "$me: unknown protocol '$proto' in PROTOCOLS (http1, http2)" >&2
        exit 2
        ;;
    esac
done
missing=()
for entry in "${needed[@]}"; do
    tool=${entry%%:*}
    if ! command -v "$tool" >/dev/null && [ ! -x "/usr/sbin/$tool" ]; then
        missing+=("${entry#*:}")
        echo "$me: $tool is missing" >&2
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "$me: install with: apt-get install ${missing[*]}" >&2
    exit 2
fi
if [ ! -x "$cli" ]; then
    echo "$me: $cli not found; build it with: cmake --workflow --preset release" >&2
    exit 2
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
server_pid= # the server being measured, while it runs
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Starts "${@:3}" on core 0 in the background as the server under test, logging to
# $work/$2.log, and returns once it answers on port $1.
start_server() {
    local port=$1 log=$2
    shift 2
    if port_open "$port"; then
        echo "$me: something already listens on port $port" >&2
        exit 1
    fi
    taskset -c 0 "$@" >"$work/$log.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do
        if port_open "$port"; then return 0; fi
        if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
        sleep 0.05
    done
    echo "$me: nothing listens on port $port; the server's output:" >&2
    cat "$work/$log.log" >&2
    exit 1
}

stop_server() { # $1: signal
    kill "-$1" "$server_pid"
    wait "$server_pid" || true
    server_pid=
}

# Loads port $2 over protocol $1 from core 1, keeps the tool's output in $work/$3.out and
# sets rps (requests per second) and problems (empty when every request succeeded).
load() {
    local proto=$1 url="http://127.0.0.1:$2/" out="$work/$3.out" status=0
    case $proto in
    http1)
        if [ -n "$warmup" ]; then
            taskset -c 1 wrk -t1 -c50 -d"$warmup" "$url" >/dev/null 2>&1 || true
        fi
        taskset -c 1 wrk -t1 -c50 -d"$duration" "$url" >"$out" 2>&1 || status=$?
        rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
        # wrk prints these two lines only when they are not zero
        problems=$(awk '
            /Socket errors:/ { sub(/^ *Socket errors: */, ""); printf "socket errors %s; ", $0 }
            /Non-2xx or 3xx responses:/ { printf "%s non-2xx/3xx responses; ", $NF }' "$out")
        ;;
    http2)
        taskset -c 1 h2load -c50 -m10 -D "$duration" ${warmup:+--warm-up-time="$warmup"} \
            "$url" >"$out" 2>&1 || status=$?
        rps=$(awk '/^finished in/ { print $4 }' "$out")
        # requests: T total, S started, D done, OK succeeded, F failed, E errored, TO timeout
        # status codes: A 2xx, B 3xx, C 4xx, D 5xx
        problems=$(awk '
            /^requests:/ {
                if ($10 + $12 + $14 > 0)
                    printf "%s failed, %s errored, %s timed out of %s requests; ", $10, $12, $14, $2
            }
            /^status codes:/ {
                if ($5 + $7 + $9 > 0) printf "status codes: %s 3xx, %s 4xx, %s 5xx; ", $5, $7, $9
            }
            /^Application protocol:/ { alpn = $3 }
            END { if (alpn != "h2c") printf "application protocol \"%s\", not h2c; ", alpn }' "$out")
        ;;
    esac
    if [ "$status" != 0 ]; then problems+="load generator exited with status $status; "; fi
    if [ -z "$rps" ]; then
        rps=0
        problems+="no req/s in its output; "
    fi
    problems=${problems%; }
}

failed_runs=()
# Prints the bench line of run $1 from rps and problems (loudly when there were problems).
report() {
    if [ -z "$problems" ]; then
        echo "bench $1 $rps req/s"
        return
    fi
    failed_runs+=("$1")
    echo "bench $1 $rps req/s FAILED: $problems"
    {
        echo "$me: !!! $1 had failures: $problems"
        echo "$me: !!! its load generator's output:"
        awk '/^progress: / { next }
            /^Process Request Failure/ { failures++; next }
            { print "    " $0 }
            END { if (failures) printf "    (and %d lines \"Process Request Failure\")\n", failures }' \
            "$work/${1//\//_}.out"
    } >&2
}

ratio() { # $1: name, $2 $3: ours and nginx req/s, $4 $5: their problems
    local flag=
    if [ -n "$4$5" ]; then flag=" FAILED: from runs with failures"; fi
    awk -v name="$1" -v a="$2" -v b="$3" -v flag="$flag" 'BEGIN {
        if (b > 0) printf "ratio %s ours/nginx %.2f%s\n", name, a / b, flag
        else printf "ratio %s ours/nginx n/a%s\n", name, flag }'
}

mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    # The default (1000) closes a connection after that many requests, HTTP/2 included
    # (http2_max_requests is obsolete since nginx 1.19.7).
    keepalive_requests 10000000;
    server {
        listen 127.0.0.1:$port_nginx_http1;
        location / { return 200 "hello from nginx\n"; }
    }
    server {
        listen 127.0.0.1:$port_nginx_http2 http2;
        location / { return 200 "hello from nginx\n"; }
    }
}
CONF

for proto in $protocols; do
    case $proto in
    http1) name=http port_nginx=$port_nginx_http1 ;;
    http2) name=http2 port_nginx=$port_nginx_http2 ;;
    esac

    start_server "$port_ours" "${name}_ours_on" "$cli" serve --port "$port_ours" --workers 1
    load "$proto" "$port_ours" "${name}_taskscope_trace_on"
    stop_server INT
    report "$name/taskscope_trace_on"
    ours_on=$rps ours_on_problems=$problems

    start_server "$port_ours" "${name}_ours_off" "$cli" serve --port "$port_ours" --workers 1 \
        --no-trace
    load "$proto" "$port_ours" "${name}_taskscope_trace_off"
    stop_server INT
    report "$name/taskscope_trace_off"
    ours_off=$rps ours_off_problems=$problems

    start_server "$port_nginx" "${name}_nginx" "$nginx_bin" -p "$work/nginx" \
        -c "$work/nginx/nginx.conf"
    load "$proto" "$port_nginx" "${name}_nginx"
    stop_server TERM
    report "$name/nginx"
    theirs=$rps theirs_problems=$problems

    ratio "$name" "$ours_on" "$theirs" "$ours_on_problems" "$theirs_problems"
    ratio "${name}_trace_off" "$ours_off" "$theirs" "$ours_off_problems" "$theirs_problems"
done

if [ ${#failed_runs[@]} -gt 0 ]; then
    echo "$me: !!! FAILURES in ${failed_runs[*]}: do not use those figures" >&2
    exit 1
fi
