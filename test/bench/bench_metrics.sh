#!/usr/bin/env bash
# Owns the observability benchmark (`./apxs-build.sh bench metrics`): what
# metrics and tracing cost an <ApiEndpoint>, and how long a scrape of a
# large configuration takes. One nginx backend (the overhead benchmarks'
# static JSON file) and the modules of APIGW_MODULE_DIR (default
# APIGW_BUILD_DIR, else build/).
#
#   1  on / off: two gateways alike (one worker child each, see lib.sh)
#      serving the same endpoint /items/{id}: "on" with the defaults
#      (metrics counted, a W3C trace started per request and passed to the
#      backend), "off" with ApiMetrics Off and ApiTraceContext Off. req/s,
#      wrk back-to-back pairs (the order swapped every other round), the
#      median of the per-round ratios (target >= 0.97); httpd's CPU per
#      request beside it.
#      With --callgrind also the instructions per request of each, in one
#      process under callgrind (the delta printed).
#   2  a scrape of 1,000 endpoints x 5 balancer members: a second gateway
#      with 1,000 endpoints, each on a pool of its own of 5 members, every
#      endpoint called once; the median time of 20 GETs of apigw-metrics
#      (target <= 100 ms).
#
# A missed target is printed MISSED, not an error (--strict: exit 1).
# Everything listens on 127.0.0.1 and is stopped on exit; results go to
# build/bench/metrics/ (results.json, raw wrk reports). About 2 minutes
# (--quick under 1).
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_setup metrics
APIGW_MODULE_DIR=${APIGW_MODULE_DIR:-${APIGW_BUILD_DIR:-$TOP/build}}

ROUNDS="" DURATION="" WARMUP="" CONNECTIONS=50 REQUESTS=2000
QUICK=0 STRICT=0 CALLGRIND=0 ENDPOINTS=1000 MEMBERS=5 SCRAPES=20

usage() {
    cat <<'EOF'
usage: test/bench/bench_metrics.sh [options]   (./apxs-build.sh bench metrics)

  --rounds N          rounds of figure 1 (default 12, --quick 4)
  --duration S        seconds per wrk run (default 2)
  --connections C     wrk connections (default 50; one wrk thread)
  --warmup S          unrecorded load per path first (default 2, --quick 1)
  --callgrind         also instructions per request, on and off
  --requests N        requests per callgrind profile (default 2000)
  --endpoints N       endpoints of figure 2 (default 1000)
  --members N         members of each endpoint's pool (default 5)
  --quick             the shorter defaults above
  --strict            exit 1 when a figure misses its target
  -h, --help          this text
EOF
}

say() { printf 'bench-metrics: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

bench_option() {
    case "$1" in
        --endpoints) need_value "$@"; ENDPOINTS=$2; SHIFT=2 ;;
        --members) need_value "$@"; MEMBERS=$2; SHIFT=2 ;;
        *) return 1 ;;
    esac
}
parse_options "$@"
set_defaults 4 2 12 2
check_options
is_uint "$ENDPOINTS" || die "--endpoints must be a positive integer"
is_uint "$MEMBERS" || die "--members must be a positive integer"

WORK="" BACKEND_PID="" HTTPD_PID="" WRK_PID="" HTTPD_RUN="" HTTPD_STARTS=0
declare -A GW_PID=()            # figure 1's gateways: on, off

# cleanup_hook: the gateways but HTTPD_PID (cleanup stops that one)
cleanup_hook() {
    local k
    for k in "${!GW_PID[@]}"; do
        [ "${GW_PID[$k]}" = "$HTTPD_PID" ] || stop "${GW_PID[$k]}" "httpd $k"
    done
}
bench_traps

# write_conf on|off PORT: figure 1's gateway (metrics and traces as the
# defaults have them, or both off)
write_conf() {
    local b="http://127.0.0.1:$BACKEND_PORT/items/{id}" off=""
    [ "$1" = off ] && off="ApiMetrics Off
ApiTraceContext Off"
    cat > "$WORK/gateway.conf" <<EOF
# observability benchmark, gateway $1
Listen 127.0.0.1:$2
$off
<ApiEndpoint "/items/{id}" GET>
    ApiBackend $b
</ApiEndpoint>
<Location "/metrics">
    SetHandler apigw-metrics
</Location>
EOF
}

