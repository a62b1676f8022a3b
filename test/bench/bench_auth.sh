#!/usr/bin/env bash
# Owns the authentication benchmark (`./apxs-build.sh bench auth`): what
# mod_apigw_auth costs an <ApiEndpoint>, in one run against one nginx
# backend (the overhead benchmarks' one static JSON file) with the modules
# of APIGW_MODULE_DIR (default APIGW_BUILD_DIR, else build/). Two gateways
# (one worker child of 64 threads each, see lib.sh) with the same three
# endpoints, one with the default ApiJwtCache 1024, one with ApiJwtCache 0:
#
#   /none/items/{id}  no authentication
#   /jwt/items/{id}   AuthType jwt, ApiJwtKeys file: (a JWK set of two RSA
#                     2048 keys), ApiJwtIssuer, ApiJwtAudience, Require
#                     valid-user
#   /key/items/{id}   AuthType apikey, ApiKeyFile of 100 keys ("NAME
#                     SHA256HEX ROLES"), Require valid-user
#
# Every request carries the same headers: one RS256 token (PyJWT, signed
# once, kid, iss, aud, exp in an hour), so the child's verified-token
# cache serves it after the first request, and one of the API keys in
# X-API-Key.
#
#   1  jwt / none on the cached gateway: req/s, wrk -c50 back-to-back
#      pairs, median of the per-round ratios (target >= 0.95)
#   2  key / none on the same gateway, same way (target >= 0.97)
#   3  the cost of an uncached RS256 verification: /jwt/ on the gateway
#      with ApiJwtCache 0 against /jwt/ on the one with the cache, one
#      keep-alive connection to each (bench_auth.py latency), a request
#      on one then on the other, for --lat-seconds; per round the
#      difference of the two sides' median request times, the figure the
#      median over the rounds (also httpd's CPU per request, by the same
#      difference). No target. --control does the same on /none/ (about
#      0 when the two gateways differ in nothing else).
#
# Each round runs jwt, none, key (none beside both, the order reversed
# every other round), then figure 3's alternated requests.
# A missed target is printed MISSED, not an error: the exit status is 0
# unless something failed to run or a child crashed (--strict: 1 on a
# miss). Everything listens on 127.0.0.1 and is stopped on exit; results
# go to build/bench/auth/ (results.json, raw wrk reports, logs/). About
# 2.5 minutes (--quick under 1).
set -euo pipefail

# shared helpers and the overhead benchmarks' processes, servers and wrk
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_setup auth
APIGW_MODULE_DIR=${APIGW_MODULE_DIR:-${APIGW_BUILD_DIR:-$TOP/build}}
HELPER=$HERE/bench_auth.py

ROUNDS="" DURATION="" WARMUP="" CONNECTIONS=50 REQUESTS=2000
QUICK=0 STRICT=0 CALLGRIND=0
LAT_DURATION="" KEYS=100 CONTROL=0

usage() {
    cat <<'EOF'
usage: test/bench/bench_auth.sh [options]   (./apxs-build.sh bench auth)

  --rounds N          rounds (default 14, --quick 4)
  --seconds S         seconds per wrk run of figures 1 and 2 (default 2;
                      --duration S is the same)
  --lat-seconds S     seconds per one-connection run of figure 3 (default:
                      --seconds)
  --connections C     wrk connections of figures 1 and 2 (default 50; one
                      wrk thread)
  --warmup S          unrecorded load per path first (default 2, --quick 1)
  --keys N            API keys in the key file (default 100)
  --control           figure 3 also on /none/ of both gateways (their
                      difference should be about 0: the two gateways are
                      alike but for the cache)
  --quick             the shorter defaults above
  --strict            exit 1 when a figure misses its target
  -h, --help          this text
EOF
}

