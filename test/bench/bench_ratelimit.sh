#!/usr/bin/env bash
# Owns the rate limiter's benchmark (`./apxs-build.sh bench ratelimit`):
# what a request pays for passing an ApiRateLimit that never refuses, in
# one run on one httpd in front of one nginx backend:
#
#   a   plain mod_proxy: ProxyPass /pp/ -> backend /items/
#   al  the same ProxyPass with an ApiRateLimit in its <Location>
#   b   an <ApiEndpoint "/api/items/{id}"> (mod_apigw), no limit
#   bl  the same endpoint with an ApiRateLimit
#   bq  the same, with ApiRateLimitHeadersAdmitted Off (what the three
#       RateLimit-* fields on every answer cost httpd to send)
#   rd  the same endpoint and limit, buckets on Redis (a virtual host on a
#       second port with ApiRateLimitStore; one EVALSHA per request)
#
# The limit is by=ip with numbers no load reaches, so every request does
# the whole work (key hash, slot lookup, compare-and-swap, counters,
# RateLimit-* headers) and none is refused; all wrk connections come from
# 127.0.0.1, one key, the most contended case. Each round runs every path
# once, the paths compared back to back (a al, b bl bq, then rd), which
# of them goes first alternating; the report gives medians and the median
# of the per-round ratios al/a, bl/b, bq/b, bl/a (target >= 0.97 for al/a
# and bl/b) and, for Redis, rd/bl with the latency it adds. --callgrind
# counts instructions per request of a, al, b, bl and bq instead
# (deterministic).
# Everything listens on 127.0.0.1 and is stopped on exit; results go to
# build/bench/ratelimit/ (results.json, raw wrk reports, logs).
set -euo pipefail

# shared helpers and the overhead benchmarks' processes, servers and wrk
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_setup ratelimit
REDIS_BIN=${REDIS_BIN:-/usr/bin/redis-server}
TARGET=0.97
LIMIT="ApiRateLimit average=1000000000 period=1s burst=1000000000 by=ip name=bench"

ROUNDS="" DURATION="" WARMUP="" CONNECTIONS=50 REQUESTS=2000
QUICK=0 STRICT=0 REDIS=1 CALLGRIND=0

usage() {
    cat <<'EOF'
usage: test/bench/bench_ratelimit.sh [options]   (./apxs-build.sh bench ratelimit)

  --rounds N       rounds over all paths (default 11)
  --duration S     seconds per wrk run (default 5)
  --connections C  wrk connections (default 50; one wrk thread)
  --warmup S       unrecorded load per path first (default 2, --quick 1)
  --quick          --rounds 3 --duration 4
  --no-redis       leave out path rd (no redis-server needed)
  --strict         exit 1 when al/a or bl/b is below 0.97
  --callgrind      instructions per request of a, al, b, bl, bq under callgrind
                   (httpd -X, --requests sequential requests each, default
                   2000) instead of wrk; about two minutes. Needs valgrind.
  -h, --help       this text
EOF
}

say() { printf 'bench-ratelimit: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# bench_option ARG...: this benchmark's own option, for parse_options
bench_option() {
    case "$1" in
        --no-redis) REDIS=0; SHIFT=1 ;;
        *) return 1 ;;
    esac
}
parse_options "$@"
set_defaults 3 4 11 5
check_options
if [ "$REDIS" = 1 ] && [ "$CALLGRIND" = 0 ]; then
    command -v "$REDIS_BIN" >/dev/null 2>&1 || die "redis-server is missing (or use --no-redis)"
fi

# ---- processes: each one started is remembered and stopped on exit ----

WORK="" BACKEND_PID="" REDIS_PID="" HTTPD_PID="" WRK_PID="" HTTPD_RUN="" HTTPD_STARTS=0

# cleanup_hook: run by cleanup after httpd, before the backend
cleanup_hook() { stop "$REDIS_PID" redis-server; }
bench_traps

# check URL NAME: 200 with the backend's file and, for a limited path, the
# RateLimit headers (the limit really ran)
check() {
    local url=$1 name=$2 limited=$3 hdr=$WORK/check.h body=$WORK/check.b code
    code=$(curl -sS -D "$hdr" -o "$body" -w '%{http_code}' --max-time 5 "$url") || code=000
    [ "$code" = 200 ] && cmp -s "$body" "$WORK/backend/html/item.json" \
        || die "$name: GET $url answered $code, not the backend's file"
    if [ "$limited" = 1 ]; then
        grep -qi '^RateLimit-Limit: 1000000000' "$hdr" || die "$name: no RateLimit-Limit header: the limit did not run"
    else
        grep -qi '^RateLimit' "$hdr" && die "$name: a RateLimit header on an unlimited path"
    fi
    return 0
}

# ---- the servers ----

