#!/usr/bin/env bash
# Owns the resilience benchmark (`./apxs-build.sh bench breaker`): what a
# request pays for passing a circuit breaker in standby on a balancer with
# member-suspension policies, against the same balancer without them, in
# one run on one httpd in front of one nginx backend (two listen ports, so
# each balancer has two members):
#
#   a   plain mod_proxy: ProxyPass /pp/ -> backend /items/ (no balancer)
#   al  ProxyPass /pl/ -> balancer://plain with an empty <Location> (what
#       any per-location directive costs: httpd merges the section into
#       every request)
#   ap  ProxyPass /pc/ -> balancer://guarded (the same members, with the
#       policies of BALANCER_LINES) and the policies of LOCATION_LINES in
#       its <Location>
#   b   an <ApiEndpoint "/api/items/{id}"> (mod_apigw) over balancer://plain
#   bp  the same endpoint over balancer://guarded, with the policies of
#       ENDPOINT_LINES
#
# The breaker's expression uses all three functions (network errors, a
# status range, a latency quantile), so every request does the whole work:
# the state check in fixups, the outcome recorded in log_transaction into
# the shared window, an evaluation every check period. The suspension
# policies classify every outcome and read the member's state. Nothing
# trips (the backend always answers 200 fast); the status page proves
# afterwards that the breakers counted the requests. wrk runs each path in
# turn, the order rotating every round; the report gives medians and the
# median of the per-round ratios bp/b and ap/al (target >= 0.97: the
# policies' own cost), and bp/a and ap/a against plain mod_proxy.
#
# To measure more policies, add their lines to ENDPOINT_LINES,
# LOCATION_LINES or BALANCER_LINES below; nothing else changes.
#
# Everything listens on 127.0.0.1 and is stopped on exit; results go to
# build/bench/breaker/ (results.json, raw wrk reports, logs).
set -euo pipefail

# shared helpers and the overhead benchmarks' processes, servers and wrk
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_setup breaker
TARGET=0.97

# The policies under test, one directive a line.
BREAKER='ApiCircuitBreaker "NetworkErrorRatio() > 0.5 || ResponseCodeRatio(500, 600, 0, 600) > 0.5 || LatencyAtQuantileMS(99.0) > 5000" min-requests=20'
ENDPOINT_LINES=(
    "$BREAKER"
)
LOCATION_LINES=(
    "$BREAKER"
)
# the member-suspension policies of balancer://guarded (issue: a standby
# breaker AND a suspension policy against neither, in the same run)
BALANCER_LINES=(
    "ApiBalancerSuspend codes=connect-refused,connect-timeout,503 initial=5s factor=2 max=1m"
    "ApiBalancerMarkForSuspension codes=read-timeout,closed retries=2 retry-delay=1s"
    "ApiBalancerRetries 2"
    "ApiBalancerTimeoutAction fault"
)

ROUNDS="" DURATION="" WARMUP="" CONNECTIONS=50 REQUESTS=2000
QUICK=0 STRICT=0 CALLGRIND=0

usage() {
    cat <<'EOF'
usage: test/bench/bench_breaker.sh [options]   (./apxs-build.sh bench breaker)

  --rounds N       rounds over all paths (default 11)
  --duration S     seconds per wrk run (default 8)
  --connections C  wrk connections (default 50; one wrk thread)
  --warmup S       unrecorded load per path first (default 2, --quick 1)
  --quick          --rounds 3 --duration 4
  --strict         exit 1 when bp/b or ap/al is below 0.97
  --callgrind      instead of wrk: instructions per request of each path
                   under callgrind (httpd -X, --requests sequential requests
                   each, default 2000), which the machine's load does not
                   move. Needs valgrind. A few minutes.
  -h, --help       this text

The httpd uses APIGW_MPM/APIGW_SERVERS/APIGW_THREADS (default worker
1x64, see test/bench/lib.sh) and the modules in APIGW_MODULE_DIR (default build/).
EOF
}