say() { printf 'bench-auth: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# bench_option ARG...: this benchmark's own options, for parse_options
bench_option() {
    case "$1" in
        --seconds) need_value "$@"; DURATION=${2%s}; SHIFT=2 ;;
        --lat-seconds) need_value "$@"; LAT_DURATION=${2%s}; SHIFT=2 ;;
        --keys) need_value "$@"; KEYS=$2; SHIFT=2 ;;
        --control) CONTROL=1; SHIFT=1 ;;
        *) return 1 ;;
    esac
}
parse_options "$@"
[ "$CALLGRIND" = 1 ] && die "--callgrind is not offered here"
set_defaults 4 2 14 2
LAT_DURATION=${LAT_DURATION:-$DURATION}
check_options
is_uint "$LAT_DURATION" || die "--lat-seconds must be a positive number of seconds"
is_uint "$KEYS" || die "--keys must be a positive integer"
"$PYTHON" -c 'import jwt, cryptography' 2>/dev/null \
    || die "no PyJWT or cryptography: apt-get install python3-jwt python3-cryptography"

# ---- processes: each one started is remembered and stopped on exit ----

WORK="" BACKEND_PID="" HTTPD_PID="" WRK_PID="" HTTPD_RUN="" HTTPD_STARTS=0
declare -A GW_PID=()          # gateways: name -> pid
CLIENT_PID=""

# cleanup_hook: run by cleanup after HTTPD_PID (one of these), before the backend
cleanup_hook() {
    local name
    if [ -n "$CLIENT_PID" ]; then
        kill -TERM "$CLIENT_PID" 2>/dev/null || true
        wait "$CLIENT_PID" 2>/dev/null || true
    fi
    for name in "${!GW_PID[@]}"; do
        gw_stop "$name"
    done
}
bench_traps

# ---- gateways: `apxs-build.sh run` on $WORK/NAME.conf, run folder
# $WORK/run-NAME, one child of OVERHEAD_THREADS threads ----

# gw_start NAME PORT
gw_start() {
    local name=$1 port=$2 run=$WORK/run-$1
    mkdir -p "$run"
    ln -s /dev/null "$run/access.log"
    # setsid: its own process group, so its shutdown signals reach only it
    HTTPD_BIN=$HTTPD_BIN APIGW_RUN_DIR=$run APIGW_MODULE_DIR=$WORK/modules ASAN=0 \
    APIGW_MPM=worker APIGW_SERVERS=$OVERHEAD_SERVERS APIGW_THREADS=$OVERHEAD_THREADS \
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
        cp "$WORK/run-$name/error.log" "$OUT/logs/$name-error.log" || true
    fi
}

# write_gw_conf NAME PORT CACHE: the three endpoints, ApiJwtCache CACHE
write_gw_conf() {
    local name=$1 port=$2 cache=$3 b="http://127.0.0.1:$BACKEND_PORT/items/{id}"
    cat > "$WORK/$name.conf" <<EOF
# authentication benchmark gateway $name
Listen 127.0.0.1:$port
ApiJwtCache $cache
<ApiEndpoint "/none/items/{id}" GET>
    ApiBackend $b
</ApiEndpoint>
<ApiEndpoint "/jwt/items/{id}" GET>
    ApiBackend $b
    AuthType jwt
    AuthName api
    ApiJwtKeys file:$WORK/keys/jwks.json
    ApiJwtIssuer $ISS
    ApiJwtAudience $AUD
    Require valid-user
</ApiEndpoint>
<ApiEndpoint "/key/items/{id}" GET>
    ApiBackend $b
    AuthType apikey
    AuthName api
    ApiKeyFile $WORK/keys/apikeys.txt
    Require valid-user
</ApiEndpoint>
EOF
}

declare -A URL

# latency ROUND TAG: figure 3 on /TAG/ of both gateways (bench_auth.py
# latency: one connection each, requests alternated), in the background
# so an interrupt stops it
latency() {
    local rc=0
    "$PYTHON" "$HELPER" latency --a "$A/$2/items/42" --b "$B/$2/items/42" \
        --pid-a "${GW_PID[cached]}" --pid-b "${GW_PID[uncached]}" \
        --token "$WORK/keys/token" --apikey "$WORK/keys/apikey" \
        --seconds "$LAT_DURATION" --round "$1" --tag "$2" \
        --out "$WORK/latency.jsonl" &
    CLIENT_PID=$!
    wait "$CLIENT_PID" || rc=$?
    CLIENT_PID=""
    [ "$rc" = 0 ] || die "the latency client failed (exit $rc)"
}

# crashes: children that died of a signal, in any error log
crashes() {
    cat "$WORK"/run-*/error.log 2>/dev/null | grep -E 'AH00052|exit signal' | sort -u || true
}