start_redis() {
    "$REDIS_BIN" --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
        --daemonize no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
    REDIS_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null && return 0
        alive "$REDIS_PID" || break
        sleep 0.1
    done
    cat "$WORK/redis.log" >&2
    die "redis-server did not start"
}

# write_gateway_conf PATHS: the gateway serving the given paths
write_gateway_conf() {
    local paths=" $* "
    {
        echo "# rate-limit benchmark gateway"
        echo "Listen 127.0.0.1:$HTTPD_PORT"
        [[ $paths == *" a "* ]] && cat <<EOF
ProxyPass /pp/ http://127.0.0.1:$BACKEND_PORT/items/
EOF
        [[ $paths == *" al "* ]] && cat <<EOF
ProxyPass /pl/ http://127.0.0.1:$BACKEND_PORT/items/
<Location /pl/>
    $LIMIT
</Location>
EOF
        [[ $paths == *" b "* ]] && cat <<EOF
<ApiEndpoint "/api/items/{id}" GET>
    ApiBackend http://127.0.0.1:$BACKEND_PORT/items/{id}
</ApiEndpoint>
EOF
        [[ $paths == *" bl "* ]] && cat <<EOF
<ApiEndpoint "/rl/items/{id}" GET>
    ApiBackend http://127.0.0.1:$BACKEND_PORT/items/{id}
    $LIMIT
</ApiEndpoint>
EOF
        [[ $paths == *" bq "* ]] && cat <<EOF
<ApiEndpoint "/rq/items/{id}" GET>
    ApiBackend http://127.0.0.1:$BACKEND_PORT/items/{id}
    $LIMIT
    ApiRateLimitHeadersAdmitted Off
</ApiEndpoint>
EOF
        [[ $paths == *" rd "* ]] && cat <<EOF
Listen 127.0.0.1:$HTTPD_PORT2
<VirtualHost 127.0.0.1:$HTTPD_PORT2>
    ApiRateLimitStore redis://127.0.0.1:$REDIS_PORT timeout=200ms
    ApiRateLimitStoreFailure closed
    <ApiEndpoint "/rd/items/{id}" GET>
        ApiBackend http://127.0.0.1:$BACKEND_PORT/items/{id}
        $LIMIT
    </ApiEndpoint>
</VirtualHost>
EOF
        true
    } > "$WORK/gateway.conf"
}

declare -A URL LIMITED
set_urls() {
    URL[a]="http://127.0.0.1:$HTTPD_PORT/pp/42"
    URL[al]="http://127.0.0.1:$HTTPD_PORT/pl/42"
    URL[b]="http://127.0.0.1:$HTTPD_PORT/api/items/42"
    URL[bl]="http://127.0.0.1:$HTTPD_PORT/rl/items/42"
    URL[bq]="http://127.0.0.1:$HTTPD_PORT/rq/items/42"
    URL[rd]="http://127.0.0.1:$HTTPD_PORT2/rd/items/42"
    LIMITED=([a]=0 [al]=1 [b]=0 [bl]=1 [bq]=0 [rd]=1)
}

report() {
    "$PYTHON" - "$WORK/runs.jsonl" "$OUT/results.json" "$TARGET" "$STRICT" \
        "$ROUNDS" "$DURATION" "$CONNECTIONS" <<'EOF'
import json, statistics, sys

runs_path, out_path, target, strict = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4] == "1"
rounds, duration, conns = sys.argv[5:8]
runs = [json.loads(l) for l in open(runs_path) if l.strip()]
LABEL = {"a": "mod_proxy ProxyPass", "al": "ProxyPass + ApiRateLimit",
         "b": "ApiEndpoint", "bl": "ApiEndpoint + ApiRateLimit",
         "bq": "the same, no headers on admitted",
         "rd": "ApiEndpoint + ApiRateLimit on Redis"}
med = lambda v: statistics.median(v) if v else None
for r in runs:
    r["cpu_us"] = r["server_cpu_ticks"] / float(r["clk_tck"]) * 1e6 / max(r["requests"], 1)
paths = [p for p in ("a", "al", "b", "bl", "bq", "rd") if any(r["path"] == p for r in runs)]
summary = {}
print()
print("%s rounds x %ss per path, wrk -t1 -c%s, compared paths back to back; medians" % (rounds, duration, conns))
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
for num, den, what in (("al", "a", "the limit on a plain ProxyPass"),
                       ("bl", "b", "the limit on an endpoint"),
                       ("bq", "b", "the same without headers on admitted"),
                       ("bl", "a", "endpoint + limit against plain mod_proxy"),
                       ("b", "a", "endpoint against plain mod_proxy"),
                       ("rd", "bl", "Redis against the local zone")):
    if num not in summary or den not in summary:
        continue
    rps = paired(num, den, "rps")
    cpu = paired(den, num, "cpu_us")       # inverted: higher is better
    ratios["%s/%s" % (num, den)] = {"rps_median": med(rps), "rps_rounds": rps,
                                    "cpu_median": med(cpu)}
    print("%-6s %-42s req/s %.3f (rounds %s); by CPU per request %.3f"
          % ("%s/%s" % (num, den), what, med(rps), " ".join("%.3f" % x for x in rps), med(cpu)))
