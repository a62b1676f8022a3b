#!/usr/bin/env bash
# Owns the runtime-routes benchmark (`./apxs-build.sh bench routes`): what
# serving routes registered through the admin API costs and how fast a
# change reaches every child and another gateway, in one run, against one
# nginx backend (the overhead benchmarks' one static JSON file), with the
# modules of APIGW_MODULE_DIR (default APIGW_BUILD_DIR, else build/):
#
#   1  a runtime route against the same <ApiEndpoint> (same path shape,
#      same backend): back-to-back wrk pairs, median of the per-round
#      ratios (target >= 0.97)
#   2  the same runtime route in an environment of 10,000 routes
#      (/svc{i%500}/v{i%3}/items{i}/{id}, over the shards) against one of
#      10 (target >= 0.97), and, no target, in 10,000 routes that all share
#      its shard and trie (/api/v1/items/{id}/f{i}: the same leading static
#      text, the shard key). The environments are served by three virtual hosts
#      of one httpd (ApiEnvironment), so each pair runs back to back.
#      The 20,000 routes are registered through the API (POST, one route
#      each, many keep-alive connections); the time is printed.
#   3  propagation: from the 201 of a POST to the first 200 on the new
#      route in every child (httpd 2x64; probes on new connections, the
#      child that answered read from a probe log), p99 of 100 writes
#      (target <= 50 ms); and to a second gateway on the same PostgreSQL
#      store (private cluster, ApiRouteRefresh 1s): p50/p99 (target
#      <= refresh + 100 ms)
#   4  rebuild of a 10,000-route table: a gateway (1 child) started on
#      the store, five times: the child's own clock of its first table
#      (AGW00725 at info: reading the store, compiling and publishing every
#      route; target <= 200 ms; opening the store, before, is printed
#      apart), and from the exec of httpd to the first
#      200 on the last route (an upper bound: the child's start and the
#      poller's retries too), minus the same start with 10 routes
#   5  churn: wrk on an unchanged route of the 10,000 with 50 PATCHes of
#      other routes' targetUrl per second against the same load without
#      writes (target >= 0.9), and every non-200 answer counted (wrk's and
#      the server's own log of them: must be 0)
#
# Also printed, without targets: propagation in one child into the spread
# table and into the 10,000-route shard; how long each child's builder
# thread spends writing the route snapshot file (it serves no change
# meanwhile) and how many slow propagations fell in such a write; httpd's
# CPU per write and its busiest threads under writes with no requests.
# Ratios whose 95 % interval is wider than 0.06 are marked NOISY, with
# their CPU-per-request ratio; --callgrind gives figures 1-2 in
# instructions per request instead (deterministic).
#
# A missed target is reported, not an error: the exit status is 0 unless
# something crashed or failed to run (--strict: 1 on any FAIL). Everything
# listens on 127.0.0.1 and is stopped on exit; results go to
# build/bench/routes/ (results.json, raw wrk reports, JSON of each step,
# logs/). About 4.5 minutes (--quick about 2.5, --callgrind about 2).
set -euo pipefail

# shared helpers and the overhead benchmarks' processes, servers and wrk
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_setup routes
# the modules: APIGW_MODULE_DIR as for every benchmark, else those of a
# private build (APIGW_BUILD_DIR, as `apxs-build.sh bench` built them)
APIGW_MODULE_DIR=${APIGW_MODULE_DIR:-${APIGW_BUILD_DIR:-$TOP/build}}
HELPER=$HERE/bench_routes.py

ROUNDS="" DURATION="" WARMUP="" CONNECTIONS=50 REQUESTS=2000
QUICK=0 STRICT=0 CALLGRIND=0
PGSQL=1 PREFIX=1 ROUTES=10000 WRITES="" FLEET_WRITES="" CHURN_ROUNDS=""
CHURN_DURATION="" RATE=50 REG_CONNS=16

