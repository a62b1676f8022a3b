# Shell helpers every benchmark in test/bench/ shares, sourced at the top of
# run.sh and bench_*.sh (the functions call the script's say and die).
# shellcheck shell=bash

# need_value OPTION VALUE: dies unless the option got a non-empty value
need_value() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }
# is_uint N: N is a positive integer
is_uint() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -gt 0 ]; }

# alive PID: running and not a zombie
alive() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    [ "${s%% *}" != Z ]
}

# free_ports N: N free TCP ports on 127.0.0.1
free_ports() {
    "$PYTHON" - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# cpu_ticks PID: utime+stime (clock ticks) of PID and its children, plus the
# children PID has already reaped (its cutime+cstime).
cpu_ticks() {
    local root=$1 total=0 p line f
    for p in "$root" $(pgrep -P "$root" 2>/dev/null || true); do
        line=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        # shellcheck disable=SC2206
        f=(${line##*) })          # f[0] is field 3 (state)
        total=$((total + f[11] + f[12]))
        if [ "$p" = "$root" ]; then
            total=$((total + f[13] + f[14]))
        fi
    done
    echo "$total"
}

# wait_http URL PID NAME [SECONDS]: until URL answers anything (15 s)
wait_http() {
    local url=$1 pid=$2 name=$3 secs=${4:-15} i code
    for ((i = 0; i < secs * 10; i++)); do
        alive "$pid" || return 1
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" 2>/dev/null || true)
        [ -n "$code" ] && [ "$code" != 000 ] && return 0
        sleep 0.1
    done
    say "$name did not answer $url within $secs s"
    return 1
}

# The httpd of the overhead benchmarks (bench_breaker, bench_policy,
# bench_ratelimit, bench_suspend: a path with a policy against the same
# path without it, 0.97 targets): one worker process of 64 threads. On a
# 2-core machine two processes of 128 threads make back-to-back runs of one
# and the same path differ by up to 30 % (a plain ProxyPass against itself,
# measured: 0.78..1.39 per pair), which hides a 3 % effect; one process
# keeps a pair within about 5 %. APIGW_SERVERS/APIGW_THREADS override.
OVERHEAD_SERVERS=${APIGW_SERVERS:-1}
OVERHEAD_THREADS=${APIGW_THREADS:-64}

# ---- the overhead benchmarks (bench_breaker, bench_policy, bench_ratelimit,
# bench_suspend): one nginx backend, one httpd, wrk. run.sh and
# bench_aggregate.sh define their own versions of some of these names.
#
# What the caller sets before using them: bench_setup NAME (BENCH, TOP,
# HERE, PYTHON, OUT, HTTPD_BIN, NGINX_BIN), the options' variables
# (ROUNDS DURATION WARMUP CONNECTIONS REQUESTS QUICK STRICT CALLGRIND, read
# by parse_options and set_defaults), say, die and usage, CLK_TCK, the
# associative array URL (path key -> URL), HTTPD_PORT, and the process
# variables WORK BACKEND_PID HTTPD_PID WRK_PID HTTPD_RUN HTTPD_STARTS=0.
# Optional: WRK_HEADERS (array: extra -H arguments for wrk), HTTPD_LOG_AS
# (a fixed name for the copy of httpd's error log in $OUT/logs/; default
# httpd-N-error.log per start), ITEM_JSON (the backend's one file), and a
# function cleanup_hook (run by cleanup between httpd and the backend) and
# a function bench_option (an option of its own, see parse_options).

# The backend's one static JSON file (every path answers it).
ITEM_JSON='{"id":42,"name":"Widget","description":"A sample item from one static file","price":{"amount":1999,"currency":"EUR"},"tags":["bench","static","json"],"stock":17,"updated":"2026-11-22T00:00:00Z"}'

# bench_setup NAME: BENCH=NAME, TOP, HERE, PYTHON, OUT=build/bench/NAME,
# HTTPD_BIN and NGINX_BIN (the environment may name others)
bench_setup() {
    BENCH=$1
    TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    HERE=$TOP/test/bench
    PYTHON=/usr/bin/python3
    OUT=$TOP/build/bench/$1
    HTTPD_BIN=${HTTPD_BIN:-/usr/sbin/apache2}
    NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
}

# parse_options ARG...: the options every overhead benchmark takes; any
# other goes to the caller's bench_option ARG... if defined, which sets
# SHIFT (how many words it took) or fails (unknown option)
# shellcheck disable=SC2034  # STRICT and the others are the caller's
parse_options() {
    while [ $# -gt 0 ]; do
        case "$1" in
            --rounds) need_value "$@"; ROUNDS=$2; shift 2 ;;
            --duration) need_value "$@"; DURATION=${2%s}; shift 2 ;;
            --connections) need_value "$@"; CONNECTIONS=$2; shift 2 ;;
            --warmup) need_value "$@"; WARMUP=${2%s}; shift 2 ;;
            --requests) need_value "$@"; REQUESTS=$2; shift 2 ;;
            --quick) QUICK=1; shift ;;
            --strict) STRICT=1; shift ;;
            --callgrind) CALLGRIND=1; shift ;;
            -h|--help) usage; exit 0 ;;
            *)
                if declare -F bench_option >/dev/null && bench_option "$@"; then
                    shift "$SHIFT"
                else
                    usage >&2
                    die "unknown option: $1"
                fi ;;
        esac
    done
}

