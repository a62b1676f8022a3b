#!/usr/bin/env bash
# Owns the aggregation benchmark (`./apxs-build.sh bench aggregate`), the
# figures of issue 3, measured in one run against one httpd:
#   1. latency: an <ApiEndpoint> with three backends that each answer after
#      50 ms (test/backends/backend.py, one process per backend, run with
#      TCP_NODELAY): p50, p90, p99 of sequential requests after warm-up;
#      target p50 <= 60 ms;
#   2. throughput: a two-backend aggregation of small JSON files (agg)
#      against a single-backend pass-through endpoint (one) and a plain
#      ProxyPass (pp), backends = one nginx serving static JSON on two
#      ports; wrk alternates the paths for several rounds; medians, the
#      ratio agg/one (target >= 0.45), agg/pp, CPU per request;
#   3. connections opened to the backends (nginx's $connection counter)
#      and threads created in httpd during the measured runs: none once warm.
# Everything it starts listens on 127.0.0.1 (free ports) and is stopped on
# exit; results go to build/bench/aggregate/ (results.json, raw/, logs/).
# bench_aggregate.py does the measuring and the report.
set -euo pipefail

# shared helpers: need_value, is_uint, alive, free_ports, cpu_ticks, wait_http
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$TOP/test/bench
PYTHON=/usr/bin/python3
HELPER=$HERE/bench_aggregate.py
OUT=$TOP/build/bench/aggregate
HTTPD_BIN=${HTTPD_BIN:-/usr/sbin/apache2}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
TARGET_P50=60
TARGET_RATIO=0.45
DELAY_MS=50

ROUNDS="" DURATION="" WARMUP="" LAT_REQUESTS="" CONNECTIONS=50
QUICK=0 STRICT=0

usage() {
    cat <<'EOF'
usage: test/bench/bench_aggregate.sh [options]  (or ./apxs-build.sh bench aggregate [options])

  --rounds N        throughput rounds of pp, one, agg (default 5)
  --duration S      seconds per wrk run (default 10)
  --warmup S        seconds of unrecorded wrk load per path (default 2)
  --connections C   wrk connections (default 50; one wrk thread)
  --requests N      sequential requests per latency path (default 300)
  --quick           --rounds 3 --duration 5 --warmup 1 --requests 150
                    (explicit values still win)
  --strict          exit 1 when a target is missed (default: print FAIL,
                    exit 0)
  -h, --help        this text

Latency (backend.py x 3 with TCP_NODELAY, each answering after 50 ms; one
keep-alive client per path, the paths interleaved):
  direct  a backend itself
  one     <ApiEndpoint> with one of them (mod_proxy pass-through)
  agg     <ApiEndpoint> with all three (concurrent, merged)  target p50 <= 60 ms
  seq     the same with ApiSequential On (reference, ~150 ms; fewer requests)
Throughput (one nginx worker, static JSON files a.json and b.json on two ports):
  pp      ProxyPass /pp/ -> a.json
  one     <ApiEndpoint "/one/{id}"> one ApiBackend -> a.json (pass-through)
  agg     <ApiEndpoint "/agg/{id}"> two ApiBackends -> a.json + b.json merged
          target agg/one >= 0.45
httpd uses APIGW_MPM/APIGW_SERVERS/APIGW_THREADS (default worker 2x128) and
the modules in APIGW_MODULE_DIR (default build/), as `apxs-build.sh run` does.
EOF
}

say() { printf 'bench-aggregate: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) need_value "$@"; ROUNDS=$2; shift 2 ;;
        --rounds=*) ROUNDS=${1#*=}; shift ;;
        --duration) need_value "$@"; DURATION=${2%s}; shift 2 ;;
        --duration=*) DURATION=${1#*=}; DURATION=${DURATION%s}; shift ;;
        --warmup) need_value "$@"; WARMUP=${2%s}; shift 2 ;;
        --warmup=*) WARMUP=${1#*=}; WARMUP=${WARMUP%s}; shift ;;
        --connections) need_value "$@"; CONNECTIONS=$2; shift 2 ;;
        --connections=*) CONNECTIONS=${1#*=}; shift ;;
        --requests) need_value "$@"; LAT_REQUESTS=$2; shift 2 ;;
        --requests=*) LAT_REQUESTS=${1#*=}; shift ;;
        --quick) QUICK=1; shift ;;
        --strict) STRICT=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done