usage() {
    cat <<'EOF'
usage: test/bench/bench_routes.sh [options]   (./apxs-build.sh bench routes)

  --rounds N        rounds of figures 1 and 2 (default 12, --quick 4)
  --duration S      seconds per wrk run of figures 1 and 2 (default 2)
  --connections C   wrk connections (default 50; one wrk thread)
  --warmup S        unrecorded load per path first (default 2, --quick 1)
  --routes N        routes in the big environments (default 10000)
  --writes N        writes of the propagation figure (default 100, --quick 40)
  --fleet-writes N  writes seen by the second gateway (default 30, --quick 12)
  --churn-rounds N  pairs of the churn figure (default 6, --quick 3)
  --churn-duration S seconds per churn wrk run (default 4)
  --rate R          route writes per second under churn (default 50)
  --no-prefix       leave out the one-shard environment (figure 2's extra)
  --no-pgsql        leave out the second gateway on PostgreSQL
  --quick           the shorter defaults above
  --strict          exit 1 when a figure misses its target
  --callgrind       figures 1 and 2 only, in instructions per request under
                    callgrind (httpd -X, --requests sequential requests per
                    path, default 2000) instead of wrk: deterministic, where
                    req/s on a busy machine is not. Needs valgrind.
  -h, --help        this text
EOF
}

say() { printf 'bench-routes: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# bench_option ARG...: this benchmark's own options, for parse_options
bench_option() {
    case "$1" in
        --no-pgsql) PGSQL=0; SHIFT=1 ;;
        --no-prefix) PREFIX=0; SHIFT=1 ;;
        --routes) need_value "$@"; ROUTES=$2; SHIFT=2 ;;
        --writes) need_value "$@"; WRITES=$2; SHIFT=2 ;;
        --fleet-writes) need_value "$@"; FLEET_WRITES=$2; SHIFT=2 ;;
        --churn-rounds) need_value "$@"; CHURN_ROUNDS=$2; SHIFT=2 ;;
        --churn-duration) need_value "$@"; CHURN_DURATION=${2%s}; SHIFT=2 ;;
        --rate) need_value "$@"; RATE=$2; SHIFT=2 ;;
        *) return 1 ;;
    esac
}
parse_options "$@"
set_defaults 4 2 12 2
if [ "$QUICK" = 1 ]; then
    WRITES=${WRITES:-40} FLEET_WRITES=${FLEET_WRITES:-12} CHURN_ROUNDS=${CHURN_ROUNDS:-3}
fi
WRITES=${WRITES:-100} FLEET_WRITES=${FLEET_WRITES:-30} CHURN_ROUNDS=${CHURN_ROUNDS:-6}
CHURN_DURATION=${CHURN_DURATION:-4}
check_options
for v in ROUTES WRITES FLEET_WRITES CHURN_ROUNDS CHURN_DURATION RATE; do
    is_uint "${!v}" || die "$v must be a positive integer"
done
[ "$ROUTES" -ge 10 ] || die "--routes must be at least 10"
PG_BIN=""
if [ "$PGSQL" = 1 ]; then
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n | tail -n 1)
    [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] \
        || die "no PostgreSQL (./apxs-build.sh deps), or use --no-pgsql"
fi

# ---- processes: each one started is remembered and stopped on exit ----

WORK="" BACKEND_PID="" HTTPD_PID="" WRK_PID="" HTTPD_RUN="" HTTPD_STARTS=0
declare -A GW_PID=()          # other gateways: name -> pid
CHURN_PID="" PG_DATA="" SNAP_PID=""

# cleanup_hook: run by cleanup after HTTPD_PID, before the backend
cleanup_hook() {
    local name
    [ -n "$CHURN_PID" ] && { kill "$CHURN_PID" 2>/dev/null || true; wait "$CHURN_PID" 2>/dev/null || true; }
    snapwatch_stop
    for name in "${!GW_PID[@]}"; do
        gw_stop "$name"
    done
    pg_stop
}
bench_traps

# ---- gateways ----
# Each gateway is `apxs-build.sh run` on $WORK/NAME.conf, its run folder
# $WORK/run-NAME; HTTPD_PID is the one wrk measures (CPU per request).

