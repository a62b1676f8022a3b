#!/usr/bin/env bash
# Owns the member-suspension benchmark (`./apxs-build.sh bench suspend`):
# what a request pays for a balancer with suspension policies, retries and
# a timeout action, against the same balancer without them, in one run on
# one httpd in front of one nginx backend (two listen ports, so each pool
# has two members):
#
#   a    plain mod_proxy: ProxyPass /pa/ -> balancer://plain (byrequests)
#   as   ProxyPass /ps/ -> balancer://sus: the same members and lbmethod,
#        with ApiBalancerSuspend, ApiBalancerMarkForSuspension,
#        ApiBalancerRetries 2 and ApiBalancerTimeoutAction fault (every
#        request runs through the retry loop and reports its outcome)
#   b    <ApiEndpoint "/api/plain/{id}"> over balancer://plain
#   bs   <ApiEndpoint "/api/sus/{id}"> over balancer://sus
#   rr   ProxyPass /rr/ -> balancer://rr: the suspension policies with this
#        module's roundrobin lbmethod
#
# No member fails, so every request takes the common path: outcome
# classified, member state read without a lock. wrk runs each path in
# turn, the order rotating every round; the report prints medians and the
# median of the per-round ratios as/a, bs/b and rr/a (target >= 0.97).
# --callgrind counts instructions per request of each path instead
# (deterministic, whatever else the machine runs). Everything listens on 127.0.0.1 and is stopped on exit; results go to
# build/bench/suspend/ (results.json, raw wrk reports, logs).
set -euo pipefail

# shared helpers: need_value, is_uint, alive, free_ports, cpu_ticks, wait_http
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$TOP/test/bench
PYTHON=/usr/bin/python3
OUT=$TOP/build/bench/suspend
HTTPD_BIN=${HTTPD_BIN:-/usr/sbin/apache2}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
TARGET=0.97

ROUNDS="" DURATION="" WARMUP="" CONNECTIONS=50 QUICK=0 STRICT=0
CALLGRIND=0 REQUESTS=2000

usage() {
    cat <<'EOF'
usage: test/bench/bench_suspend.sh [options]   (./apxs-build.sh bench suspend)

  --rounds N       rounds over all paths (default 5)
  --duration S     seconds per wrk run (default 8)
  --connections C  wrk connections (default 50; one wrk thread)
  --warmup S       unrecorded load per path first (default 2, --quick 1)
  --quick          --rounds 3 --duration 4
  --strict         exit 1 when as/a or bs/b is below 0.97
  --callgrind      instructions per request of every path under callgrind
                   (httpd -X, --requests sequential requests each, default
                   2000) instead of wrk. Needs valgrind.
  -h, --help       this text
EOF
}

say() { printf 'bench-suspend: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) need_value "$@"; ROUNDS=$2; shift 2 ;;
        --duration) need_value "$@"; DURATION=${2%s}; shift 2 ;;
        --connections) need_value "$@"; CONNECTIONS=$2; shift 2 ;;
        --warmup) need_value "$@"; WARMUP=${2%s}; shift 2 ;;
        --quick) QUICK=1; shift ;;
        --strict) STRICT=1; shift ;;
        --callgrind) CALLGRIND=1; shift ;;
        --requests) need_value "$@"; REQUESTS=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done
if [ "$QUICK" = 1 ]; then
    ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-4} WARMUP=${WARMUP:-1}
fi
ROUNDS=${ROUNDS:-5} DURATION=${DURATION:-8} WARMUP=${WARMUP:-2}
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

# ---- processes: each one started is remembered and stopped on exit ----

WORK="" BACKEND_PID="" HTTPD_PID="" WRK_PID="" HTTPD_RUN=""

# stop PID NAME [SECONDS]: SIGTERM, wait, SIGKILL if it will not go
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

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [ -n "$WRK_PID" ] && { kill -TERM "$WRK_PID" 2>/dev/null || true; wait "$WRK_PID" 2>/dev/null || true; }
    stop_httpd
    stop "$BACKEND_PID" "nginx backend"
    [ -n "$WORK" ] && [ -d "$WORK" ] && rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'say interrupted; exit 130' INT
