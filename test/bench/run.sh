#!/usr/bin/env bash
# Owns the gateway benchmark (`./apxs-build.sh bench [options]`): one nginx
# backend, one httpd from `apxs-build.sh run` serving both a plain ProxyPass
# (a: /pp/) and an <ApiEndpoint> (b: /api/items/{id}), and an nginx reverse
# proxy (np: /np/) in front of the same backend; wrk alternates a, b, np for
# several rounds and report.py prints medians, the b/a verdict and CPU per
# request. --sweep also compares httpd MPM layouts for path b; --callgrind
# instead counts instructions per request of a and b (cgreport.py).
# Everything it starts listens on 127.0.0.1 and is stopped on exit; results
# go to build/bench/ (results.json, raw/ wrk reports, logs/, callgrind/).
set -euo pipefail

# shared helpers: need_value, is_uint, alive, free_ports, cpu_ticks, wait_http
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$TOP/test/bench
PYTHON=/usr/bin/python3
OUT=$TOP/build/bench
HTTPD_BIN=${HTTPD_BIN:-/usr/sbin/apache2}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
TARGET=0.97

ROUNDS="" DURATION="" WARMUP="" CONNECTIONS=50 REQUESTS=2000
QUICK=0 SWEEP=0 STRICT=0 CALLGRIND=0
LAYOUTS="worker:2x128 worker:1x256 event:2x128"

usage() {
    cat <<'EOF'
usage: test/bench/run.sh [options]      (or ./apxs-build.sh bench [options])

  --rounds N       rounds of a, b, nginx-proxy runs (default 5)
  --duration S     seconds per wrk run (default 10)
  --connections C  wrk connections (default 50; one wrk thread)
  --warmup S       seconds of unrecorded load per path before measuring
                   (default 2, --quick 1)
  --quick          --rounds 3 --duration 5 (explicit values still win)
  --sweep          also compare httpd MPM layouts for path b
  --layouts LIST   layouts for --sweep, default
                   "worker:2x128 worker:1x256 event:2x128"
                   (MPM:SERVERSxTHREADS; prefork is not swept by default)
  --strict         exit 1 when apigw/mod_proxy is below 0.97
  --callgrind      instead of wrk: instructions per request of a and b under
                   callgrind (httpd -X, --requests sequential requests per
                   path, default 2000); deterministic, unlike req/s on a
                   noisy machine. Needs valgrind. About a minute.
  -h, --help       this text

Paths, all ending at the same backend file /items/42:
  a   httpd ProxyPass /pp/ -> backend /items/
  b   httpd <ApiEndpoint "/api/items/{id}" GET> -> backend /items/{id}
  np  nginx reverse proxy (2 workers, upstream keepalive) /np/ -> /items/
The main httpd uses APIGW_MPM/APIGW_SERVERS/APIGW_THREADS (default
worker 2x128) and the modules in APIGW_MODULE_DIR (default build/), as
`apxs-build.sh run` does.
EOF
}

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) need_value "$@"; ROUNDS=$2; shift 2 ;;
        --rounds=*) ROUNDS=${1#*=}; shift ;;
        --duration) need_value "$@"; DURATION=${2%s}; shift 2 ;;
        --duration=*) DURATION=${1#*=}; DURATION=${DURATION%s}; shift ;;
        --connections) need_value "$@"; CONNECTIONS=$2; shift 2 ;;
        --connections=*) CONNECTIONS=${1#*=}; shift ;;
        --warmup) need_value "$@"; WARMUP=${2%s}; shift 2 ;;
        --warmup=*) WARMUP=${1#*=}; WARMUP=${WARMUP%s}; shift ;;
        --layouts) need_value "$@"; LAYOUTS=$2; shift 2 ;;
        --layouts=*) LAYOUTS=${1#*=}; shift ;;
        --quick) QUICK=1; shift ;;
        --sweep) SWEEP=1; shift ;;
        --strict) STRICT=1; shift ;;
        --callgrind) CALLGRIND=1; shift ;;
        --requests) need_value "$@"; REQUESTS=$2; shift 2 ;;
        --requests=*) REQUESTS=${1#*=}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done
if [ "$QUICK" = 1 ]; then
    ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-5} WARMUP=${WARMUP:-1}