# gw_start NAME SERVERS PORT: starts gateway NAME with SERVERS children of
# OVERHEAD_THREADS threads; waits until PORT answers
gw_start() {
    local name=$1 servers=$2 port=$3 run=$WORK/run-$1
    rm -rf "$run"
    mkdir -p "$run"
    ln -s /dev/null "$run/access.log"
    # setsid: its own process group, so its shutdown signals reach only it
    HTTPD_BIN=$HTTPD_BIN APIGW_RUN_DIR=$run APIGW_MODULE_DIR=$WORK/modules ASAN=0 \
    APIGW_MPM=worker APIGW_SERVERS=$servers APIGW_THREADS=$OVERHEAD_THREADS \
    APIGW_LOGLEVEL=warn \
        setsid "$TOP/apxs-build.sh" run "$WORK/$name.conf" >"$run.out" 2>&1 &
    GW_PID[$name]=$!
    if ! wait_http "http://127.0.0.1:$port/" "${GW_PID[$name]}" "httpd $name" 20; then
        cat "$run.out" >&2 || true
        tail -n 20 "$run/error.log" >&2 2>/dev/null || true
        die "httpd $name did not start"
    fi
}

# gw_stop NAME: stops it, keeps its error log in $OUT/logs/
gw_stop() {
    local name=$1 pid=${GW_PID[$1]:-}
    [ -n "$pid" ] || return 0
    stop "$pid" "httpd $name"
    unset "GW_PID[$name]"
    if [ "$HTTPD_PID" = "$pid" ]; then HTTPD_PID=""; fi
    if [ -s "$WORK/run-$name/error.log" ]; then
        mkdir -p "$OUT/logs"
        cat "$WORK/run-$name/error.log" >> "$OUT/logs/$name-error.log" || true
    fi
}

# children NAME: the pids of its children, space-separated
children() {
    pgrep -P "${GW_PID[$1]}" 2>/dev/null | tr '\n' ' ' | sed 's/ $//'
}

# wait_children NAME N: until NAME has N children
wait_children() {
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(children "$1" | wc -w)" -ge "$2" ] && return 0
        sleep 0.1
    done
    die "httpd $1 has not $2 children: $(children "$1")"
}

# ports (set in main): ADMIN small-env BIG prefix, the backend's two
# write_gw_conf NAME ENVS...: a gateway on the SQLite store serving
# each of ENVS (small big prefix) on its own virtual host, the admin API
# and the static endpoint on every port, the probe log (which child
# answered a probe) and the log of every other request not answered 200
write_gw_conf() {
    local name=$1 env port
    shift
    {
        echo "# runtime-routes benchmark gateway $name"
        echo "Listen 127.0.0.1:$ADMIN_PORT"
        for env in "$@"; do echo "Listen 127.0.0.1:${ENV_PORT[$env]}"; done
        cat <<EOF
ApiRouteStore sqlite3:$WORK/store/routes.sqlite
ApiRouteRefresh 1s
<Location "/admin">
    SetHandler apigw-admin
    Require ip 127.0.0.1
</Location>
<ApiEndpoint "/sta/v1/items/{id}" GET>
    ApiBackend http://127.0.0.1:$BACKEND_PORT/items/{id}
</ApiEndpoint>
SetEnvIf X-Probe . apigw_probe
CustomLog "$WORK/probe-$name.log" "%P %{X-Probe}i %>s" env=apigw_probe
CustomLog "$WORK/non200-$name.log" "%P %p %>s %U" "expr=%{REQUEST_STATUS} != 200 && -z req('X-Probe') && ! %{REQUEST_URI} =~ m#^/admin/#"
EOF
        for env in "$@"; do
            port=${ENV_PORT[$env]}
            printf '<VirtualHost 127.0.0.1:%s>\n    ApiEnvironment %s\n</VirtualHost>\n' "$port" "$env"
        done
    } > "$WORK/$name.conf"
}

# write_start_conf NAME ENV PORT: one server (no virtual host) serving ENV
write_start_conf() {
    cat > "$WORK/$1.conf" <<EOF
# runtime-routes benchmark: the start of a gateway on a full store
Listen 127.0.0.1:$3
ApiRouteStore sqlite3:$WORK/store/routes.sqlite
ApiEnvironment $2
EOF
}

# ---- PostgreSQL: a private cluster (as test/integration/pg_util.py) ----

pg_run() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_start() {
    local base=$WORK/pg
    mkdir -p "$base/sock"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$base"
    pg_run "$PG_BIN/initdb" -D "$base/data" -A trust -U apigw --no-sync -E UTF8 \
        --locale=C >"$base/initdb.log" 2>&1 || { cat "$base/initdb.log" >&2; die "initdb failed"; }
    PG_DATA=$base/data
    pg_run "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$base/postgres.log" -w -t 60 \
        -o "-p $PG_PORT -k $base/sock -c listen_addresses=127.0.0.1 -c fsync=off" \
        start >"$base/pg_ctl.log" 2>&1 || { cat "$base/pg_ctl.log" "$base/postgres.log" >&2; die "PostgreSQL did not start"; }
}