say() { printf 'bench-breaker: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

parse_options "$@"
set_defaults 3 4 11 8
check_options
check_modules

# ---- processes: each one started is remembered and stopped on exit ----

WORK="" BACKEND_PID="" HTTPD_PID="" WRK_PID="" HTTPD_RUN="" HTTPD_STARTS=0
HTTPD_LOG_AS=httpd-error.log        # one error log: $OUT/logs/httpd-error.log
bench_traps

# check URL NAME: 200 with the backend's file
check() {
    local url=$1 name=$2 body=$WORK/check.b code
    code=$(curl -sS -o "$body" -w '%{http_code}' --max-time 5 "$url") || code=000
    [ "$code" = 200 ] && cmp -s "$body" "$WORK/backend/html/item.json" \
        || die "$name: GET $url answered $code, not the backend's file"
}

# ---- the servers ----

indent() {
    local l
    for l in "$@"; do
        printf '    %s\n' "$l"
    done
}

write_gateway_conf() {
    {
        echo "# breaker benchmark gateway"
        echo "Listen 127.0.0.1:$HTTPD_PORT"
        echo "ProxyPass /pp/ http://127.0.0.1:$BACKEND_PORT/items/"
        echo "<Proxy balancer://plain>"
        echo "    BalancerMember http://127.0.0.1:$BACKEND_PORT"
        echo "    BalancerMember http://127.0.0.1:$BACKEND_PORT2"
        echo "</Proxy>"
        echo "<Proxy balancer://guarded>"
        echo "    BalancerMember http://127.0.0.1:$BACKEND_PORT"
        echo "    BalancerMember http://127.0.0.1:$BACKEND_PORT2"
        indent "${BALANCER_LINES[@]}"
        echo "</Proxy>"
        echo "ProxyPass /pl/ balancer://plain/items/"
        echo "<Location /pl/>"
        echo "</Location>"
        echo "ProxyPass /pc/ balancer://guarded/items/"
        echo "<Location /pc/>"
        indent "${LOCATION_LINES[@]}"
        echo "</Location>"
        echo "<ApiEndpoint \"/api/items/{id}\" GET>"
        echo "    ApiBackend balancer://plain/items/{id}"
        echo "</ApiEndpoint>"
        echo "<ApiEndpoint \"/cb/items/{id}\" GET>"
        echo "    ApiBackend balancer://guarded/items/{id}"
        indent "${ENDPOINT_LINES[@]}"
        echo "</ApiEndpoint>"
        echo "<Location /breakers>"
        echo "    SetHandler apigw-breaker-status"
        echo "</Location>"
    } > "$WORK/gateway.conf"
}

# breaker_seen SECTION: the standby state's request count in the window,
# from the status page; dies when the breaker is missing or not standby
breaker_seen() {
    curl -sS --max-time 5 "http://127.0.0.1:$HTTPD_PORT/breakers" \
        | "$PYTHON" -c '
import json, sys
doc = json.load(sys.stdin)
want = sys.argv[1]
for b in doc["breakers"]:
    if want in b["section"]:
        s = b["states"][0]
        if s["state"] != "standby" or s["trips"]:
            sys.exit("breaker %s is %s (trips %d)" % (want, s["state"], s["trips"]))
        print(s["window"]["requests"])
        sys.exit(0)
sys.exit("no breaker in " + want)' "$1"
}

declare -A URL
URL_KEYS=(a al ap b bp)
set_urls() {
    URL[a]="http://127.0.0.1:$HTTPD_PORT/pp/42"
    URL[al]="http://127.0.0.1:$HTTPD_PORT/pl/42"
    URL[ap]="http://127.0.0.1:$HTTPD_PORT/pc/42"
    URL[b]="http://127.0.0.1:$HTTPD_PORT/api/items/42"
    URL[bp]="http://127.0.0.1:$HTTPD_PORT/cb/items/42"
}

report() {
    "$PYTHON" - "$WORK/runs.jsonl" "$OUT/results.json" "$TARGET" "$STRICT" \
        "$ROUNDS" "$DURATION" "$CONNECTIONS" "${ENDPOINT_LINES[@]}" "${BALANCER_LINES[@]}" <<'EOF'
import json, statistics, sys

runs_path, out_path = sys.argv[1], sys.argv[2]
target, strict = float(sys.argv[3]), sys.argv[4] == "1"
rounds, duration, conns = sys.argv[5:8]
policies = sys.argv[8:]
runs = [json.loads(l) for l in open(runs_path) if l.strip()]
LABEL = {"a": "mod_proxy ProxyPass", "al": "ProxyPass balancer + <Location>",
         "ap": "ProxyPass balancer + policies",
         "b": "ApiEndpoint, balancer", "bp": "ApiEndpoint, balancer + policies"}
med = lambda v: statistics.median(v) if v else None
for r in runs:
    r["cpu_us"] = r["server_cpu_ticks"] / float(r["clk_tck"]) * 1e6 / max(r["requests"], 1)
summary = {}
print()
print("policies: " + " | ".join(policies))
print("%s rounds x %ss per path, wrk -t1 -c%s, order rotating; medians"
      % (rounds, duration, conns))
print("%-3s %-34s %9s %8s %8s %10s %6s" % ("", "path", "req/s", "p50 ms",
                                          "p99 ms", "CPU us/req", "errors"))
for p in ("a", "al", "ap", "b", "bp"):
    rs = [r for r in runs if r["path"] == p]
    s = {"median_rps": med([r["rps"] for r in rs]),
         "median_p50_ms": med([r["p50_ms"] for r in rs]),
         "median_p99_ms": med([r["p99_ms"] for r in rs]),
         "median_cpu_us_per_req": med([r["cpu_us"] for r in rs]),
         "errors": sum(r["non2xx"] + r["socket_errors"] for r in rs),
         "runs": len(rs)}
    summary[p] = s
    print("%-3s %-34s %9.0f %8.2f %8.2f %10.1f %6d"
          % (p, LABEL[p], s["median_rps"], s["median_p50_ms"],
             s["median_p99_ms"], s["median_cpu_us_per_req"], s["errors"]))

def paired(num, den, field):
    by = {}
    for r in runs:
        by.setdefault(r["round"], {})[r["path"]] = r[field]
    return [v[num] / v[den] for _, v in sorted(by.items())
            if num in v and den in v and v[den]]

ratios = {}
print()
for num, den, verdict in (("bp", "b", True), ("ap", "al", True),
                          ("bp", "a", False), ("ap", "a", False)):
    per_round = paired(num, den, "rps")
    cpu = paired(den, num, "cpu_us")        # inverse: less CPU is better
    r = {"median": med(per_round), "per_round": per_round,
         "cpu_ratio_median": med(cpu), "verdict": verdict}
    ratios["%s/%s" % (num, den)] = r
    print("ratio %-5s %.3f (median of %d paired rounds, %.3f..%.3f); by CPU "
          "per request %.3f%s"
          % ("%s/%s" % (num, den), r["median"], len(per_round),
             min(per_round), max(per_round), r["cpu_ratio_median"],
             ("  %s target %.2f" % ("MEETS" if r["median"] >= target
                                    else "BELOW", target)) if verdict else ""))
errors = sum(s["errors"] for s in summary.values())
json.dump({"paths": summary, "ratios": ratios, "policies": policies,
           "rounds": int(rounds), "duration": int(duration),
           "connections": int(conns), "target": target, "errors": errors},
          open(out_path, "w"), indent=2)
print("results: " + out_path)
if errors:
    print("ERROR: %d failed requests" % errors)
    sys.exit(1)
if strict and any(r["verdict"] and r["median"] < target
                  for r in ratios.values()):
    sys.exit(1)
EOF
}

# ---- callgrind: instructions per request ----

run_callgrind() {
    local key n base
    write_callgrind_wrapper
    : > "$WORK/cg.tsv"
    for key in "${URL_KEYS[@]}"; do
        base=${URL[$key]%/42}
        cg_begin "$key" " to $base/{1..$REQUESTS}"
        check "${URL[$key]}" "$key"
        # one keep-alive connection, only a Host header, like wrk
        cg_requests "$key" "$base/[1-$REQUESTS]" -H 'User-Agent:' -H 'Accept:'
        stop_httpd
        n=$(wc -l < "$HTTPD_RUN/access.log")
        [ -s "$CG_OUT" ] || die "callgrind wrote no profile for path $key"
        cp "$CG_OUT" "$OUT/raw/"
        printf '%s\t%s\t%s\n' "$key" "$n" "$CG_OUT" >> "$WORK/cg.tsv"
        unset CG_OUT
    done
    "$PYTHON" - "$WORK/cg.tsv" "$OUT/results.json" "${ENDPOINT_LINES[@]}" "${BALANCER_LINES[@]}" <<'PYEOF'
import json, re, subprocess, sys

rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
policies = sys.argv[3:]
LABEL = {"a": "mod_proxy ProxyPass", "al": "ProxyPass balancer + <Location>",
         "ap": "ProxyPass balancer + policies", "b": "ApiEndpoint, balancer",
         "bp": "ApiEndpoint, balancer + policies"}
LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+\S*?:?((?:apigw_)?cb_\w+)\b")

def total(path):
    for line in open(path, errors="replace"):
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise SystemExit("no totals in " + path)

def cb_functions(path, n):
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes",
                          "--threshold=100", path], capture_output=True,
                         text=True).stdout
    found = {}
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            found.setdefault(m.group(2), int(m.group(1).replace(",", "")) / n)
    return found

