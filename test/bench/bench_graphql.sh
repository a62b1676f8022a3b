#!/usr/bin/env bash
# Owns the GraphQL benchmark (`./apxs-build.sh bench graphql`): what the
# admin API's GraphQL side costs, in one run against one nginx backend
# (the overhead benchmarks' static JSON file), with the modules of
# APIGW_MODULE_DIR (default APIGW_BUILD_DIR, else build/):
#
#   1  registering 1,000 routes through GraphQL, one registerRoute per
#      request, one after the other on one keep-alive connection: the
#      whole time (target <= 10 s)
#   2  a `routes` query of the environment holding them, every field of
#      every route selected: median and p99 of --queries answers
#      (target: median <= 50 ms)
#   3  the gateway's throughput on a static endpoint while a console polls
#      (its operations view and route list, once a second) against the
#      same load with no console: back-to-back wrk pairs, median of the
#      per-round ratios (target >= 0.97)
#
# A missed target is reported, not an error (--strict: exit 1). Everything
# listens on 127.0.0.1 and is stopped on exit; results go to
# build/bench/graphql/ (results.json, logs/). About 1.5 minutes.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_setup graphql
APIGW_MODULE_DIR=${APIGW_MODULE_DIR:-${APIGW_BUILD_DIR:-$TOP/build}}
HELPER=$HERE/bench_graphql.py

ROUNDS="" DURATION="" WARMUP="" CONNECTIONS=50 REQUESTS=2000
QUICK=0 STRICT=0 CALLGRIND=0 ROUTES=1000 QUERIES=40

usage() {
    cat <<'EOF2'
usage: test/bench/bench_graphql.sh [options]   (./apxs-build.sh bench graphql)

  --rounds N        wrk pairs of figure 3 (default 10, --quick 4)
  --duration S      seconds per wrk run (default 3, --quick 2)
  --connections C   wrk connections (default 50)
  --warmup S        unrecorded load first (default 2, --quick 1)
  --routes N        routes registered (default 1000)
  --queries N       routes queries timed (default 40)
  --quick           the shorter defaults above
  --strict          exit 1 when a figure misses its target
  -h, --help        this text
EOF2
}

say() { printf 'bench-graphql: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

bench_option() {
    case "$1" in
        --routes) need_value "$@"; ROUTES=$2; SHIFT=2 ;;
        --queries) need_value "$@"; QUERIES=$2; SHIFT=2 ;;
        *) return 1 ;;
    esac
}
parse_options "$@"
set_defaults 4 2 10 3
check_options
is_uint "$ROUTES" || die "--routes must be a positive integer"
is_uint "$QUERIES" || die "--queries must be a positive integer"
check_modules

WORK="" BACKEND_PID="" HTTPD_PID="" WRK_PID="" HTTPD_RUN="" HTTPD_STARTS=0
POLL_PID="" CLK_TCK=$(getconf CLK_TCK)
cleanup_hook() {
    if [ -n "$POLL_PID" ]; then
        kill "$POLL_PID" 2>/dev/null || true
        wait "$POLL_PID" 2>/dev/null || true
    fi
}
bench_traps

rm -rf "$OUT"
mkdir -p "$OUT/logs"
make_work graphql
mkdir -p "$WORK/store"
chmod 777 "$WORK/store"
read -r BACKEND_PORT HTTPD_PORT < <(free_ports 2)
start_backend "$BACKEND_PORT"
cat > "$WORK/gateway.conf" <<EOF2
# GraphQL benchmark gateway
Listen 127.0.0.1:$HTTPD_PORT
ApiRouteStore sqlite3:$WORK/store/routes.sqlite
<Location "/admin">
    SetHandler apigw-admin
    Require ip 127.0.0.1
</Location>
<ApiEndpoint "/sta/v1/items/{id}" GET>
    ApiBackend http://127.0.0.1:$BACKEND_PORT/items/{id}
</ApiEndpoint>
EOF2
start_httpd
BASE=http://127.0.0.1:$HTTPD_PORT
declare -A URL=([static]="$BASE/sta/v1/items/42")

say "registering $ROUTES routes through GraphQL"
"$PYTHON" "$HELPER" register --base "$BASE" --routes "$ROUTES" \
    --backend "127.0.0.1:$BACKEND_PORT" --out "$WORK/register.json"
say "timing $QUERIES routes queries"
"$PYTHON" "$HELPER" query --base "$BASE" --queries "$QUERIES" --expect "$ROUTES" \
    --out "$WORK/query.json"

: > "$WORK/runs.jsonl"
warm_up static
for ((round = 1; round <= ROUNDS; round++)); do
    # alternate which goes first: drift on a noisy machine cancels out
    for which in $( ((round % 2)) && echo "idle polled" || echo "polled idle"); do
        if [ "$which" = polled ]; then
            "$PYTHON" "$HELPER" poll --base "$BASE" --out "$WORK/poll-$round.json" &
            POLL_PID=$!
            sleep 0.2
        fi
        URL[$which]=${URL[static]}
        run_wrk "$which" "$round" "$WORK/wrk-$which-$round.txt"
        if [ "$which" = polled ]; then
            kill -TERM "$POLL_PID" 2>/dev/null || true
            wait "$POLL_PID" 2>/dev/null || true
            POLL_PID=""
        fi
    done
done

rc=0
"$PYTHON" "$HELPER" report --work "$WORK" --out "$OUT/results.json" \
    $([ "$STRICT" = 1 ] && echo --strict) || rc=$?
stop_httpd
exit "$rc"