pg_stop() {
    [ -n "$PG_DATA" ] || return 0
    pg_run "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null 2>&1 || true
    PG_DATA=""
}

# write_pg_conf NAME PORT: a gateway of the fleet on the PostgreSQL store
write_pg_conf() {
    cat > "$WORK/$1.conf" <<EOF
# runtime-routes benchmark: a gateway of a fleet on one PostgreSQL store
Listen 127.0.0.1:$2
ApiRouteStore pgsql:"host=127.0.0.1 port=$PG_PORT user=apigw dbname=postgres"
ApiRouteRefresh 1s
<Location "/admin">
    SetHandler apigw-admin
    Require ip 127.0.0.1
</Location>
SetEnvIf X-Probe . apigw_probe
CustomLog "$WORK/probe-$1.log" "%P %{X-Probe}i %>s" env=apigw_probe
EOF
}

# ---- steps ----

helper() { "$PYTHON" "$HELPER" "$@"; }

# register ENV SHAPE COUNT: through the admin API; the JSON in $WORK/reg-ENV.json
register() {
    local env=$1 shape=$2 count=$3
    say "registering $count routes in environment $env ($shape) through the admin API, $REG_CONNS connections"
    helper register --admin "127.0.0.1:$ADMIN_PORT" --env "$env" --shape "$shape" \
        --count "$count" --backend "$BACKEND_PORT" --conns "$REG_CONNS" \
        --ids "$WORK/ids-$env.json" > "$WORK/reg-$env.json" \
        || { cat "$WORK/reg-$env.json" >&2; die "registering the routes of $env failed"; }
    "$PYTHON" - "$WORK/reg-$env.json" <<'PY' >&2
import json, sys
d = json.load(open(sys.argv[1]))
print("bench-routes:   %d routes in %.1f s (%.0f/s), %d errors"
      % (d["registered"], d["seconds"], d["per_second"], d["errors"]))
PY
}

# served URL: until it answers 200 (the builder has the routes)
served() {
    helper served --url "$1" --timeout 60 >/dev/null || die "$1 never answered 200"
}

# propagate OUTNAME LABEL ADMIN PROBE ENV WRITES GATEWAY [OPTIONS...]
propagate() {
    local out=$1 label=$2 admin=$3 probe=$4 env=$5 writes=$6 gw=$7
    shift 7
    say "propagation: $label ($writes writes)"
    helper propagate --admin "$admin" --probe "$probe" --env "$env" \
        --writes "$writes" --log "$WORK/probe-$gw.log" --pids "$(children "$gw")" \
        --backend "$BACKEND_PORT" --tag "$out" --label "$label" "$@" \
        > "$WORK/prop-$out.json" || die "propagation ($label) failed"
    "$PYTHON" - "$WORK/prop-$out.json" <<'PY' >&2
import json, sys
d = json.load(open(sys.argv[1]))
f = lambda v: "-" if v is None else "%.1f" % v
print("bench-routes:   every child: p50 %s ms, p99 %s ms, max %s ms; first child p50 %s ms; %d timeouts"
      % (f(d["p50_ms"]), f(d["p99_ms"]), f(d["max_ms"]), f(d["first_child_p50_ms"]), d["timeouts"]))
PY
}