# set_defaults QUICK-ROUNDS QUICK-DURATION ROUNDS DURATION: what an option
# left empty gets (--quick: the first two; warm-up 1 s with --quick, else 2)
set_defaults() {
    if [ "$QUICK" = 1 ]; then
        ROUNDS=${ROUNDS:-$1} DURATION=${DURATION:-$2} WARMUP=${WARMUP:-1}
    fi
    ROUNDS=${ROUNDS:-$3} DURATION=${DURATION:-$4} WARMUP=${WARMUP:-2}
}

# check_options: dies on a bad option value or a missing tool
check_options() {
    local tool
    is_uint "$ROUNDS" || die "--rounds must be a positive integer"
    is_uint "$DURATION" || die "--duration must be a positive number of seconds"
    is_uint "$CONNECTIONS" || die "--connections must be a positive integer"
    [[ $WARMUP =~ ^[0-9]+$ ]] || die "--warmup must be a number of seconds"
    is_uint "$REQUESTS" || die "--requests must be a positive integer"
    if [ "$CALLGRIND" = 1 ]; then
        command -v valgrind >/dev/null 2>&1 && command -v callgrind_annotate >/dev/null 2>&1 \
            || die "--callgrind needs valgrind: apt-get install -y valgrind"
    fi
    for tool in "$NGINX_BIN" wrk curl "$HTTPD_BIN"; do
        command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: ./apxs-build.sh deps"
    done
}

# check_modules: sets MODULE_SRC; dies unless the three modules are built
check_modules() {
    local m
    MODULE_SRC=${APIGW_MODULE_DIR:-$TOP/build}
    for m in mod_apigw mod_apigw_ratelimit mod_apigw_breaker; do
        [ -f "$MODULE_SRC/$m.so" ] || die "no $MODULE_SRC/$m.so: run ./apxs-build.sh build"
    done
}

# make_work TAG: WORK=/dev/shm (or /tmp)/apigw-bench-TAG.XXXXXX with a
# private copy of the modules (a rebuild cannot change them mid-run)
make_work() {
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then
        WORK=$(mktemp -d "/dev/shm/apigw-bench-$1.XXXXXX")
    else
        WORK=$(mktemp -d "/tmp/apigw-bench-$1.XXXXXX")
    fi
    chmod 755 "$WORK"
    mkdir -p "$WORK/modules"
    cp "$MODULE_SRC"/mod_apigw*.so "$WORK/modules/"
}

# stop PID NAME [SECONDS]: SIGTERM, wait (10 s), SIGKILL if it will not go
stop() {
    local pid=$1 name=$2 secs=${3:-10} i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 10; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        say "$name ($pid) ignored SIGTERM; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# stop_tree PID NAME PROGRAM [SECONDS]: stop PID, then SIGKILL whichever of
# its children (running PROGRAM) outlived it
stop_tree() {
    local pid=$1 kids i k left
    [ -n "$pid" ] || return 0
    kids=$(pgrep -P "$pid" 2>/dev/null | tr '\n' ' ' || true)
    stop "$pid" "$2" "${4:-10}"
    for ((i = 0; i < 30; i++)); do
        left=""
        for k in $kids; do alive "$k" && left+="$k "; done
        [ -z "$left" ] && break
        sleep 0.1
    done
    for k in $kids; do
        # only our own leftovers: same program, now orphaned
        if alive "$k" && [ "$(cat "/proc/$k/comm" 2>/dev/null)" = "$(basename "$3")" ]; then
            kill -KILL "$k" 2>/dev/null || true
        fi
    done
}

# stop_httpd: stops HTTPD_PID (120 s under callgrind), keeps its error log
stop_httpd() {
    [ -n "$HTTPD_PID" ] || return 0
    stop "$HTTPD_PID" httpd "$([ "$CALLGRIND" = 1 ] && echo 120 || echo 10)"
    HTTPD_PID=""
    if [ -n "$HTTPD_RUN" ] && [ -s "$HTTPD_RUN/error.log" ]; then
        mkdir -p "$OUT/logs"
        cp "$HTTPD_RUN/error.log" \
            "$OUT/logs/${HTTPD_LOG_AS:-$(basename "$HTTPD_RUN")-error.log}" || true
    fi
}

# cleanup: the EXIT trap: stops wrk, httpd, cleanup_hook, the backend; rm -rf WORK
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$WRK_PID" ]; then
        kill -TERM "$WRK_PID" 2>/dev/null || true
        wait "$WRK_PID" 2>/dev/null || true
    fi
    stop_httpd
    if declare -F cleanup_hook >/dev/null; then cleanup_hook; fi
    stop "$BACKEND_PID" "nginx backend"
    [ -n "$WORK" ] && [ -d "$WORK" ] && rm -rf "$WORK"
    exit "$rc"
}