per = {}
print()
print("policies: " + " | ".join(policies))
print("instructions per request inside ap_process_request (callgrind):")
for key, n, path in rows:
    per[key] = {"requests": int(n), "ir_per_request": total(path) / int(n),
                "cb_functions": cb_functions(path, int(n))}
    print("%-3s %-34s %9.0f  (%s requests)" % (key, LABEL[key],
                                               per[key]["ir_per_request"], n))
ratios = {}
for num, den in (("bp", "b"), ("ap", "al"), ("ap", "a"), ("bp", "a")):
    r = per[den]["ir_per_request"] / per[num]["ir_per_request"]
    ratios["%s/%s" % (num, den)] = r
    print("ratio %-5s %.3f  (%+.0f instructions per request)"
          % ("%s/%s" % (num, den), r,
             per[num]["ir_per_request"] - per[den]["ir_per_request"]))
# An evaluation runs once per check period whatever the request rate;
# under callgrind requests are slow, so it weighs far more per request
# than at real rates (at 5,000 req/s and check=100ms, once per 500
# requests). The ratios without it are the ones that carry over.
for num, den in (("bp", "b"), ("ap", "al")):
    ev = per[num]["cb_functions"].get("apigw_cb_evaluate", 0)
    r = per[den]["ir_per_request"] / (per[num]["ir_per_request"] - ev)
    ratios["%s/%s without evaluations" % (num, den)] = r
    print("ratio %-5s %.3f  without the evaluations (%.0f instructions per "
          "request here, time-driven)" % ("%s/%s" % (num, den), r, ev))