# startup KEY ENV URL: one start of a gateway (1 child) serving ENV; the
# ms from the exec of httpd to the first 200 on URL (the poller starts
# httpd itself, so its own start is not counted), and the child's own
# clock of its first table (AGW00725: reading the store, compiling),
# appended to $WORK/startup.jsonl
startup() {
    local key=$1 env=$2 url=$3 run=$WORK/run-start line build
    write_start_conf start "$env" "$START_PORT"
    rm -rf "$run"
    mkdir -p "$run"
    ln -s /dev/null "$run/access.log"
    # the generated config only (HTTPD_BIN=true: no configtest, no start)
    HTTPD_BIN=/bin/true APIGW_RUN_DIR=$run APIGW_MODULE_DIR=$WORK/modules ASAN=0 \
    APIGW_MPM=worker APIGW_SERVERS=1 APIGW_THREADS=$OVERHEAD_THREADS \
    APIGW_LOGLEVEL="warn apigw:info" \
        "$TOP/apxs-build.sh" run "$WORK/start.conf" >/dev/null 2>&1 \
        || die "cannot write the config of the startup gateway"
    line=$(helper first200 --url "$url" --timeout 30 --exec-out "$run.out" \
        --exec "$HTTPD_BIN" -f "$run/httpd.conf" -DFOREGROUND) || true
    GW_PID[start]=$("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1] or "{}").get("pid") or "")' "$line")
    gw_stop start
    if [ -z "$line" ] || [[ $line == *'"ms": null'* ]]; then
        cat "$run.out" >&2 || true
        die "the gateway on $env never served $url"
    fi
    build=$(sed -n 's/.*AGW00725: .* in \([0-9]*\) ms (reading the store \([0-9]*\) ms, compiling \([0-9]*\) ms), after opening the store in \([0-9]*\) ms.*/{"ms": \1, "read_ms": \2, "compile_ms": \3, "open_ms": \4}/p' \
        "$run/error.log" 2>/dev/null | head -n 1)
    printf '{"key": "%s", "env": "%s", "result": %s, "build": %s}\n' "$key" "$env" "$line" \
        "${build:-null}" >> "$WORK/startup.jsonl"
    say "  start with $env: first 200 after $("$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])["ms"])' "$line") ms"
}

# thread_cpu PID...: "pid tid ticks" for every thread of each PID
thread_cpu() {
    local p t line f
    for p in "$@"; do
        for t in /proc/"$p"/task/*; do
            line=$(cat "$t/stat" 2>/dev/null) || continue
            # shellcheck disable=SC2206
            f=(${line##*) })
            echo "$p ${t##*/} $((f[11] + f[12]))"
        done
    done
}

# churn_only SECONDS: writes at RATE with no request load; httpd's CPU
# per write and its busiest threads (the builders)
churn_only() {
    local secs=$1 before after pids
    pids=$(children g3)
    # shellcheck disable=SC2086
    thread_cpu $pids > "$WORK/threads-before"
    before=$(cpu_ticks "${GW_PID[g3]}")
    helper churn --admin "127.0.0.1:$ADMIN_PORT" --ids "$WORK/ids-big.json" \
        --rate "$RATE" --seconds "$secs" --backends "$BACKEND_PORT,$BACKEND_PORT2" \
        --seed 7 --out "$WORK/churn-only.json" >/dev/null || die "the churn writer failed"
    after=$(cpu_ticks "${GW_PID[g3]}")
    # shellcheck disable=SC2086
    thread_cpu $pids > "$WORK/threads-after"
    "$PYTHON" - "$WORK/threads-before" "$WORK/threads-after" "$((after - before))" \
        "$CLK_TCK" "$WORK/churn-only.json" <<'PY' > "$WORK/churn-cpu.json"
import json, sys
def load(p):
    return {(l.split()[0], l.split()[1]): int(l.split()[2]) for l in open(p) if l.strip()}
b, a = load(sys.argv[1]), load(sys.argv[2])
ticks, hz = int(sys.argv[3]), float(sys.argv[4])
w = json.load(open(sys.argv[5]))
threads = sorted(((a[k] - b.get(k, 0)) / hz, k) for k in a)[::-1]
out = {"writes": w["writes"], "seconds": w["seconds"], "cpu_s": ticks / hz,
       "cpu_ms_per_write": ticks / hz * 1000 / max(w["writes"], 1),
       "cpu_share_of_one_core": ticks / hz / w["seconds"],
       "busiest_threads": [{"pid": k[0], "tid": k[1], "cpu_s": round(s, 3),
                            "share_of_one_core": round(s / w["seconds"], 3)}
                           for s, k in threads[:4]],
       "write_p50_ms": w["p50_ms"], "write_p99_ms": w["p99_ms"],
       "statuses": w["statuses"]}
print(json.dumps(out))
PY
    "$PYTHON" - "$WORK/churn-cpu.json" <<'PY' >&2
import json, sys
d = json.load(open(sys.argv[1]))
print("bench-routes:   %d writes in %.1f s, no load: httpd used %.2f s CPU (%.1f ms per write, %.0f %% of a core); busiest threads: %s"
      % (d["writes"], d["seconds"], d["cpu_s"], d["cpu_ms_per_write"], 100 * d["cpu_share_of_one_core"],
         ", ".join("%s/%s %.0f %%" % (t["pid"], t["tid"], 100 * t["share_of_one_core"]) for t in d["busiest_threads"])))
PY
}