# bench_traps: cleanup on exit; SIGINT/SIGTERM exit 130/143 through it
bench_traps() {
    trap cleanup EXIT
    trap 'say interrupted; exit 130' INT
    trap 'say terminated; exit 143' TERM
}

# nginx_common DIR WORKERS COMMENT: the head of every benchmark's nginx
# config (no access log, temp files under DIR/tmp); the http block stays
# open for the caller's keepalive_timeout and servers.
nginx_common() {
    cat <<EOF
# $3
daemon off;
master_process on;
worker_processes $2;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $1/tmp/body;
    proxy_temp_path $1/tmp/proxy;
    fastcgi_temp_path $1/tmp/fastcgi;
    uwsgi_temp_path $1/tmp/uwsgi;
    scgi_temp_path $1/tmp/scgi;
    keepalive_requests 1000000;
    server_tokens off;
EOF
}

# start_backend PORT...: nginx (one worker) serving ITEM_JSON at /items/
# on each PORT; sets BACKEND_PID, dies unless it answers
start_backend() {
    local dir=$WORK/backend port listen=""
    for port in "$@"; do
        listen+="        listen 127.0.0.1:$port;"$'\n'
    done
    mkdir -p "$dir/html" "$dir/tmp"
    printf '%s\n' "$ITEM_JSON" > "$dir/html/item.json"
    {
        nginx_common "$dir" 1 "$BENCH benchmark backend: one worker, one static JSON file"
        cat <<EOF
    keepalive_timeout 65;
    server {
${listen}        root $dir/html;
        default_type application/json;
        location /items/ { try_files /item.json =404; }
    }
}
EOF
    } > "$dir/nginx.conf"
    "$NGINX_BIN" -t -q -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" \
        || die "the backend's nginx config has errors"
    "$NGINX_BIN" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/out.log" 2>&1 &
    BACKEND_PID=$!
    wait_http "http://127.0.0.1:$1/items/42" "$BACKEND_PID" "nginx backend" \
        || die "the nginx backend did not start"
}

# start_httpd [callgrind]: httpd on $WORK/gateway.conf through
# `apxs-build.sh run`, access log to /dev/null; with callgrind, one process
# (-X) under valgrind instead, with a real access log (it counts requests)
start_httpd() {
    local bin=$HTTPD_BIN wait=15
    HTTPD_STARTS=$((HTTPD_STARTS + 1))
    HTTPD_RUN=$WORK/httpd-$HTTPD_STARTS
    mkdir -p "$HTTPD_RUN"
    if [ "${1:-}" = callgrind ]; then
        bin=$WORK/httpd-callgrind.sh wait=120
    else
        ln -s /dev/null "$HTTPD_RUN/access.log"
    fi
    # setsid: its own process group, so its shutdown signals reach only it
    HTTPD_BIN=$bin APIGW_RUN_DIR=$HTTPD_RUN APIGW_MODULE_DIR=$WORK/modules ASAN=0 \
    APIGW_MPM=${APIGW_MPM:-worker} APIGW_SERVERS=$OVERHEAD_SERVERS \
    APIGW_THREADS=$OVERHEAD_THREADS APIGW_LOGLEVEL=warn \
        setsid "$TOP/apxs-build.sh" run "$WORK/gateway.conf" >"$HTTPD_RUN.out" 2>&1 &
    HTTPD_PID=$!
    if ! wait_http "http://127.0.0.1:$HTTPD_PORT/" "$HTTPD_PID" httpd "$wait"; then
        cat "$HTTPD_RUN.out" >&2 || true
        tail -n 20 "$HTTPD_RUN/error.log" >&2 2>/dev/null || true
        die "httpd did not start"
    fi
}