if [ "$QUICK" = 1 ]; then
    ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-5} WARMUP=${WARMUP:-1}
    LAT_REQUESTS=${LAT_REQUESTS:-150}
fi
ROUNDS=${ROUNDS:-5} DURATION=${DURATION:-10} WARMUP=${WARMUP:-2}
LAT_REQUESTS=${LAT_REQUESTS:-300}
is_uint "$ROUNDS" || die "--rounds must be a positive integer"
is_uint "$DURATION" || die "--duration must be a positive number of seconds"
is_uint "$CONNECTIONS" || die "--connections must be a positive integer"
is_uint "$LAT_REQUESTS" || die "--requests must be a positive integer"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "--warmup must be a number of seconds"
LAT_WARMUP=20
LAT_BLOCKS=5
SEQ_REQUESTS=$(( LAT_REQUESTS / 5 < 20 ? 20 : LAT_REQUESTS / 5 ))

# ---- tools ----

ensure_tools() {
    local missing=() p
    command -v "$NGINX_BIN" >/dev/null 2>&1 || missing+=(nginx-light)
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    command -v ss >/dev/null 2>&1 || missing+=(iproute2)
    command -v "$HTTPD_BIN" >/dev/null 2>&1 || missing+=(apache2)
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" = 0 ] || die "missing: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}"
    say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
    # Debian starts the stock services on install; this benchmark runs its own.
    for p in nginx apache2; do
        service "$p" stop >/dev/null 2>&1 || true
    done
}

# ---- processes: everything started is tracked and stopped on exit ----

WORK="" HTTPD_PID="" HTTPD_RUN="" NGINX_PID="" WRK_PID="" SAMPLER_PID="" MEASURE_PID=""
LAT_PIDS=() WATCHDOGS=()

# watch PID: a watchdog in its own session stops PID once this script is
# gone, even when it was SIGKILLed (and ends by itself with PID).
watch() {
    # shellcheck disable=SC2016
    setsid sh -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do
                      sleep 1; done; kill -TERM "$2" 2>/dev/null' \
        watchdog "$$" "$1" >/dev/null 2>&1 &
    WATCHDOGS+=($!)
}