# non200 NAME: lines in the gateway's log of non-200 answers
non200() { [ -f "$WORK/non200-$1.log" ] && wc -l < "$WORK/non200-$1.log" || echo 0; }

# churn_run KEY ROUND: one wrk run on URL[KEY]; with KEY churn, the writer
# runs around it. Appends the server's non-200 count to the run's record.
churn_run() {
    local key=$1 round=$2 before after
    before=$(non200 g3)
    if [ "$key" = churn ]; then
        "$PYTHON" "$HELPER" churn --admin "127.0.0.1:$ADMIN_PORT" --ids "$WORK/ids-big.json" \
            --rate "$RATE" --seconds "$((CHURN_DURATION + 1))" \
            --backends "$BACKEND_PORT,$BACKEND_PORT2" --seed "$round" \
            --out "$WORK/churn-w$round.json" >/dev/null &
        CHURN_PID=$!
        sleep 0.5
    fi
    run_wrk "$key" "$round" "$OUT/raw/$key-r$round.txt"
    if [ -n "$CHURN_PID" ]; then
        wait "$CHURN_PID" || die "the churn writer failed"
        CHURN_PID=""
    fi
    sleep 0.2
    after=$(non200 g3)
    echo "{\"round\": $round, \"path\": \"$key\", \"server_non200\": $((after - before))}" \
        >> "$WORK/non200.jsonl"
}

# snapwatch_start NAME: watches g3's children write the route snapshot
# (how long each write holds its builder thread) until snapwatch_stop
snapwatch_start() {
    # not through helper: $! must be python's own pid
    "$PYTHON" "$HELPER" snapwatch --snapshot "$WORK/store/routes.sqlite.snapshot.json" \
        --pids "$(children g3)" --out "$WORK/snap-$1.json" --max-seconds 600 &
    SNAP_PID=$!
}
snapwatch_stop() {
    [ -n "$SNAP_PID" ] || return 0
    kill -TERM "$SNAP_PID" 2>/dev/null || true
    wait "$SNAP_PID" 2>/dev/null || true
    SNAP_PID=""
}

# run_callgrind: instructions per request of each path of figures 1-2,
# on the store just filled (one httpd -X under callgrind per path)
run_callgrind() {
    local key
    gw_stop g1
    HTTPD_PID=""
    cp "$WORK/g1.conf" "$WORK/gateway.conf"
    HTTPD_PORT=$ADMIN_PORT
    write_callgrind_wrapper
    mkdir -p "$OUT/callgrind"
    : > "$WORK/cg.txt"
    for key in "${PATHS[@]}"; do
        cg_begin "$key"
        served "${URL[$key]}"
        cg_requests "$key" "${URL[$key]}?n=[1-$REQUESTS]"
        cg_end "$key"
    done
    "$PYTHON" - "$WORK/cg.txt" "$OUT/callgrind/results.json" "$ROUTES" <<'PY'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    k, total, n = line.split()
    rows[k] = int(total) / int(n)
n = "{:,}".format(int(sys.argv[3]))
label = {"static": "static <ApiEndpoint>", "rt10": "runtime route, 10 routes",
         "rt10k": "runtime route, %s routes (spread)" % n,
         "rt1shard": "runtime route, %s routes in its shard" % n}
print()
print("instructions per request (callgrind, inside ap_process_request)")
for k in ("static", "rt10", "rt10k", "rt1shard"):
    if k in rows:
        print("  %-9s %-44s %9.0f" % (k, label[k], rows[k]))
out = {"per_request": rows, "ratios": {}}
for num, den, what in (("rt10", "static", "runtime route / static <ApiEndpoint>"),
                       ("rt10k", "rt10", "%s routes / 10" % n),
                       ("rt1shard", "rt10", "%s routes in its shard / 10" % n)):
    if num in rows and den in rows:
        r = rows[den] / rows[num]
        out["ratios"]["%s/%s" % (num, den)] = r
        print("  %-14s %-40s %+6.0f instructions (%+.1f %%): ratio by instructions %.3f"
              % ("%s/%s" % (num, den), what, rows[num] - rows[den],
                 100 * (rows[num] / rows[den] - 1), r))
print("  (httpd's user space only, about a third of its CPU per request; "
      "the targets are on throughput, measured without --callgrind)")
json.dump(out, open(sys.argv[2], "w"), indent=2)
PY
}