# run_wrk KEY ROUND OUT: wrk on URL[KEY] for DURATION, httpd's CPU around
# it; appends the parsed run to $WORK/runs.jsonl and prints one line
run_wrk() {
    local key=$1 round=$2 out=$3 before after rc=0 line
    before=$(cpu_ticks "$HTTPD_PID")
    timeout -k 5 $((DURATION + 30)) wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" \
        ${WRK_HEADERS[@]+"${WRK_HEADERS[@]}"} --latency "${URL[$key]}" >"$out" 2>&1 &
    WRK_PID=$!
    wait "$WRK_PID" || rc=$?
    WRK_PID=""
    after=$(cpu_ticks "$HTTPD_PID")
    [ "$rc" = 0 ] || { cat "$out" >&2; die "wrk on ${URL[$key]} failed (exit $rc)"; }
    line=$("$PYTHON" "$HERE/wrkparse.py" "$out" round="$round" path="$key" \
        server_cpu_ticks=$((after - before)) clk_tck="$CLK_TCK") \
        || { cat "$out" >&2; die "cannot read the wrk report $out"; }
    printf '%s\n' "$line" >> "$WORK/runs.jsonl"
    "$PYTHON" - "$line" "bench-$BENCH" <<'EOF' >&2
import json, sys
r = json.loads(sys.argv[1])
cpu = r["server_cpu_ticks"] / float(r["clk_tck"]) * 1e6 / max(r["requests"], 1)
err = r["non2xx"] + r["socket_errors"]
print("%s:   %-3s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  cpu %5.1f us/req%s"
      % (sys.argv[2], r["path"], r["rps"], r["p50_ms"], r["p99_ms"], cpu,
         "  ERRORS %d" % err if err else ""))
EOF
}

# warm_up KEY: unrecorded wrk load on URL[KEY] for WARMUP seconds
warm_up() {
    [ "$WARMUP" -gt 0 ] || return 0
    timeout -k 5 $((WARMUP + 30)) wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" \
        ${WRK_HEADERS[@]+"${WRK_HEADERS[@]}"} "${URL[$1]}" >"$WORK/warmup.out" 2>&1 \
        || { cat "$WORK/warmup.out" >&2; die "warm-up of ${URL[$1]} failed"; }
}

# write_callgrind_wrapper: $WORK/httpd-callgrind.sh, the HTTPD_BIN of start_httpd callgrind
write_callgrind_wrapper() {
    local real
    real=$(readlink -f "$HTTPD_BIN")
    {
        echo '#!/bin/sh'
        echo "# generated by $(basename "$0") --callgrind: configtest runs httpd as"
        echo '# is; the server runs as one process (-X) under callgrind, counting only'
        echo '# inside ap_process_request, i.e. per request.'
        echo 'for a in "$@"; do [ "$a" = -t ] && exec '"\"$real\""' "$@"; done'
        echo 'exec valgrind --tool=callgrind --collect-atstart=no \'
        echo '    --toggle-collect=ap_process_request --callgrind-out-file="$CG_OUT" \'
        echo '    '"\"$real\""' "$@" -X'
    } > "$WORK/httpd-callgrind.sh"
    chmod 755 "$WORK/httpd-callgrind.sh"
}

# cg_begin KEY [MORE]: CG_OUT for path KEY, then httpd under callgrind
cg_begin() {
    export CG_OUT=$WORK/callgrind.$1.out
    : > "$CG_OUT"
    # httpd drops to its User before callgrind writes the profile
    if [ "$(id -u)" = 0 ]; then
        chown "${APIGW_USER:-www-data}" "$CG_OUT"
    fi
    say "callgrind: path $1, $REQUESTS requests${2:-}"
    start_httpd callgrind
}

# cg_requests KEY URL [CURL-ARG...]: REQUESTS sequential requests on one
# connection (URL holds curl's [1-N] range); dies unless all are 200
cg_requests() {
    curl -s "${@:3}" -o /dev/null -w '%{http_code}\n' "$2" | sort | uniq -c > "$WORK/codes"
    [ "$(tr -s ' ' < "$WORK/codes")" = " $REQUESTS 200" ] \
        || die "path $1: not all 200: $(cat "$WORK/codes")"
}

# cg_end KEY: stops httpd; appends "KEY total-instructions requests" to
# $WORK/cg.txt and keeps the profile in $OUT/callgrind/
cg_end() {
    local n total
    stop_httpd
    n=$(wc -l < "$HTTPD_RUN/access.log")
    total=$(callgrind_annotate "$CG_OUT" 2>/dev/null \
        | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
    [ -n "$total" ] || die "no callgrind totals for path $1"
    cp "$CG_OUT" "$OUT/callgrind/"
    echo "$1 $total $n" >> "$WORK/cg.txt"
    unset CG_OUT
}