# write_scrape_conf: figure 2's gateway, ENDPOINTS endpoints on pools of
# MEMBERS members each (all the backend's port: only the count matters)
write_scrape_conf() {
    local i j
    {
        echo "Listen 127.0.0.1:$HTTPD_PORT"
        echo '<Location "/metrics">'
        echo '    SetHandler apigw-metrics'
        echo '</Location>'
        for ((i = 0; i < ENDPOINTS; i++)); do
            echo "<Proxy \"balancer://pool$i\">"
            for ((j = 0; j < MEMBERS; j++)); do
                echo "    BalancerMember http://127.0.0.1:$BACKEND_PORT route=m$j"
            done
            echo "</Proxy>"
            echo "<ApiEndpoint \"/e$i/items/{id}\" GET>"
            echo "    ApiBackend balancer://pool$i/items/{id}"
            echo "</ApiEndpoint>"
        done
    } > "$WORK/gateway.conf"
}

declare -A URL

T_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
CLK_TCK=$(getconf CLK_TCK)
check_modules
make_work metrics
rm -rf "$OUT"
mkdir -p "$OUT/raw" "$OUT/callgrind"
read -r BACKEND_PORT ON_PORT OFF_PORT SCRAPE_PORT <<<"$(free_ports 4)"
say "load average at start: $LOAD_START"
start_backend "$BACKEND_PORT"

# ---- figure 1 ----
declare -A PORT=([on]=$ON_PORT [off]=$OFF_PORT) RUN=()
for k in on off; do
    write_conf "$k" "${PORT[$k]}"
    HTTPD_PORT=${PORT[$k]}
    start_httpd
    GW_PID[$k]=$HTTPD_PID RUN[$k]=$HTTPD_RUN
    URL[$k]=http://127.0.0.1:${PORT[$k]}/items/42
    [ "$(curl -s -o /dev/null -w '%{http_code}' "${URL[$k]}")" = 200 ] \
        || die "${URL[$k]} does not answer 200"
done
curl -s "http://127.0.0.1:$ON_PORT/metrics" | grep -q '^apigw_requests_total{' \
    || die "the on gateway counts nothing: is this build's apigw-metrics there?"
: > "$WORK/runs.jsonl"
say "warm-up ${WARMUP}s per path"
for k in on off; do warm_up "$k"; done
say "$ROUNDS rounds: on and off back to back, ${DURATION}s -c$CONNECTIONS each"
for ((round = 1; round <= ROUNDS; round++)); do
    if ((round % 2)); then order="on off"; else order="off on"; fi
    for k in $order; do
        HTTPD_PID=${GW_PID[$k]}     # run_wrk counts this one's CPU
        run_wrk "$k" "$round" "$OUT/raw/$k-r$round.txt"
    done
done
for k in on off; do
    HTTPD_PID=${GW_PID[$k]} HTTPD_RUN=${RUN[$k]} HTTPD_LOG_AS=$k-error.log
    stop_httpd
    unset "GW_PID[$k]"
done
unset HTTPD_LOG_AS

: > "$WORK/cg.txt"
if [ "$CALLGRIND" = 1 ]; then
    write_callgrind_wrapper
    for k in on off; do
        write_conf "$k" "$ON_PORT"
        HTTPD_PORT=$ON_PORT
        cg_begin "$k"
        cg_requests "$k" "http://127.0.0.1:$ON_PORT/items/[1-$REQUESTS]"
        cg_end "$k"
    done
fi

# ---- figure 2 ----
HTTPD_PORT=$SCRAPE_PORT
write_scrape_conf
start_httpd
say "scrape: $ENDPOINTS endpoints x $MEMBERS members; each endpoint called once"
for ((i = 0; i < ENDPOINTS; i++)); do
    echo "url = \"http://127.0.0.1:$HTTPD_PORT/e$i/items/1\""
    echo "output = /dev/null"