cleanup() {
    local rc=$? p
    trap - EXIT INT TERM
    for p in "$WRK_PID" "$SAMPLER_PID" "$MEASURE_PID"; do
        [ -n "$p" ] || continue
        kill -TERM "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    stop_tree "$HTTPD_PID" httpd "$HTTPD_BIN"
    stop_tree "$NGINX_PID" "nginx backend" "$NGINX_BIN"
    for p in "${LAT_PIDS[@]+"${LAT_PIDS[@]}"}"; do
        stop_tree "$p" "backend.py" python3
    done
    for p in "${WATCHDOGS[@]+"${WATCHDOGS[@]}"}"; do
        kill -TERM -- "-$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        mkdir -p "$OUT/logs"
        [ -n "$HTTPD_RUN" ] && [ -s "$HTTPD_RUN/error.log" ] \
            && { cp "$HTTPD_RUN/error.log" "$OUT/logs/httpd-error.log" || true; }
        if [ -s "$WORK/nginx/error.log" ]; then
            cp "$WORK/nginx/error.log" "$OUT/logs/nginx-error.log" || true
        fi
        for p in "$WORK"/lat-*.log; do
            if [ -s "$p" ]; then cp "$p" "$OUT/logs/" || true; fi
        done
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM

# ---- helpers ----

# check_path NAME URL EXPECT LOG: 200 with the expected JSON, or die
check_path() {
    local name=$1 url=$2 expect=$3 log=$4
    if ! "$PYTHON" "$HELPER" check "$url" "$expect" 2>"$WORK/check.err"; then
        say "check failed for $name: $(cat "$WORK/check.err")"
        if [ -n "$log" ] && [ -s "$log" ]; then
            say "last lines of $log:"
            tail -n 20 "$log" >&2 || true
        fi
        if grep -q 'status 501' "$WORK/check.err"; then
            die "$name answers 501: this build of mod_apigw does not aggregate yet; not measuring"
        fi
        die "$name does not answer 200 with the expected JSON; not measuring"
    fi
}

# ---- latency backends: backend.py, one process per backend ----

# start_latency_backend NAME: sets START_PORT
start_latency_backend() {
    local name=$1 log=$WORK/lat-$1.log pid i port=""
    # with TCP_NODELAY (see bench_aggregate.py backend)
    "$PYTHON" "$HELPER" backend "$TOP/test/backends/backend.py" --port 0 --name "$name" \
        >"$log" 2>&1 &
    pid=$!
    LAT_PIDS+=("$pid")
    watch "$pid"
    for ((i = 0; i < 100; i++)); do
        port=$(sed -n 's/^PORT \([0-9][0-9]*\)$/\1/p' "$log" | head -n 1)
        [ -n "$port" ] && break
        alive "$pid" || break
        sleep 0.1
    done
    [ -n "$port" ] || { cat "$log" >&2; die "backend.py $name did not start"; }
    START_PORT=$port
}

# json_file PATH JSON: a compact JSON file, no newline; prints nothing
json_file() {
    "$PYTHON" -c 'import json, sys
doc = json.loads(sys.argv[2])
open(sys.argv[1], "w").write(json.dumps(doc, separators=(",", ":")))' "$1" "$2"
}

# reply_url PORT FILE: the backend.py URL answering FILE after DELAY_MS
reply_url() {
    "$PYTHON" -c 'import sys
from urllib.parse import quote
print("http://127.0.0.1:%s/__reply/200/%s/%s"
      % (sys.argv[1], sys.argv[2], quote(open(sys.argv[3]).read(), safe="")))' \
        "$1" "$DELAY_MS" "$2"
}

# ---- the nginx backend of the throughput part ----

write_nginx() {
    local dir=$WORK/nginx
    mkdir -p "$dir/html" "$dir/tmp"
    json_file "$dir/html/a.json" \
        '{"id":42,"name":"Widget","description":"A sample item","price":{"amount":1999,"currency":"EUR"},"tags":["bench","json"]}'
    json_file "$dir/html/b.json" \
        '{"stock":17,"warehouse":{"city":"Oslo","bin":"A-17"},"updated":"2026-11-22T00:00:00Z","reviews":[4,5,5]}'
    {
        nginx_common "$dir" 1 "aggregation benchmark backend: one worker, two ports each serving one small static JSON file; /__conn tells nginx's connection counter, from which the script counts the connections opened during a run"
        cat <<EOF
    keepalive_timeout 120;
    default_type application/json;
    server {
        listen 127.0.0.1:$NG_PORT_A;
        root $dir/html;
        location /a/ { try_files /a.json =404; }
        location = /__conn { return 200 "\$connection\n"; }
    }
    server {
        listen 127.0.0.1:$NG_PORT_B;
        root $dir/html;
        location /b/ { try_files /b.json =404; }
    }
}
EOF
    } > "$dir/nginx.conf"
}

start_nginx() {
    local dir=$WORK/nginx
    "$NGINX_BIN" -t -q -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" \
        || die "nginx: the generated config has errors ($dir/nginx.conf)"
    "$NGINX_BIN" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/stdout.log" 2>&1 &
    NGINX_PID=$!
    watch "$NGINX_PID"
    wait_http "http://127.0.0.1:$NG_PORT_A/__conn" "$NGINX_PID" "nginx" \
        || { cat "$dir/stdout.log" "$dir/error.log" >&2 2>/dev/null; die "nginx did not start"; }
}

# nginx's connection counter; the probe's own connection is counted too
conn_counter() {
    local n
    n=$(curl -s --max-time 5 "http://127.0.0.1:$NG_PORT_A/__conn" 2>/dev/null || true)
    [[ $n =~ ^[0-9]+$ ]] || die "nginx's /__conn answered '$n'"
    echo "$n"
}

# established connections to the nginx backend's two ports, or to port b
# only (which only the aggregated path's libcurl clients use)
established() {
    local filter="( dport = :$NG_PORT_A or dport = :$NG_PORT_B )"
    [ "${1:-}" = b ] && filter="( dport = :$NG_PORT_B )"
    ss -Htn state established "$filter" 2>/dev/null | wc -l
}

# ---- httpd ----