trap 'say terminated; exit 143' TERM

# check URL NAME: 200 with the backend's file
check() {
    local url=$1 name=$2 body=$WORK/check.b code
    code=$(curl -sS -o "$body" -w '%{http_code}' --max-time 5 "$url") || code=000
    [ "$code" = 200 ] && cmp -s "$body" "$WORK/backend/html/item.json" \
        || die "$name: GET $url answered $code, not the backend's file"
}

# ---- the servers ----

start_backend() {
    local dir=$WORK/backend
    mkdir -p "$dir/html" "$dir/tmp"
    printf '%s\n' '{"id":42,"name":"Widget","description":"A sample item from one static file","price":{"amount":1999,"currency":"EUR"},"tags":["bench","static","json"],"stock":17,"updated":"2026-11-22T00:00:00Z"}' \
        > "$dir/html/item.json"
    cat > "$dir/nginx.conf" <<EOF
# suspension benchmark backend: one worker, one static JSON file, two
# ports (one per balancer member)
daemon off;
master_process on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 65;
    server_tokens off;
    server {
        listen 127.0.0.1:$BACKEND_PORT;
        listen 127.0.0.1:$BACKEND_PORT2;
        root $dir/html;
        default_type application/json;
        location /items/ { try_files /item.json =404; }
    }
}
EOF
    "$NGINX_BIN" -t -q -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" \
        || die "the backend's nginx config has errors"
    "$NGINX_BIN" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/out.log" 2>&1 &
    BACKEND_PID=$!
    wait_http "http://127.0.0.1:$BACKEND_PORT/items/42" "$BACKEND_PID" "nginx backend" \
        || die "the nginx backend did not start"
}

write_gateway_conf() {
    local m1="http://127.0.0.1:$BACKEND_PORT" m2="http://127.0.0.1:$BACKEND_PORT2"
    cat > "$WORK/gateway.conf" <<EOF
# suspension benchmark gateway: the same two members with and without
# suspension policies
Listen 127.0.0.1:$HTTPD_PORT

<Proxy balancer://plain>
    BalancerMember $m1
    BalancerMember $m2
    ProxySet lbmethod=byrequests
</Proxy>

<Proxy balancer://sus>
    BalancerMember $m1
    BalancerMember $m2
    ProxySet lbmethod=byrequests
    ApiBalancerSuspend codes=connect-refused,connect-timeout,503 initial=5s factor=2 max=1m
    ApiBalancerMarkForSuspension codes=read-timeout,closed retries=2 retry-delay=1s
    ApiBalancerRetries 2
    ApiBalancerTimeoutAction fault
</Proxy>

<Proxy balancer://rr>
    BalancerMember $m1
    BalancerMember $m2
    ProxySet lbmethod=roundrobin
    ApiBalancerSuspend codes=connect-refused,connect-timeout,503 initial=5s factor=2 max=1m
    ApiBalancerRetries 2
</Proxy>

ProxyPass /pa/ balancer://plain/items/
ProxyPass /ps/ balancer://sus/items/
ProxyPass /rr/ balancer://rr/items/

<ApiEndpoint "/api/plain/{id}" GET>
    ApiBackend balancer://plain/items/{id}
</ApiEndpoint>

<ApiEndpoint "/api/sus/{id}" GET>
    ApiBackend balancer://sus/items/{id}
</ApiEndpoint>
EOF
}

# start_httpd [callgrind]: httpd through `apxs-build.sh run`, access log to
# /dev/null; with callgrind, one process (-X) under valgrind instead
HTTPD_STARTS=0
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

