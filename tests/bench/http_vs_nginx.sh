#!/usr/bin/env bash
# HTTP throughput: taskscope-cli serve (1 worker) against nginx (1 worker process), one
# after the other, each on core 0 and loaded by wrk pinned to core 1. Prints
#   bench http/<server> <req/s>
#   ratio http ours/nginx <value>
# Usage: tests/bench/http_vs_nginx.sh [path/to/taskscope-cli]   (DURATION=10s by default)
# Needs: wrk, nginx-light (Debian packages), and a release build of taskscope-cli.
set -euo pipefail

cli=${1:-build/release/app/taskscope-cli}
duration=${DURATION:-10s}
port_ours=18181
port_nginx=18182

for tool in wrk nginx taskset; do
    if ! command -v "$tool" >/dev/null && [ ! -x "/usr/sbin/$tool" ]; then
        echo "http_vs_nginx: $tool is missing (apt-get install wrk nginx-light util-linux)" >&2
        exit 2
    fi
done
if [ ! -x "$cli" ]; then
    echo "http_vs_nginx: $cli not found; build it with: cmake --workflow --preset release" >&2
    exit 2
fi

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

wait_for_port() {
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "http_vs_nginx: nothing listens on port $1" >&2
    exit 1
}

# wrk, pinned to core 1; prints requests per second
load() {
    taskset -c 1 wrk -t1 -c50 -d"$duration" "http://127.0.0.1:$1/" |
        awk '/^Requests\/sec:/ { print $2 }'
}

run_ours() { # $1: extra serve flags
    taskset -c 0 "$cli" serve --port "$port_ours" --workers 1 $1 >"$work/ours.log" 2>&1 &
    local pid=$!
    pids+=("$pid")
    wait_for_port "$port_ours"
    load "$port_ours"
    kill -INT "$pid"
    wait "$pid" || true
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
    server {
        listen 127.0.0.1:$port_nginx;
        location / { return 200 "hello from nginx\n"; }
    }
}
CONF

ours_on=$(run_ours "")
echo "bench http/taskscope_trace_on $ours_on req/s"
ours_off=$(run_ours "--no-trace")
echo "bench http/taskscope_trace_off $ours_off req/s"

nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
taskset -c 0 "$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" &
pids+=("$!")
wait_for_port "$port_nginx"
theirs=$(load "$port_nginx")
echo "bench http/nginx $theirs req/s"

awk -v a="$ours_on" -v b="$theirs" 'BEGIN { printf "ratio http ours/nginx %.2f\n", a / b }'
awk -v a="$ours_off" -v b="$theirs" 'BEGIN { printf "ratio http_trace_off ours/nginx %.2f\n", a / b }'