write_gateway_conf() {
    local lat_one=$1 lat2=$2 lat3=$3
    cat > "$WORK/gateway.conf" <<EOF
# aggregation benchmark gateway
Listen 127.0.0.1:$HTTPD_PORT

# throughput: plain mod_proxy, a pass-through endpoint, a two-backend
# aggregation, all on the nginx backend
ProxyPass /pp/ http://127.0.0.1:$NG_PORT_A/a/

<ApiEndpoint "/one/{id}" GET>
    ApiBackend http://127.0.0.1:$NG_PORT_A/a/{id}
</ApiEndpoint>

<ApiEndpoint "/agg/{id}" GET>
    ApiBackend http://127.0.0.1:$NG_PORT_A/a/{id}
    ApiBackend http://127.0.0.1:$NG_PORT_B/b/{id}
</ApiEndpoint>

# latency: backend.py processes answering after $DELAY_MS ms
<ApiEndpoint "/lat/one" GET>
    ApiBackend $lat_one
</ApiEndpoint>

<ApiEndpoint "/lat/agg" GET>
    ApiBackend $lat_one
    ApiBackend $lat2
    ApiBackend $lat3
</ApiEndpoint>

<ApiEndpoint "/lat/seq" GET>
    ApiSequential On
    ApiBackend $lat_one
    ApiBackend $lat2
    ApiBackend $lat3
</ApiEndpoint>
EOF
}

# httpd through `apxs-build.sh run`, the access log pointed at /dev/null.
# setsid: its own process group (the prefork MPM signals its whole group on
# shutdown); without job control setsid does not fork, so $! is the pid
# apxs-build.sh execs httpd into.
start_httpd() {
    HTTPD_RUN=$WORK/httpd
    mkdir -p "$HTTPD_RUN"
    ln -s /dev/null "$HTTPD_RUN/access.log"
    HTTPD_BIN=$HTTPD_BIN APIGW_RUN_DIR=$HTTPD_RUN APIGW_MODULE_DIR=$WORK/modules ASAN=0 \
    APIGW_MPM=$MAIN_MPM APIGW_SERVERS=$MAIN_SERVERS APIGW_THREADS=$MAIN_THREADS \
    APIGW_LOGLEVEL=${APIGW_LOGLEVEL:-warn} \
        setsid "$TOP/apxs-build.sh" run "$WORK/gateway.conf" >"$WORK/httpd.out" 2>&1 &
    HTTPD_PID=$!
    watch "$HTTPD_PID"
    if ! wait_http "http://127.0.0.1:$HTTPD_PORT/" "$HTTPD_PID" httpd; then
        cat "$WORK/httpd.out" >&2 || true
        tail -n 20 "$HTTPD_RUN/error.log" >&2 2>/dev/null || true
        die "httpd did not start"
    fi
    [ "$(readlink "/proc/$HTTPD_PID/exe" 2>/dev/null)" = "$(readlink -f "$HTTPD_BIN")" ] \
        || die "pid $HTTPD_PID is not $HTTPD_BIN"
}

# ---- throughput runs ----

declare -A URL LABEL CALLS

# run_wrk KEY ROUND: one recorded run, with CPU ticks, backend connections
# opened and established, and threads created in httpd
run_wrk() {
    local key=$1 round=$2 out=$OUT/raw/$1-r$2.txt hb ha nb na cb ca eb ea eab rc=0 line
    eb=$(established)
    cb=$(conn_counter)
    hb=$(cpu_ticks "$HTTPD_PID") nb=$(cpu_ticks "$NGINX_PID")
    "$PYTHON" "$HELPER" threads --pid "$HTTPD_PID" --seconds "$DURATION" \
        --out "$WORK/threads.json" &
    SAMPLER_PID=$!
    timeout -k 5 $((DURATION + 30)) wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" \
        --latency "${URL[$key]}" >"$out" 2>&1 &
    WRK_PID=$!
    wait "$WRK_PID" || rc=$?
    WRK_PID=""
    ha=$(cpu_ticks "$HTTPD_PID") na=$(cpu_ticks "$NGINX_PID")
    wait "$SAMPLER_PID" || die "the thread sampler failed"
    SAMPLER_PID=""
    ca=$(conn_counter)
    ea=$(established) eab=$(established b)
    [ "$rc" = 0 ] || { cat "$out" >&2; die "wrk on ${URL[$key]} failed (exit $rc)"; }
    line=$("$PYTHON" "$HERE/wrkparse.py" "$out" round="$round" path="$key" \
        backend_calls="${CALLS[$key]}" httpd_cpu_ticks=$((ha - hb)) \
        backend_cpu_ticks=$((na - nb)) clk_tck="$CLK_TCK" \
        conn_opened=$((ca - cb - 1)) established_before="$eb" established_after="$ea" \
        established_after_b="$eab" \
        new_threads="$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["new_threads"])' "$WORK/threads.json")") \
        || { cat "$out" >&2; die "cannot read the wrk report $out"; }
    printf '%s\n' "$line" >> "$WORK/runs.jsonl"
    "$PYTHON" - "$line" <<'EOF' >&2
import json, sys
r = json.loads(sys.argv[1])
us = lambda t: t / float(r["clk_tck"]) * 1e6 / max(r["requests"], 1)
err = r["non2xx"] + r["socket_errors"]
print("bench-aggregate:   %-3s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  httpd %5.0f us/req"
      "  nginx %4.0f us/req  backend conns opened %d, open %d%s%s"
      % (r["path"], r["rps"], r["p50_ms"], r["p99_ms"], us(r["httpd_cpu_ticks"]),
         us(r["backend_cpu_ticks"]), r["conn_opened"], r["established_after"],
         "  new threads %d" % r["new_threads"] if r["new_threads"] else "",
         "  ERRORS %d" % err if err else ""))
EOF
}