# ---- main ----

T_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
CLK_TCK=$(getconf CLK_TCK)
check_modules
[ -f "$MODULE_SRC/mod_apigw_auth.so" ] || die "no $MODULE_SRC/mod_apigw_auth.so: run ./apxs-build.sh build"
make_work auth
rm -rf "$OUT"
mkdir -p "$OUT/raw" "$OUT/logs"
read -r BACKEND_PORT CACHED_PORT UNCACHED_PORT <<<"$(free_ports 3)"
say "load average at start: $LOAD_START"

mkdir -p "$WORK/keys"
"$PYTHON" "$HELPER" setup --dir "$WORK/keys" --keys "$KEYS" > "$WORK/setup.json" \
    || die "cannot make the keys and the token"
read -r ISS AUD < <("$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["iss"], d["aud"])' "$WORK/setup.json")
WRK_HEADERS=(-H "Authorization: Bearer $(cat "$WORK/keys/token")"
             -H "X-API-Key: $(cat "$WORK/keys/apikey")")

start_backend "$BACKEND_PORT"
write_gw_conf cached "$CACHED_PORT" 1024
write_gw_conf uncached "$UNCACHED_PORT" 0
gw_start cached "$CACHED_PORT"
gw_start uncached "$UNCACHED_PORT"
say "gateways on 127.0.0.1:$CACHED_PORT (ApiJwtCache 1024) and :$UNCACHED_PORT (ApiJwtCache 0), 1x$OVERHEAD_THREADS threads each; backend :$BACKEND_PORT"

A=http://127.0.0.1:$CACHED_PORT B=http://127.0.0.1:$UNCACHED_PORT
for k in none jwt key; do
    URL[$k]=$A/$k/items/42
done

"$PYTHON" "$HELPER" check --token "$WORK/keys/token" --apikey "$WORK/keys/apikey" \
    none="${URL[none]}" jwt="${URL[jwt]}" key="${URL[key]}" \
    jwt="$B/jwt/items/42" none="$B/none/items/42" key="$B/key/items/42" \
    || die "a path does not answer as it should (above)"

cat > "$WORK/meta.json" <<EOF
{"rounds": $ROUNDS, "duration": $DURATION, "lat_duration": $LAT_DURATION,
 "warmup": $WARMUP, "connections": $CONNECTIONS, "threads": $OVERHEAD_THREADS,
 "servers": $OVERHEAD_SERVERS, "keys": $KEYS, "control": $CONTROL,
 "setup": $(cat "$WORK/setup.json"), "load_start": "$LOAD_START"}
EOF
: > "$WORK/runs.jsonl"

: > "$WORK/latency.jsonl"
HTTPD_PID=${GW_PID[cached]}   # wrk's runs (run_wrk counts its CPU)
say "warm-up ${WARMUP}s per path"
for k in none jwt key; do warm_up "$k"; done
LAT=(jwt)
[ "$CONTROL" = 1 ] && LAT+=(none)
say "$ROUNDS rounds: jwt none key x ${DURATION}s -c$CONNECTIONS, then ${LAT_DURATION}s of alternated requests on both gateways (${LAT[*]})"
for ((round = 1; round <= ROUNDS; round++)); do
    say "round $round/$ROUNDS"
    # none between the two it is compared with: each pair back to back,
    # its order swapped every other round
    if ((round % 2)); then order="jwt none key"; else order="key none jwt"; fi
    for k in $order; do
        run_wrk "$k" "$round" "$OUT/raw/$k-r$round.txt"
    done
    for k in "${LAT[@]}"; do
        latency "$round" "$k"
    done
done

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(( $(date +%s) - T_START ))
say "load average at end: $LOAD_END; $ELAPSED s"
CRASHES=$(crashes)
gw_stop cached
gw_stop uncached
cp "$WORK/runs.jsonl" "$WORK/latency.jsonl" "$WORK/meta.json" "$WORK/cached.conf" "$WORK/uncached.conf" "$OUT/raw/"
rc=0
"$PYTHON" "$HELPER" report --work "$WORK" --out "$OUT/results.json" --strict "$STRICT" \
    --crashes "$CRASHES" --load-end "$LOAD_END" --elapsed "$ELAPSED" || rc=$?
exit "$rc"