done > "$WORK/curl-all.cfg"
curl -s --parallel --parallel-max 20 -K "$WORK/curl-all.cfg" >/dev/null 2>&1 \
    || die "calling every endpoint failed"
: > "$WORK/scrapes.txt"
for ((i = 0; i < SCRAPES; i++)); do
    curl -s -o "$WORK/scrape.txt" -w '%{http_code} %{time_total} %{size_download}\n' \
        "http://127.0.0.1:$HTTPD_PORT/metrics" >> "$WORK/scrapes.txt"
done
cp "$WORK/scrape.txt" "$OUT/raw/scrape.txt"
stop_httpd

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(( $(date +%s) - T_START ))
say "load average at end: $LOAD_END; $ELAPSED s"
cp "$WORK/runs.jsonl" "$WORK/scrapes.txt" "$WORK/cg.txt" "$OUT/raw/"
"$PYTHON" - "$WORK" "$OUT/results.json" "$STRICT" "$ENDPOINTS" "$MEMBERS" <<'EOF'
import json, statistics, sys
work, out, strict, endpoints, members = sys.argv[1:6]
runs = [json.loads(l) for l in open(work + "/runs.jsonl") if l.strip()]
by = {}
for r in runs:
    by.setdefault(r["round"], {})[r["path"]] = r
ratios = [v["on"]["rps"] / v["off"]["rps"] for v in by.values()
          if "on" in v and "off" in v and v["off"]["rps"]]
def cpu(path):
    xs = [r["server_cpu_ticks"] / float(r["clk_tck"]) * 1e6 / max(r["requests"], 1)
          for r in runs if r["path"] == path]
    return statistics.median(xs) if xs else None
ratio = statistics.median(ratios)
res = {"on_off_ratio": ratio, "ratios": ratios,
       "on_rps": statistics.median(r["rps"] for r in runs if r["path"] == "on"),
       "off_rps": statistics.median(r["rps"] for r in runs if r["path"] == "off"),
       "cpu_us_on": cpu("on"), "cpu_us_off": cpu("off")}
errors = sum(r["non2xx"] + r["socket_errors"] for r in runs)
cg = {}
for line in open(work + "/cg.txt"):
    k, total, n = line.split()
    cg[k] = int(total) / max(int(n), 1)
if cg:
    res["instructions_per_request"] = cg
    res["instructions_delta"] = cg["on"] - cg["off"]
scr = [l.split() for l in open(work + "/scrapes.txt") if l.strip()]
bad = [s for s in scr if s[0] != "200"]
ms = statistics.median(float(s[1]) * 1000 for s in scr)
res.update({"scrape_ms": ms, "scrape_bytes": int(scr[-1][2]),
            "scrape_endpoints": int(endpoints), "scrape_members": int(members)})
json.dump(res, open(out, "w"), indent=2)
miss = 0
v1 = "ok" if ratio >= 0.97 else "MISSED"
miss += v1 != "ok"
print("metrics: figure 1  on/off %.3f (target >= 0.97) %s  median of %d rounds, "
      "%.0f vs %.0f req/s, httpd cpu %.1f vs %.1f us/req%s"
      % (ratio, v1, len(ratios), res["on_rps"], res["off_rps"],
         res["cpu_us_on"] or 0, res["cpu_us_off"] or 0,
         ", %d ERRORS" % errors if errors else ""))
if cg:
    print("metrics: callgrind   %.0f vs %.0f instructions per request (+%.0f, ratio %.3f)"
          % (cg["on"], cg["off"], cg["on"] - cg["off"], cg["off"] / cg["on"]))
v2 = "ok" if ms <= 100 and not bad else "MISSED"
miss += v2 != "ok"
print("metrics: figure 2  scrape of %s endpoints x %s members %.1f ms (target <= 100) %s, "
      "%d bytes%s" % (endpoints, members, ms, v2, res["scrape_bytes"],
                      ", %d non-200" % len(bad) if bad else ""))
sys.exit(1 if (miss or errors) and strict == "1" else 0)
EOF