warm_up() {
    local key=$1
    [ "$WARMUP" -gt 0 ] || return 0
    timeout -k 5 $((WARMUP + 30)) wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" \
        "${URL[$key]}" >"$WORK/warmup.out" 2>&1 &
    WRK_PID=$!
    wait "$WRK_PID" || { WRK_PID=""; cat "$WORK/warmup.out" >&2; die "warm-up of ${URL[$key]} failed"; }
    WRK_PID=""
}

# ---- main ----

ensure_tools
CLK_TCK=$(getconf CLK_TCK)
MAIN_MPM=${APIGW_MPM:-worker}
MAIN_SERVERS=${APIGW_SERVERS:-2}
MAIN_THREADS=${APIGW_THREADS:-128}
MODULE_SRC=${APIGW_MODULE_DIR:-$TOP/build}
for m in mod_apigw mod_apigw_ratelimit mod_apigw_breaker; do
    [ -f "$MODULE_SRC/$m.so" ] || die "no $MODULE_SRC/$m.so: run ./apxs-build.sh build (or ./apxs-build.sh bench aggregate)"
done

if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    WORK=$(mktemp -d /dev/shm/apigw-bench-agg.XXXXXX)
else
    WORK=$(mktemp -d /tmp/apigw-bench-agg.XXXXXX)
fi
chmod 755 "$WORK"
# A private copy of the modules: a rebuild during the run cannot change them.
mkdir -p "$WORK/modules"
cp "$MODULE_SRC"/mod_apigw*.so "$WORK/modules/"
rm -rf "$OUT/raw" "$OUT/logs"
mkdir -p "$OUT/raw"

read -r NG_PORT_A NG_PORT_B HTTPD_PORT <<<"$(free_ports 3)"
est=$(( ((3 * LAT_REQUESTS + 3 * LAT_WARMUP) * (DELAY_MS + 5)
         + (SEQ_REQUESTS + LAT_WARMUP) * (3 * DELAY_MS + 15)) / 1000
        + 3 * (WARMUP + 1) + 3 * ROUNDS * (DURATION + 2) + 10 ))
say "latency: $LAT_REQUESTS sequential requests per path (seq: $SEQ_REQUESTS); throughput: $ROUNDS rounds x ${DURATION}s, -c$CONNECTIONS, warm-up ${WARMUP}s; about $((est / 60))m$((est % 60))s"
say "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs (a shared machine: other jobs may run; the figures are medians)"

# the servers
json_file "$WORK/lat1.json" '{"profile":{"id":1,"name":"ann"}}'
json_file "$WORK/lat2.json" '{"orders":[{"id":10,"total":12.5},{"id":11,"total":3}]}'
json_file "$WORK/lat3.json" '{"settings":{"lang":"en","tz":"UTC"}}'
start_latency_backend lat1; LAT_PORT1=$START_PORT
start_latency_backend lat2; LAT_PORT2=$START_PORT
start_latency_backend lat3; LAT_PORT3=$START_PORT
LAT_URL1=$(reply_url "$LAT_PORT1" "$WORK/lat1.json")
LAT_URL2=$(reply_url "$LAT_PORT2" "$WORK/lat2.json")
LAT_URL3=$(reply_url "$LAT_PORT3" "$WORK/lat3.json")