fi
ROUNDS=${ROUNDS:-5} DURATION=${DURATION:-10} WARMUP=${WARMUP:-2}
is_uint "$ROUNDS" || die "--rounds must be a positive integer"
is_uint "$DURATION" || die "--duration must be a positive number of seconds"
is_uint "$CONNECTIONS" || die "--connections must be a positive integer"
is_uint "$REQUESTS" || die "--requests must be a positive integer"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "--warmup must be a number of seconds"

MAIN_MPM=${APIGW_MPM:-worker}
MAIN_SERVERS=${APIGW_SERVERS:-2}
MAIN_THREADS=${APIGW_THREADS:-128}
LAYOUT_LIST=()
for l in ${LAYOUTS//,/ }; do
    [[ $l =~ ^(worker|event):[0-9]+x[0-9]+$ || $l = prefork ]] \
        || die "bad layout '$l' (MPM:SERVERSxTHREADS, e.g. worker:2x128, or prefork)"
    LAYOUT_LIST+=("$l")
done
[ "$SWEEP" = 0 ] || [ ${#LAYOUT_LIST[@]} -gt 0 ] || die "--layouts is empty"

# ---- tools ----

ensure_tools() {
    local missing=() p
    command -v "$NGINX_BIN" >/dev/null 2>&1 || missing+=(nginx-light)
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
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

WORK="" HTTPD_PID="" WATCHDOG_PID="" HTTPD_RUN="" BACKEND_PID="" PROXY_PID="" WRK_PID=""
HTTPD_STARTS=0

stop_httpd() {
    [ -n "$HTTPD_PID" ] || return 0
    # under callgrind httpd takes a while to write its profile
    stop_tree "$HTTPD_PID" httpd "$HTTPD_BIN" "$([ -n "${CG_OUT:-}" ] && echo 120 || echo 10)"
    HTTPD_PID=""
    if [ -n "$WATCHDOG_PID" ]; then
        # its own group (setsid): the sh and its current sleep
        kill -TERM -- "-$WATCHDOG_PID" 2>/dev/null || true
        wait "$WATCHDOG_PID" 2>/dev/null || true
        WATCHDOG_PID=""
    fi
    if [ -n "$HTTPD_RUN" ] && [ -s "$HTTPD_RUN/error.log" ]; then
        mkdir -p "$OUT/logs"
        cp "$HTTPD_RUN/error.log" "$OUT/logs/$(basename "$HTTPD_RUN")-error.log" 2>/dev/null || true
    fi
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$WRK_PID" ]; then
        kill -TERM "$WRK_PID" 2>/dev/null || true
        wait "$WRK_PID" 2>/dev/null || true
    fi
    stop_httpd
    stop_tree "$PROXY_PID" "nginx proxy" "$NGINX_BIN"
    stop_tree "$BACKEND_PID" "nginx backend" "$NGINX_BIN"
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        mkdir -p "$OUT/logs"
        for f in "$WORK"/backend/error.log "$WORK"/proxy/error.log; do
            [ -s "$f" ] && cp "$f" "$OUT/logs/nginx-$(basename "$(dirname "$f")")-error.log"
        done
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM

# ---- helpers ----

# check_path NAME URL LOG: 200 and exactly the backend's JSON, or die
check_path() {
    local name=$1 url=$2 log=$3 body=$WORK/check.body code
    code=$(curl -sS -o "$body" -w '%{http_code}' --max-time 5 "$url" 2>"$WORK/check.err") || code=000
    if [ "$code" != 200 ] || ! cmp -s "$body" "$WORK/backend/html/item.json"; then
        say "check failed for $name: GET $url answered $code ($(head -c 300 "$body" 2>/dev/null | tr '\n' ' '))"
        cat "$WORK/check.err" >&2 || true
        if [ -n "$log" ] && [ -f "$log" ]; then
            say "last lines of $log:"
            tail -n 20 "$log" >&2 || true
        fi
        die "$name does not return 200 with the backend's JSON; not measuring"
    fi
}

# ---- the servers ----

write_backend() {
    local dir=$WORK/backend
    mkdir -p "$dir/html" "$dir/logs" "$dir/tmp"
    # ~195 bytes of JSON, the size the baseline used
    printf '%s\n' '{"id":42,"name":"Widget","description":"A sample item from one static file","price":{"amount":1999,"currency":"EUR"},"tags":["bench","static","json"],"stock":17,"updated":"2026-11-22T00:00:00Z"}' \
        > "$dir/html/item.json"
    {
        nginx_common "$dir" 1 "benchmark backend: one worker, no access log, one static JSON file"
        cat <<EOF
    keepalive_timeout 65;
    server {
        listen 127.0.0.1:$BACKEND_PORT;
        root $dir/html;
        default_type application/json;
        location /items/ { try_files /item.json =404; }
    }
}
EOF
    } > "$dir/nginx.conf"
}

write_proxy() {
    local dir=$WORK/proxy
    mkdir -p "$dir/logs" "$dir/tmp"
    {
        nginx_common "$dir" 2 "benchmark reference: nginx reverse proxy as in PERF-BASELINE.md"
        cat <<EOF
    upstream backend {
        server 127.0.0.1:$BACKEND_PORT;
        keepalive 32;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$PROXY_PORT;
        location /np/ {
            proxy_pass http://backend/items/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
    } > "$dir/nginx.conf"
}

# start_nginx NAME DIR: sets START_PID
start_nginx() {
    local name=$1 dir=$2
    "$NGINX_BIN" -t -q -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" \
        || die "nginx $name: the generated config has errors ($dir/nginx.conf)"
    "$NGINX_BIN" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" \
        >"$dir/stdout.log" 2>&1 &
    START_PID=$!
}

write_gateway_conf() {
    cat > "$WORK/gateway.conf" <<EOF
# benchmark gateway: (a) plain mod_proxy and (b) a mod_apigw endpoint,
# both to the same backend file
Listen 127.0.0.1:$HTTPD_PORT

ProxyPass /pp/ http://127.0.0.1:$BACKEND_PORT/items/

<ApiEndpoint "/api/items/{id}" GET>
    ApiBackend http://127.0.0.1:$BACKEND_PORT/items/{id}
</ApiEndpoint>
EOF
}

# start_httpd MPM SERVERS THREADS: httpd through `apxs-build.sh run`, its
# access log pointed at /dev/null (same cost for a and b, no disk I/O).
# CG_OUT set: httpd runs in one process (-X) under callgrind instead, with
# a real access log (it counts the requests).
start_httpd() {
    local mpm=$1 servers=$2 threads=$3 bin=$HTTPD_BIN wait=15 probe
    HTTPD_STARTS=$((HTTPD_STARTS + 1))
    HTTPD_RUN=$WORK/httpd-$HTTPD_STARTS-$mpm-${servers}x$threads
    mkdir -p "$HTTPD_RUN"
    if [ -n "${CG_OUT:-}" ]; then
        bin=$WORK/httpd-callgrind.sh wait=120
        probe=${CG_URL:?}
    else
        ln -s /dev/null "$HTTPD_RUN/access.log"
        probe="http://127.0.0.1:$HTTPD_PORT/"
    fi
    # setsid: its own process group, because the prefork MPM signals its
    # whole group (killpg) on shutdown, which would include this script.
    # Without job control the child is no group leader, so setsid does not
    # fork and $! stays the pid that apxs-build.sh execs httpd into.
    HTTPD_BIN=$bin APIGW_RUN_DIR=$HTTPD_RUN APIGW_MODULE_DIR=$WORK/modules ASAN=0 \
    APIGW_MPM=$mpm APIGW_SERVERS=$servers APIGW_THREADS=$threads \
    APIGW_LOGLEVEL=${APIGW_LOGLEVEL:-warn} \
        setsid "$TOP/apxs-build.sh" run "$WORK/gateway.conf" >"$HTTPD_RUN.out" 2>&1 &
    HTTPD_PID=$!
    # ...and so it would outlive a SIGKILLed script: a watchdog in its session
    # stops it once this script is gone (and ends by itself with httpd).
    setsid sh -c 'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do
                      sleep 1; done; kill -TERM "$2" 2>/dev/null' \
        watchdog "$$" "$HTTPD_PID" >/dev/null 2>&1 &
    WATCHDOG_PID=$!
    if ! wait_http "$probe" "$HTTPD_PID" httpd "$wait"; then
        cat "$HTTPD_RUN.out" >&2 || true
        tail -n 20 "$HTTPD_RUN/error.log" >&2 2>/dev/null || true
        die "httpd ($mpm ${servers}x$threads) did not start"
    fi
    [ -n "${CG_OUT:-}" ] && return 0
    [ "$(readlink "$HTTPD_RUN/access.log")" = /dev/null ] \
        || die "the access log is no longer /dev/null"
    [ "$(readlink "/proc/$HTTPD_PID/exe" 2>/dev/null)" = "$(readlink -f "$HTTPD_BIN")" ] \
        || die "pid $HTTPD_PID is not $HTTPD_BIN"
}

# ---- measuring ----

declare -A URL LABEL SERVER
# run_wrk KEY ROUND OUTFILE JSONL [key=value ...]: one recorded run
run_wrk() {
    local key=$1 round=$2 out=$3 jsonl=$4 before after rc=0 pid line
    shift 4
    pid=${SERVER[$key]}
    before=$(cpu_ticks "$pid")
    timeout -k 5 $((DURATION + 30)) wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" \
        --latency "${URL[$key]}" >"$out" 2>&1 &
    WRK_PID=$!
    wait "$WRK_PID" || rc=$?
    WRK_PID=""
    after=$(cpu_ticks "$pid")
    [ "$rc" = 0 ] || { cat "$out" >&2; die "wrk on ${URL[$key]} failed (exit $rc)"; }
    line=$("$PYTHON" "$HERE/wrkparse.py" "$out" round="$round" path="$key" \
        server_cpu_ticks=$((after - before)) clk_tck="$CLK_TCK" "$@") \
        || { cat "$out" >&2; die "cannot read the wrk report $out"; }
    printf '%s\n' "$line" >> "$jsonl"
    "$PYTHON" - "$line" <<'EOF' >&2
import json, sys
r = json.loads(sys.argv[1])
cpu = r["server_cpu_ticks"] / float(r["clk_tck"]) * 1e6 / max(r["requests"], 1)
err = r["non2xx"] + r["socket_errors"]
print("bench:   %-3s %s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  cpu %5.1f us/req%s"
      % (r["path"], ("%-13s" % r["layout"]) if "layout" in r else "",
         r["rps"], r["p50_ms"], r["p99_ms"], cpu,
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

# ---- callgrind: instructions per request, a against b ----

run_callgrind() {
    local key url base codes n
    command -v valgrind >/dev/null 2>&1 && command -v callgrind_annotate >/dev/null 2>&1 \
        || die "--callgrind needs valgrind: apt-get install -y valgrind"
    write_callgrind_wrapper
    write_gateway_conf
    declare -A CG_REQUESTS
    for key in a b; do
        if [ "$key" = a ]; then base="http://127.0.0.1:$HTTPD_PORT/pp"
        else base="http://127.0.0.1:$HTTPD_PORT/api/items"; fi
        url="$base/42"
        export CG_OUT=$WORK/callgrind.$key.out CG_URL=$url
        # httpd drops to its User before callgrind writes the profile
        : > "$CG_OUT"
        if [ "$(id -u)" = 0 ]; then
            chown "${APIGW_USER:-www-data}" "$CG_OUT"
        fi
        say "callgrind: path $key, $REQUESTS requests to $base/{1..$REQUESTS}"
        start_httpd worker 1 8
        check_path "$key" "$url" "$HTTPD_RUN/error.log"
        # one keep-alive connection, ids 1..N; only a Host header, like wrk
        codes=$(curl -s -H 'User-Agent:' -H 'Accept:' -o /dev/null \
            -w '%{http_code}\n' "$base/[1-$REQUESTS]" | sort | uniq -c | tr -s ' ')
        [ "$codes" = " $REQUESTS 200" ] || die "path $key: not all 200: $codes"
        stop_httpd
        # every request that ran ap_process_request, probes and checks too
        n=$(wc -l < "$HTTPD_RUN/access.log")
        CG_REQUESTS[$key]=$n
        [ -s "$CG_OUT" ] || die "callgrind wrote no profile for path $key"
        cp "$CG_OUT" "$OUT/callgrind/"
        unset CG_OUT CG_URL
    done
    "$PYTHON" "$HERE/cgreport.py" --a "$OUT/callgrind/callgrind.a.out" \
        --a-requests "${CG_REQUESTS[a]}" --b "$OUT/callgrind/callgrind.b.out" \
        --b-requests "${CG_REQUESTS[b]}" --out "$OUT/callgrind/results.json"
}

# ---- main ----

ensure_tools
CLK_TCK=$(getconf CLK_TCK)
# APIGW_MODULE_DIR, as for `apxs-build.sh run`: modules other than build/'s
MODULE_SRC=${APIGW_MODULE_DIR:-$TOP/build}
for m in mod_apigw mod_apigw_ratelimit mod_apigw_breaker; do
    [ -f "$MODULE_SRC/$m.so" ] || die "no $MODULE_SRC/$m.so: run ./apxs-build.sh build (or ./apxs-build.sh bench)"
done

if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    WORK=$(mktemp -d /dev/shm/apigw-bench.XXXXXX)
else
    WORK=$(mktemp -d /tmp/apigw-bench.XXXXXX)
fi
chmod 755 "$WORK"
# A private copy of the modules: a rebuild during the run cannot change them.
mkdir -p "$WORK/modules"
cp "$MODULE_SRC"/mod_apigw*.so "$WORK/modules/"
if [ "$CALLGRIND" = 1 ]; then
    rm -rf "$OUT/callgrind"
    mkdir -p "$OUT/callgrind"
else
    rm -rf "$OUT/raw" "$OUT/logs"
    mkdir -p "$OUT/raw"
fi

read -r BACKEND_PORT PROXY_PORT HTTPD_PORT <<<"$(free_ports 3)"

est=$(( 3 * (WARMUP + 1) + 3 * ROUNDS * (DURATION + 1) + 5 ))
if [ "$SWEEP" = 1 ]; then
    est=$(( est + ${#LAYOUT_LIST[@]} * ROUNDS * (DURATION + WARMUP + 3) ))
fi
[ "$CALLGRIND" = 1 ] && est=60
[ "$CALLGRIND" = 1 ] || say "rounds $ROUNDS x ${DURATION}s, -c$CONNECTIONS, warm-up ${WARMUP}s$([ "$SWEEP" = 1 ] && echo ", sweep: ${LAYOUT_LIST[*]}"); about $((est / 60))m$((est % 60))s"
say "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

write_backend
start_nginx backend "$WORK/backend"; BACKEND_PID=$START_PID
wait_http "http://127.0.0.1:$BACKEND_PORT/items/42" "$BACKEND_PID" "nginx backend" \
    || { cat "$WORK/backend/stdout.log" "$WORK/backend/error.log" >&2 2>/dev/null; die "the nginx backend did not start"; }
check_path "backend" "http://127.0.0.1:$BACKEND_PORT/items/42" "$WORK/backend/error.log"
check_path "backend" "http://127.0.0.1:$BACKEND_PORT/items/anything" "$WORK/backend/error.log"

if [ "$CALLGRIND" = 1 ]; then
    run_callgrind
    exit 0
fi

write_proxy
start_nginx proxy "$WORK/proxy"; PROXY_PID=$START_PID
wait_http "http://127.0.0.1:$PROXY_PORT/np/42" "$PROXY_PID" "nginx proxy" \
    || { cat "$WORK/proxy/stdout.log" "$WORK/proxy/error.log" >&2 2>/dev/null; die "the nginx proxy did not start"; }

write_gateway_conf
start_httpd "$MAIN_MPM" "$MAIN_SERVERS" "$MAIN_THREADS"

URL[a]="http://127.0.0.1:$HTTPD_PORT/pp/42"
URL[b]="http://127.0.0.1:$HTTPD_PORT/api/items/42"
URL[np]="http://127.0.0.1:$PROXY_PORT/np/42"
LABEL[a]="mod_proxy ProxyPass /pp/42"
LABEL[b]="apigw ApiEndpoint /api/items/42"
LABEL[np]="nginx proxy /np/42"
SERVER[a]=$HTTPD_PID SERVER[b]=$HTTPD_PID SERVER[np]=$PROXY_PID

check_path "a (mod_proxy)" "${URL[a]}" "$HTTPD_RUN/error.log"
check_path "a (mod_proxy)" "http://127.0.0.1:$HTTPD_PORT/pp/anything" "$HTTPD_RUN/error.log"
check_path "b (apigw)" "${URL[b]}" "$HTTPD_RUN/error.log"
check_path "b (apigw)" "http://127.0.0.1:$HTTPD_PORT/api/items/anything" "$HTTPD_RUN/error.log"
check_path "np (nginx proxy)" "${URL[np]}" "$WORK/proxy/error.log"
say "checked: a, b and np answer 200 with the backend's $(wc -c < "$WORK/backend/html/item.json")-byte JSON"

# meta.json: what was measured, with what
sweep_notes=()
if [ "$SWEEP" = 1 ]; then
    case " ${LAYOUT_LIST[*]} " in
        *" prefork "*) sweep_notes+=("prefork uses httpd's default sizing (apxs-build.sh sets none for it)") ;;
        *) sweep_notes+=("prefork not swept: one process per connection, and apxs-build.sh does not size it") ;;
    esac
fi
"$PYTHON" - "$WORK/meta.json" <<EOF
import json, os, subprocess, sys, time, hashlib

def out(*cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (r.stdout + r.stderr).strip()
    except Exception as e:
        return "unknown (%s)" % e

def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()

meta = {
    "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    "nproc": os.cpu_count(),
    "loadavg_start": open("/proc/loadavg").read().split()[:3],
    "rounds": $ROUNDS, "duration": $DURATION, "connections": $CONNECTIONS,
    "warmup": $WARMUP, "wrk": "wrk -t1 -c$CONNECTIONS -d${DURATION}s --latency",
    "httpd_layout": "$MAIN_MPM:${MAIN_SERVERS}x$MAIN_THREADS",
    "access_log": "/dev/null (symlink in the run folder)",
    "labels": {"a": "${LABEL[a]}", "b": "${LABEL[b]}", "np": "${LABEL[np]}"},
    "urls": {"a": "${URL[a]}", "b": "${URL[b]}", "np": "${URL[np]}"},
    "backend": "nginx 1 worker, static %d-byte JSON" % os.path.getsize("$WORK/backend/html/item.json"),
    "versions": {"httpd": out("$HTTPD_BIN", "-v").splitlines()[0],
                 "nginx": out("$NGINX_BIN", "-v"),
                 "wrk": out("wrk", "-v").splitlines()[0]},
    "git_commit": out("git", "-C", "$TOP", "rev-parse", "HEAD"),
    "git_dirty": bool(out("git", "-C", "$TOP", "--no-optional-locks", "status",
                          "--porcelain", "--untracked-files=no")),
    "module_dir": "$MODULE_SRC",
    "mod_apigw_sha256": sha("$WORK/modules/mod_apigw.so"),
    "sweep_layouts": $(if [ "$SWEEP" = 1 ]; then printf '"%s",' "${LAYOUT_LIST[@]}" | sed 's/^/[/; s/,$/]/'; else echo '[]'; fi),
    "sweep_rounds": $ROUNDS,
    "sweep_notes": $(printf '%s\n' "${sweep_notes[@]+"${sweep_notes[@]}"}" | "$PYTHON" -c 'import json,sys; print(json.dumps([l for l in sys.stdin.read().splitlines() if l]))'),
}
json.dump(meta, open(sys.argv[1], "w"), indent=2)
EOF

say "warm-up: ${WARMUP}s per path"
for key in a b np; do warm_up "$key"; done

for ((round = 1; round <= ROUNDS; round++)); do
    say "round $round/$ROUNDS"
    # a and b always back to back (their ratio is the verdict), the one that
    # goes first alternating; nginx alternates between first and last
    if ((round % 2)); then order="a b np"; else order="np b a"; fi
    for key in $order; do
        run_wrk "$key" "$round" "$OUT/raw/$key-r$round.txt" "$WORK/runs.jsonl"
    done
done

if [ "$SWEEP" = 1 ]; then
    stop_httpd
    n=${#LAYOUT_LIST[@]}
    for ((round = 1; round <= ROUNDS; round++)); do
        say "sweep round $round/$ROUNDS"
        for ((i = 0; i < n; i++)); do
            layout=${LAYOUT_LIST[$(( (i + round - 1) % n ))]}
            if [ "$layout" = prefork ]; then
                start_httpd prefork 0 0
            else
                mpm=${layout%%:*} size=${layout#*:}
                start_httpd "$mpm" "${size%x*}" "${size#*x}"
            fi
            SERVER[b]=$HTTPD_PID
            check_path "b (apigw, $layout)" "${URL[b]}" "$HTTPD_RUN/error.log"
            warm_up b
            run_wrk b "$round" "$OUT/raw/sweep-${layout/:/-}-r$round.txt" \
                "$WORK/sweep.jsonl" layout="$layout"
            stop_httpd
        done
    done
fi

say "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
report_args=(--dir "$WORK" --out "$OUT/results.json" --target "$TARGET")
[ "$STRICT" = 1 ] && report_args+=(--strict)
cp "$WORK/meta.json" "$WORK/runs.jsonl" "$OUT/raw/"
[ -f "$WORK/sweep.jsonl" ] && cp "$WORK/sweep.jsonl" "$OUT/raw/"
rc=0
"$PYTHON" "$HERE/report.py" "${report_args[@]}" || rc=$?
exit "$rc"