print("the breaker's functions on path bp (inclusive, per request):")
for name, ir in sorted(per["bp"]["cb_functions"].items(), key=lambda x: -x[1]):
    print("  %-32s %8.0f" % (name, ir))
json.dump({"callgrind": per, "ratios": ratios, "policies": policies},
          open(sys.argv[2], "w"), indent=2)
print("results: " + sys.argv[2])
PYEOF
}

# ---- main ----

CLK_TCK=$(getconf CLK_TCK)
make_work breaker
rm -rf "$OUT"
mkdir -p "$OUT/raw"

read -r BACKEND_PORT BACKEND_PORT2 HTTPD_PORT <<<"$(free_ports 3)"
[ "$CALLGRIND" = 1 ] || say "rounds $ROUNDS x ${DURATION}s, -c$CONNECTIONS, warm-up ${WARMUP}s; about $(( (5 * (WARMUP + 1) + 5 * ROUNDS * (DURATION + 1) + 10) / 60 ))m"
say "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
start_backend "$BACKEND_PORT" "$BACKEND_PORT2"
write_gateway_conf
set_urls
if [ "$CALLGRIND" = 1 ]; then
    run_callgrind
    exit 0
fi
start_httpd
for key in "${URL_KEYS[@]}"; do
    check "${URL[$key]}" "$key"
done
[ "$(breaker_seen '"/cb/items/{id}"')" -ge 1 ] || die "the endpoint's breaker counted nothing"
[ "$(breaker_seen '/pc/')" -ge 1 ] || die "the location's breaker counted nothing"
say "checked: every path answers 200 with the backend's file; both breakers count"

for key in "${URL_KEYS[@]}"; do
    warm_up "$key"
done
for ((round = 1; round <= ROUNDS; round++)); do
    say "round $round/$ROUNDS"
    # rotate the order; each policy path stays next to its baseline
    case $((round % 4)) in
        1) order="a al ap b bp" ;;
        2) order="bp b ap al a" ;;
        3) order="b bp al ap a" ;;
        0) order="a ap al bp b" ;;
    esac
    for key in $order; do
        run_wrk "$key" "$round" "$OUT/raw/$key-r$round.txt"
    done
done
seen=$(breaker_seen '"/cb/items/{id}"') || die "the endpoint's breaker: $seen"
say "the endpoint's breaker: standby, never tripped, $seen requests in its window at the end"
say "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
cp "$WORK/runs.jsonl" "$OUT/raw/"
report