write_nginx
start_nginx
write_gateway_conf "$LAT_URL1" "$LAT_URL2" "$LAT_URL3"
start_httpd

GW=http://127.0.0.1:$HTTPD_PORT
A=$WORK/nginx/html/a.json B=$WORK/nginx/html/b.json
LAT3="$WORK/lat1.json,$WORK/lat2.json,$WORK/lat3.json"
AB="$A,$B"
URL[pp]=$GW/pp/42 URL[one]=$GW/one/42 URL[agg]=$GW/agg/42
LABEL[pp]="mod_proxy ProxyPass /pp/42"
LABEL[one]="ApiEndpoint, 1 backend (pass-through)"
LABEL[agg]="ApiEndpoint, 2 backends (aggregated)"
CALLS[pp]=1 CALLS[one]=1 CALLS[agg]=2

# what each path answers, before anything is measured
check_path "nginx a" "http://127.0.0.1:$NG_PORT_A/a/42" "$A" "$WORK/nginx/error.log"
check_path "nginx b" "http://127.0.0.1:$NG_PORT_B/b/42" "$B" "$WORK/nginx/error.log"
check_path "backend.py lat1" "$LAT_URL1" "$WORK/lat1.json" ""
check_path "pp (mod_proxy)" "${URL[pp]}" "$A" "$HTTPD_RUN/error.log"
check_path "one (pass-through)" "${URL[one]}" "$A" "$HTTPD_RUN/error.log"
check_path "one (pass-through)" "$GW/one/7" "$A" "$HTTPD_RUN/error.log"
check_path "agg (aggregated)" "${URL[agg]}" "$AB" "$HTTPD_RUN/error.log"
check_path "agg (aggregated)" "$GW/agg/7" "$AB" "$HTTPD_RUN/error.log"
check_path "latency one" "$GW/lat/one" "$WORK/lat1.json" "$HTTPD_RUN/error.log"
check_path "latency agg" "$GW/lat/agg" "$LAT3" "$HTTPD_RUN/error.log"
lat_notes=("backend.py runs with TCP_NODELAY here: it sends a response's head and body separately, and without it Nagle and delayed ACKs add ~40 ms to each answer")
lat_args=(--path direct "$LAT_URL1" "$WORK/lat1.json" "$LAT_REQUESTS"
          --path one "$GW/lat/one" "$WORK/lat1.json" "$LAT_REQUESTS"
          --path agg "$GW/lat/agg" "$LAT3" "$LAT_REQUESTS")
if "$PYTHON" "$HELPER" check "$GW/lat/seq" "$LAT3" 2>"$WORK/check.err"; then
    lat_args+=(--path seq "$GW/lat/seq" "$LAT3" "$SEQ_REQUESTS")
else
    lat_notes+=("the ApiSequential reference was skipped: $(cat "$WORK/check.err")")
    say "skipping the sequential reference: $(cat "$WORK/check.err")"
fi
say "checked: pp and one answer a.json, agg the merge of a.json and b.json (X-Apigw-Completed: true), the latency paths their backends' JSON"

"$PYTHON" - "$WORK/meta.json" "${lat_notes[@]+"${lat_notes[@]}"}" <<EOF
import json, os, subprocess, sys, time, hashlib