if "rd" in summary and "bl" in summary:
    add50 = summary["rd"]["median_p50_ms"] - summary["bl"]["median_p50_ms"]
    add99 = summary["rd"]["median_p99_ms"] - summary["bl"]["median_p99_ms"]
    ratios["redis_added_ms"] = {"p50": add50, "p99": add99}
    print("Redis adds %+.2f ms at p50 and %+.2f ms at p99 (medians, against the local zone)" % (add50, add99))
errors = sum(s["errors"] for s in summary.values())
ok = errors == 0 and all(ratios[k]["rps_median"] >= target for k in ("al/a", "bl/b") if k in ratios)
print()
print("verdict: %s (al/a and bl/b >= %.2f%s)" % ("PASS" if ok else "FAIL", target,
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
    for key in a al b bl bq; do
        write_gateway_conf "$key"
        rm -f "$WORK/httpd-$((HTTPD_STARTS + 1))/access.log"
        cg_begin "$key"
        check "${URL[$key]}" "$key" "${LIMITED[$key]}"
        cg_requests "$key" "${URL[$key]%/42}/[1-$REQUESTS]" -H 'User-Agent:' -H 'Accept:'
        cg_end "$key"
    done
    "$PYTHON" - "$WORK/cg.txt" "$OUT/callgrind/results.json" <<'EOF'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    k, total, n = line.split()
    rows[k] = int(total) / int(n)
label = {"a": "mod_proxy ProxyPass", "al": "ProxyPass + ApiRateLimit",
         "b": "ApiEndpoint", "bl": "ApiEndpoint + ApiRateLimit",
         "bq": "the same, no headers on admitted"}
print()
print("instructions per request (callgrind, inside ap_process_request)")
for k in ("a", "al", "b", "bl", "bq"):
    print("  %-3s %-34s %9.0f" % (k, label[k], rows[k]))
print("  the limit costs %.0f instructions on a ProxyPass (%+.1f %%) and %.0f on an endpoint (%+.1f %%);"
      % (rows["al"] - rows["a"], 100 * (rows["al"] / rows["a"] - 1),
         rows["bl"] - rows["b"], 100 * (rows["bl"] / rows["b"] - 1)))
print("  without the headers on admitted answers %.0f (%+.1f %%)"
      % (rows["bq"] - rows["b"], 100 * (rows["bq"] / rows["b"] - 1)))
json.dump(rows, open(sys.argv[2], "w"), indent=2)
EOF
}

# ---- main ----

CLK_TCK=$(getconf CLK_TCK)
check_modules
make_work rl
# each mode replaces only its own results
if [ "$CALLGRIND" = 1 ]; then
    rm -rf "$OUT/callgrind"
else
    rm -rf "$OUT/raw" "$OUT/logs" "$OUT/results.json"
    mkdir -p "$OUT/raw"
fi
read -r BACKEND_PORT HTTPD_PORT HTTPD_PORT2 REDIS_PORT <<<"$(free_ports 4)"
set_urls
say "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
start_backend "$BACKEND_PORT"

if [ "$CALLGRIND" = 1 ]; then
    run_callgrind
    exit 0
fi

PATHS=(a al b bl bq)
if [ "$REDIS" = 1 ]; then
    start_redis
    PATHS+=(rd)
fi
write_gateway_conf "${PATHS[@]}"
start_httpd
for key in "${PATHS[@]}"; do
    check "${URL[$key]}" "$key" "${LIMITED[$key]}"
done
say "checked: ${PATHS[*]} answer 200 with the backend's file; the limited ones carry RateLimit-Limit"
say "rounds $ROUNDS x ${DURATION}s x ${#PATHS[@]} paths, -c$CONNECTIONS, warm-up ${WARMUP}s"
for key in "${PATHS[@]}"; do warm_up "$key"; done
for ((round = 1; round <= ROUNDS; round++)); do
    say "round $round/$ROUNDS"
    # compared paths back to back, the first of each group alternating
    if ((round % 2)); then order="a al b bl bq"; else order="al a bq bl b"; fi
    [ "$REDIS" = 1 ] && order="$order rd"
    for key in $order; do
        run_wrk "$key" "$round" "$OUT/raw/$key-r$round.txt"
    done
done
say "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
cp "$WORK/runs.jsonl" "$OUT/raw/"
report
