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

# shared helpers and the overhead benchmarks' processes, servers and wrk
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_setup suspend
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

parse_options "$@"
set_defaults 3 4 5 8
check_options

# ---- processes: each one started is remembered and stopped on exit ----

WORK="" BACKEND_PID="" HTTPD_PID="" WRK_PID="" HTTPD_RUN="" HTTPD_STARTS=0
bench_traps

# check URL NAME: 200 with the backend's file
check() {
    local url=$1 name=$2 body=$WORK/check.b code
    code=$(curl -sS -o "$body" -w '%{http_code}' --max-time 5 "$url") || code=000
    [ "$code" = 200 ] && cmp -s "$body" "$WORK/backend/html/item.json" \
        || die "$name: GET $url answered $code, not the backend's file"
}

# ---- the servers ----

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

declare -A URL
set_urls() {
    URL[a]="http://127.0.0.1:$HTTPD_PORT/pa/42"
    URL[as]="http://127.0.0.1:$HTTPD_PORT/ps/42"
    URL[b]="http://127.0.0.1:$HTTPD_PORT/api/plain/42"
    URL[bs]="http://127.0.0.1:$HTTPD_PORT/api/sus/42"
    URL[rr]="http://127.0.0.1:$HTTPD_PORT/rr/42"
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
    local key
    write_callgrind_wrapper
    mkdir -p "$OUT/callgrind"
    : > "$WORK/cg.txt"
    write_gateway_conf
    for key in a as b bs rr; do
        cg_begin "$key"
        check "${URL[$key]}" "$key"
        cg_requests "$key" "${URL[$key]%/42}/[1-$REQUESTS]" -H 'User-Agent:' -H 'Accept:'
        cg_end "$key"
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
check_modules
make_work sus
rm -rf "$OUT"
mkdir -p "$OUT/raw"
read -r BACKEND_PORT BACKEND_PORT2 HTTPD_PORT <<<"$(free_ports 3)"
set_urls
say "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
start_backend "$BACKEND_PORT" "$BACKEND_PORT2"
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