# crashes: children that died of a signal, in any error log
crashes() {
    cat "$WORK"/run-*/error.log "$OUT"/logs/*-error.log 2>/dev/null \
        | grep -E 'AH00052|exit signal' | sort -u || true
}

# ---- main ----

CLK_TCK=$(getconf CLK_TCK)
check_modules
make_work routes
rm -rf "$OUT"
mkdir -p "$OUT/raw"
# the children (httpd's User) write the SQLite store
mkdir -p "$WORK/store"
[ "$(id -u)" = 0 ] && chown "${APIGW_USER:-www-data}:${APIGW_GROUP:-www-data}" "$WORK/store"
chmod 777 "$WORK/store"
: > "$WORK/runs.jsonl"
read -r BACKEND_PORT BACKEND_PORT2 ADMIN_PORT SMALL_PORT BIG_PORT PREFIX_PORT \
    START_PORT PG_PORT FLEET_A_PORT FLEET_B_PORT <<<"$(free_ports 10)"
declare -A ENV_PORT=([small]=$SMALL_PORT [big]=$BIG_PORT [prefix]=$PREFIX_PORT)
T_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
say "load average at start: $LOAD_START"
start_backend "$BACKEND_PORT" "$BACKEND_PORT2"

declare -A URL
URL[static]="http://127.0.0.1:$SMALL_PORT/sta/v1/items/42"
URL[rt10]="http://127.0.0.1:$SMALL_PORT/api/v1/items/42"
URL[rt10k]="http://127.0.0.1:$BIG_PORT/api/v1/items/42"
URL[rt1shard]="http://127.0.0.1:$PREFIX_PORT/api/v1/items/42"
URL[quiet]=${URL[rt10k]}
URL[churn]=${URL[rt10k]}

# -- figures 1 and 2: one child (stable pairs, see lib.sh), three environments
ENVS=(small big)
[ "$PREFIX" = 1 ] && ENVS+=(prefix)
write_gw_conf g1 "${ENVS[@]}"
gw_start g1 "$OVERHEAD_SERVERS" "$ADMIN_PORT"
HTTPD_PID=${GW_PID[g1]}
helper envs --admin "127.0.0.1:$ADMIN_PORT" "${ENVS[@]}" >/dev/null || die "cannot make the environments"
register small small 10
register big varied "$ROUTES"
[ "$PREFIX" = 1 ] && register prefix prefix "$ROUTES"
LAST_BIG=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["last_path"].replace("{id}", "42"))' "$WORK/reg-big.json")
LAST_SMALL=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["last_path"].replace("{id}", "42"))' "$WORK/reg-small.json")
served "http://127.0.0.1:$BIG_PORT$LAST_BIG"
PATHS=(static rt10 rt10k)
[ "$PREFIX" = 1 ] && { served "http://127.0.0.1:$PREFIX_PORT/api/v1/items/42/f$((ROUTES - 1))"; PATHS+=(rt1shard); }
for key in "${PATHS[@]}"; do
    served "${URL[$key]}"
done
if [ "$CALLGRIND" = 1 ]; then
    run_callgrind
    exit 0
fi
say "figures 1-2: $ROUNDS rounds x ${DURATION}s x ${#PATHS[@]} paths, -c$CONNECTIONS, 1x$OVERHEAD_THREADS, warm-up ${WARMUP}s"
for key in "${PATHS[@]}"; do warm_up "$key"; done
for ((round = 1; round <= ROUNDS; round++)); do
    say "round $round/$ROUNDS"
    # each pair back to back (static rt10, rt10 rt10k), the order reversed
    # every other round
    if ((round % 2)); then order="${PATHS[*]}"; else order=$(printf '%s\n' "${PATHS[@]}" | tac | tr '\n' ' '); fi
    for key in $order; do
        run_wrk "$key" "$round" "$OUT/raw/$key-r$round.txt"
    done
done
# extra: a write into the shard of 10,000 routes against one into the
# spread-out table, same gateway (one child)
if [ "$PREFIX" = 1 ]; then
    propagate g1big "one child, $ROUTES routes over the shards" "127.0.0.1:$ADMIN_PORT" \
        "127.0.0.1:$BIG_PORT" big 20 g1
    propagate g1prefix "one child, into a shard of $ROUTES routes" "127.0.0.1:$ADMIN_PORT" \
        "127.0.0.1:$PREFIX_PORT" prefix 20 g1 --shape prefix
fi
gw_stop g1

# -- figure 4: a gateway started on the store of 10,000 routes
say "figure 4: starts of a gateway (1 child) on the store: $ROUTES routes against 10"
: > "$WORK/startup.jsonl"
for rep in 1 2 3 4 5; do
    startup big big "http://127.0.0.1:$START_PORT$LAST_BIG"
    startup small small "http://127.0.0.1:$START_PORT$LAST_SMALL"
done

# -- figures 3 and 5: two children, the small and big environments
write_gw_conf g3 small big
gw_start g3 2 "$ADMIN_PORT"
wait_children g3 2
HTTPD_PID=${GW_PID[g3]}
served "http://127.0.0.1:$BIG_PORT$LAST_BIG"
served "${URL[rt10k]}"
sleep 1
snapwatch_start g3
propagate g3 "every child of 2, $ROUTES routes in the table" "127.0.0.1:$ADMIN_PORT" \
    "127.0.0.1:$BIG_PORT" big "$WRITES" g3
snapwatch_stop

say "figure 5: $RATE writes/s with no request load, ${CHURN_DURATION}s"
snapwatch_start churn
churn_only "$CHURN_DURATION"
snapwatch_stop
say "figure 5: $CHURN_ROUNDS rounds x ${CHURN_DURATION}s, without and with $RATE writes/s, -c$CONNECTIONS"
: > "$WORK/non200.jsonl"
SAVED_DURATION=$DURATION
DURATION=$CHURN_DURATION
warm_up quiet
for ((round = 1; round <= CHURN_ROUNDS; round++)); do
    say "churn round $round/$CHURN_ROUNDS"
    if ((round % 2)); then order="quiet churn"; else order="churn quiet"; fi
    for key in $order; do
        churn_run "$key" "$round"
    done
done
DURATION=$SAVED_DURATION
gw_stop g3
HTTPD_PID=""

# -- figure 3, fleet: a second gateway on one PostgreSQL store
if [ "$PGSQL" = 1 ]; then
    say "figure 3, fleet: a private PostgreSQL cluster, two gateways on it (ApiRouteRefresh 1s)"
    pg_start
    write_pg_conf fa "$FLEET_A_PORT"
    write_pg_conf fb "$FLEET_B_PORT"
    gw_start fa 1 "$FLEET_A_PORT"
    gw_start fb 2 "$FLEET_B_PORT"
    wait_children fb 2
    sleep 1.5
    # writes at a random phase of the other gateway's poll
    propagate fleet "the other gateway (2 children), ApiRouteRefresh 1s" \
        "127.0.0.1:$FLEET_A_PORT" "127.0.0.1:$FLEET_B_PORT" default "$FLEET_WRITES" fb \
        --timeout 5 --pause 1000 --probers 2 --probe-gap 2
    gw_stop fa
    gw_stop fb
    pg_stop
fi

say "load average at end: $(cut -d' ' -f1-3 /proc/loadavg); $(( $(date +%s) - T_START )) s"
cp "$WORK"/runs.jsonl "$WORK"/*.json "$WORK"/*.jsonl "$OUT/raw/" 2>/dev/null || true
CRASHES=$(crashes)
rc=0
helper report --work "$WORK" --out "$OUT/results.json" --strict "$STRICT" \
    --rounds "$ROUNDS" --duration "$DURATION" --connections "$CONNECTIONS" \
    --churn-rounds "$CHURN_ROUNDS" --churn-duration "$CHURN_DURATION" --rate "$RATE" \
    --routes "$ROUTES" --crashes "$CRASHES" --load-start "$LOAD_START" \
    --load-end "$(cut -d' ' -f1-3 /proc/loadavg)" || rc=$?
exit "$rc"