stop_httpd() {
    [ -n "$HTTPD_PID" ] || return 0
    stop "$HTTPD_PID" httpd "$([ "$CALLGRIND" = 1 ] && echo 120 || echo 10)"
    HTTPD_PID=""
    if [ -s "$HTTPD_RUN/error.log" ]; then
        mkdir -p "$OUT/logs"
        cp "$HTTPD_RUN/error.log" "$OUT/logs/$(basename "$HTTPD_RUN")-error.log"
    fi
}

declare -A URL
set_urls() {
    URL[a]="http://127.0.0.1:$HTTPD_PORT/pa/42"
    URL[as]="http://127.0.0.1:$HTTPD_PORT/ps/42"
    URL[b]="http://127.0.0.1:$HTTPD_PORT/api/plain/42"
    URL[bs]="http://127.0.0.1:$HTTPD_PORT/api/sus/42"
    URL[rr]="http://127.0.0.1:$HTTPD_PORT/rr/42"
}

# ---- wrk ----

run_wrk() {
    local key=$1 round=$2 out=$3 before after rc=0 line
    before=$(cpu_ticks "$HTTPD_PID")
    timeout -k 5 $((DURATION + 30)) wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" \
        --latency "${URL[$key]}" >"$out" 2>&1 &
    WRK_PID=$!
    wait "$WRK_PID" || rc=$?
    WRK_PID=""
    after=$(cpu_ticks "$HTTPD_PID")
    [ "$rc" = 0 ] || { cat "$out" >&2; die "wrk on ${URL[$key]} failed (exit $rc)"; }
    line=$("$PYTHON" "$HERE/wrkparse.py" "$out" round="$round" path="$key" \
        server_cpu_ticks=$((after - before)) clk_tck="$CLK_TCK") \
        || { cat "$out" >&2; die "cannot read the wrk report $out"; }
    printf '%s\n' "$line" >> "$WORK/runs.jsonl"
    "$PYTHON" - "$line" <<'EOF' >&2
import json, sys
r = json.loads(sys.argv[1])
cpu = r["server_cpu_ticks"] / float(r["clk_tck"]) * 1e6 / max(r["requests"], 1)
err = r["non2xx"] + r["socket_errors"]
print("bench-suspend:   %-3s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  cpu %5.1f us/req%s"
      % (r["path"], r["rps"], r["p50_ms"], r["p99_ms"], cpu,
         "  ERRORS %d" % err if err else ""))
EOF
}

warm_up() {
    [ "$WARMUP" -gt 0 ] || return 0
    timeout -k 5 $((WARMUP + 30)) wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" \
        "${URL[$1]}" >"$WORK/warmup.out" 2>&1 \
        || { cat "$WORK/warmup.out" >&2; die "warm-up of ${URL[$1]} failed"; }
}

report() {
    "$PYTHON" - "$WORK/runs.jsonl" "$OUT/results.json" "$TARGET" "$STRICT" \
        "$ROUNDS" "$DURATION" "$CONNECTIONS" <<'EOF'
import json, statistics, sys

runs_path, out_path, target, strict = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4] == "1"
rounds, duration, conns = sys.argv[5:8]
runs = [json.loads(l) for l in open(runs_path) if l.strip()]
LABEL = {"a": "ProxyPass, balancer", "as": "ProxyPass, balancer + suspension",
         "b": "ApiEndpoint, balancer", "bs": "ApiEndpoint, balancer + suspension",
         "rr": "ProxyPass, roundrobin + suspension"}
med = lambda v: statistics.median(v) if v else None
for r in runs:
    r["cpu_us"] = r["server_cpu_ticks"] / float(r["clk_tck"]) * 1e6 / max(r["requests"], 1)