def out(*cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (r.stdout + r.stderr).strip()
    except Exception as e:
        return "unknown (%s)" % e

meta = {
    "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    "nproc": os.cpu_count(),
    "loadavg_start": open("/proc/loadavg").read().split()[:3],
    "rounds": $ROUNDS, "duration": $DURATION, "connections": $CONNECTIONS,
    "warmup": $WARMUP, "wrk": "wrk -t1 -c$CONNECTIONS -d${DURATION}s --latency",
    "httpd_layout": "$MAIN_MPM:${MAIN_SERVERS}x$MAIN_THREADS",
    "labels": {"pp": "${LABEL[pp]}", "one": "${LABEL[one]}", "agg": "${LABEL[agg]}"},
    "urls": {"pp": "${URL[pp]}", "one": "${URL[one]}", "agg": "${URL[agg]}"},
    "agg_backend_calls": ${CALLS[agg]},
    "backend": "nginx 1 worker, static JSON a.json (%d bytes) and b.json (%d bytes) on two ports"
               % (os.path.getsize("$A"), os.path.getsize("$B")),
    "latency_backends": 3, "latency_delay_ms": $DELAY_MS,
    "latency_requests": $LAT_REQUESTS, "latency_seq_requests": $SEQ_REQUESTS,
    "latency_warmup": $LAT_WARMUP, "latency_blocks": $LAT_BLOCKS,
    "latency_order": ["direct", "one", "agg", "seq"],
    "latency_labels": {
        "direct": "backend.py itself (1 x $DELAY_MS ms)",
        "one": "ApiEndpoint, 1 backend (pass-through)",
        "agg": "ApiEndpoint, 3 backends (concurrent)",
        "seq": "ApiEndpoint, 3 backends, ApiSequential On",
    },
    "latency_notes": sys.argv[2:],
    "versions": {"httpd": out("$HTTPD_BIN", "-v").splitlines()[0],
                 "nginx": out("$NGINX_BIN", "-v"),
                 "wrk": out("wrk", "-v").splitlines()[0],
                 "curl": out("curl", "-V").splitlines()[0]},
    "git_commit": out("git", "-C", "$TOP", "rev-parse", "HEAD"),
    "git_dirty": bool(out("git", "-C", "$TOP", "--no-optional-locks", "status",
                          "--porcelain", "--untracked-files=no")),
    "module_dir": "$MODULE_SRC",
    "mod_apigw_sha256": hashlib.sha256(open("$WORK/modules/mod_apigw.so", "rb").read()).hexdigest(),
}
json.dump(meta, open(sys.argv[1], "w"), indent=2)
EOF

# 1. latency
say "latency: $LAT_WARMUP warm-up requests per path, then $LAT_REQUESTS sequential requests per path in $LAT_BLOCKS interleaved blocks"
# in the background, so that a SIGTERM is acted on at once (bash runs its
# traps only between commands, and `wait` is interruptible)
"$PYTHON" "$HELPER" latency --out "$WORK/latency.json" --warmup "$LAT_WARMUP" \
    --blocks "$LAT_BLOCKS" "${lat_args[@]}" &
MEASURE_PID=$!
wait "$MEASURE_PID" || die "the latency measurement failed"
MEASURE_PID=""
"$PYTHON" - "$WORK/latency.json" <<'EOF' >&2
import json, sys
lat = json.load(open(sys.argv[1]))
for k in ("direct", "one", "agg", "seq"):
    if k not in lat:
        continue
    s = lat[k]
    print("bench-aggregate:   %-6s n %4d  p50 %7.2f ms  p90 %7.2f ms  p99 %7.2f ms%s"
          % (k, s["n"], s.get("p50_ms") or 0, s.get("p90_ms") or 0, s.get("p99_ms") or 0,
             "  ERRORS %d" % s["errors"] if s["errors"] else ""))
EOF

# 2. and 3. throughput, backend connections, threads
say "throughput warm-up: ${WARMUP}s per path"
for key in pp one agg; do warm_up "$key"; done
for ((round = 1; round <= ROUNDS; round++)); do
    say "round $round/$ROUNDS"
    # one and agg always back to back (their ratio is the verdict), the one
    # that goes first alternating; pp alternates between first and last
    if ((round % 2)); then order="pp one agg"; else order="agg one pp"; fi
    for key in $order; do
        run_wrk "$key" "$round"
    done
done
# still the expected answers after the load
check_path "agg (aggregated)" "${URL[agg]}" "$AB" "$HTTPD_RUN/error.log"

"$PYTHON" - "$WORK/meta.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
json.dump(m, open(sys.argv[1], "w"), indent=2)
EOF
n_err=$(grep -c -E '\[(error|warn|crit|alert|emerg)\]' "$HTTPD_RUN/error.log" 2>/dev/null || true)
if [ "${n_err:-0}" -gt 0 ]; then
    say "WARNING: the httpd error log has $n_err [warn]/[error] lines (copied to $OUT/logs/httpd-error.log):"
    grep -E '\[(error|warn|crit|alert|emerg)\]' "$HTTPD_RUN/error.log" | tail -n 5 >&2
fi
cp "$WORK/meta.json" "$WORK/runs.jsonl" "$WORK/latency.json" "$OUT/raw/"
report_args=(--dir "$WORK" --out "$OUT/results.json" --target-p50 "$TARGET_P50"
             --target-ratio "$TARGET_RATIO")
[ "$STRICT" = 1 ] && report_args+=(--strict)
rc=0
"$PYTHON" "$HELPER" report "${report_args[@]}" || rc=$?
exit "$rc"