paths = [p for p in ("a", "as", "b", "bs", "rr") if any(r["path"] == p for r in runs)]
summary = {}
print()
print("%s rounds x %ss per path, wrk -t1 -c%s, order rotating; medians" % (rounds, duration, conns))
print("%-3s %-36s %9s %8s %8s %10s %6s" % ("", "path", "req/s", "p50 ms", "p99 ms", "CPU us/req", "errors"))
for p in paths:
    rs = [r for r in runs if r["path"] == p]
    s = {"median_rps": med([r["rps"] for r in rs]), "median_p50_ms": med([r["p50_ms"] for r in rs]),
         "median_p99_ms": med([r["p99_ms"] for r in rs]), "median_cpu_us_per_req": med([r["cpu_us"] for r in rs]),
         "errors": sum(r["non2xx"] + r["socket_errors"] for r in rs), "runs": len(rs)}
    summary[p] = s
    print("%-3s %-36s %9.0f %8.2f %8.2f %10.1f %6d" % (p, LABEL[p], s["median_rps"], s["median_p50_ms"],
                                                       s["median_p99_ms"], s["median_cpu_us_per_req"], s["errors"]))

def paired(num, den, field):
    by = {}
    for r in runs:
        by.setdefault(r["round"], {})[r["path"]] = r[field]
    return [v[num] / v[den] for _, v in sorted(by.items()) if num in v and den in v and v[den]]

ratios = {}
print()
for num, den, what in (("as", "a", "suspension policy on a ProxyPass balancer"),
                       ("bs", "b", "suspension policy on an endpoint's balancer"),
                       ("rr", "a", "roundrobin lbmethod + policy vs byrequests")):
    rps = paired(num, den, "rps")
    cpu = paired(den, num, "cpu_us")       # inverted: higher is better
    ratios["%s/%s" % (num, den)] = {"rps_median": med(rps), "rps_rounds": rps, "cpu_median": med(cpu)}
    print("%-6s %-44s req/s %.3f (rounds %s); by CPU per request %.3f"
          % ("%s/%s" % (num, den), what, med(rps), " ".join("%.3f" % x for x in rps), med(cpu)))
errors = sum(s["errors"] for s in summary.values())
ok = errors == 0 and all(ratios[k]["rps_median"] >= target for k in ("as/a", "bs/b"))
print()
print("verdict: %s (as/a and bs/b >= %.2f%s)" % ("PASS" if ok else "FAIL", target,
      "" if errors == 0 else "; %d non-2xx or socket errors" % errors))
json.dump({"summary": summary, "ratios": ratios, "target": target, "verdict": "PASS" if ok else "FAIL",
           "rounds": int(rounds), "duration": int(duration), "connections": int(conns)},
          open(out_path, "w"), indent=2)
sys.exit(1 if strict and not ok else 0)
EOF
}

# ---- callgrind ----

run_callgrind() {
    local key real n total base
    real=$(readlink -f "$HTTPD_BIN")
    {
        echo '#!/bin/sh'
        echo '# generated by bench_suspend.sh --callgrind: configtest runs httpd as'
        echo '# is; the server runs as one process (-X) under callgrind, counting only'
        echo '# inside ap_process_request, i.e. per request.'
        echo 'for a in "$@"; do [ "$a" = -t ] && exec '"\"$real\""' "$@"; done'
        echo 'exec valgrind --tool=callgrind --collect-atstart=no \'
        echo '    --toggle-collect=ap_process_request --callgrind-out-file="$CG_OUT" \'
        echo '    '"\"$real\""' "$@" -X'
    } > "$WORK/httpd-callgrind.sh"
    chmod 755 "$WORK/httpd-callgrind.sh"
    mkdir -p "$OUT/callgrind"
    : > "$WORK/cg.txt"
    write_gateway_conf
    for key in a as b bs rr; do
        export CG_OUT=$WORK/callgrind.$key.out
        : > "$CG_OUT"
        [ "$(id -u)" = 0 ] && chown "${APIGW_USER:-www-data}" "$CG_OUT"
        say "callgrind: path $key, $REQUESTS requests"
        start_httpd callgrind
        check "${URL[$key]}" "$key"
        base=${URL[$key]%/42}
        curl -s -H 'User-Agent:' -H 'Accept:' -o /dev/null -w '%{http_code}\n' \
            "$base/[1-$REQUESTS]" | sort | uniq -c > "$WORK/codes"
        [ "$(tr -s ' ' < "$WORK/codes")" = " $REQUESTS 200" ] || die "path $key: not all 200: $(cat "$WORK/codes")"
        stop_httpd
        n=$(( $(wc -l < "$HTTPD_RUN/access.log") ))
        total=$(callgrind_annotate "$CG_OUT" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
        [ -n "$total" ] || die "no callgrind totals for path $key"
        cp "$CG_OUT" "$OUT/callgrind/"
        echo "$key $total $n" >> "$WORK/cg.txt"
        unset CG_OUT
    done
    "$PYTHON" - "$WORK/cg.txt" "$OUT/callgrind/results.json" <<'EOF'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    k, total, n = line.split()
    rows[k] = int(total) / int(n)
label = {"a": "ProxyPass, balancer", "as": "ProxyPass, balancer + suspension",
         "b": "ApiEndpoint, balancer", "bs": "ApiEndpoint, balancer + suspension",
         "rr": "ProxyPass, roundrobin + suspension"}
print()
print("instructions per request (callgrind, inside ap_process_request)")
for k in ("a", "as", "b", "bs", "rr"):
    print("  %-3s %-36s %9.0f" % (k, label[k], rows[k]))
print("  the policies cost %.0f instructions on a ProxyPass (%+.1f %%), %.0f on an endpoint (%+.1f %%)"
      % (rows["as"] - rows["a"], 100 * (rows["as"] / rows["a"] - 1),
         rows["bs"] - rows["b"], 100 * (rows["bs"] / rows["b"] - 1)))
json.dump(rows, open(sys.argv[2], "w"), indent=2)
EOF
}

# ---- main ----

CLK_TCK=$(getconf CLK_TCK)
MODULE_SRC=${APIGW_MODULE_DIR:-$TOP/build}
for m in mod_apigw mod_apigw_ratelimit mod_apigw_breaker; do
    [ -f "$MODULE_SRC/$m.so" ] || die "no $MODULE_SRC/$m.so: run ./apxs-build.sh build"
done
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    WORK=$(mktemp -d /dev/shm/apigw-bench-sus.XXXXXX)
else
    WORK=$(mktemp -d /tmp/apigw-bench-sus.XXXXXX)
fi
chmod 755 "$WORK"
mkdir -p "$WORK/modules"
cp "$MODULE_SRC"/mod_apigw*.so "$WORK/modules/"      # a rebuild cannot change them mid-run
rm -rf "$OUT"
mkdir -p "$OUT/raw"
read -r BACKEND_PORT BACKEND_PORT2 HTTPD_PORT <<<"$(free_ports 3)"
set_urls
say "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
start_backend
if [ "$CALLGRIND" = 1 ]; then
    run_callgrind
    exit 0
fi
write_gateway_conf
start_httpd
PATHS=(a as b bs rr)
for key in "${PATHS[@]}"; do
    check "${URL[$key]}" "$key"
done
say "checked: ${PATHS[*]} answer 200 with the backend's file"
say "rounds $ROUNDS x ${DURATION}s x ${#PATHS[@]} paths, -c$CONNECTIONS, warm-up ${WARMUP}s"
for key in "${PATHS[@]}"; do warm_up "$key"; done
n=${#PATHS[@]}
for ((round = 1; round <= ROUNDS; round++)); do
    say "round $round/$ROUNDS"
    for ((i = 0; i < n; i++)); do
        key=${PATHS[$(( (i + round - 1) % n ))]}
        run_wrk "$key" "$round" "$OUT/raw/$key-r$round.txt"
    done
done
say "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
cp "$WORK/runs.jsonl" "$OUT/raw/"
if grep -E '\[(warn|error|crit)\]' "$HTTPD_RUN/error.log" >/dev/null 2>&1; then
    say "the gateway logged warnings or errors (see $OUT/logs/)"
fi
report
