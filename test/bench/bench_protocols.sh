#!/usr/bin/env bash
# Owns the streaming-protocols benchmark (`./apxs-build.sh bench protocols`):
# what the gateway costs on the three kinds of stream an <ApiEndpoint>
# carries, each measured through one httpd (one child of 64 threads, the
# modules of APIGW_MODULE_DIR, default APIGW_BUILD_DIR, else build/) and
# direct to the same backend, back to back:
#
#   1  WebSocket: echo messages per second, gateway / direct (target
#      >= 0.8). <ApiEndpoint "/ws/{room}" GET> -> ws://backend/rooms/{room};
#      C connections (default 8), one per client process, each a closed
#      loop of a 44-byte text message and its echo for DURATION seconds.
#      The backend is the asyncio echo server in bench_protocols.py
#      (ws-backend: same handshake and hello as test/backends/ws_backend.py,
#      about half its CPU per message, so it does not cap both paths);
#      --ws-backend python uses test/backends/ws_backend.py instead.
#   2  gRPC unary calls per second, gateway / direct (target >= 0.5:
#      mod_http2 in front, mod_proxy_http2 behind). Protocols h2c http/1.1,
#      <ApiEndpoint "/apigw.test.Echo/{method}" POST> ->
#      h2c://backend/apigw.test.Echo/{method}; test/backends/grpc_backend.py
#      (python3-grpcio: its GIL caps both paths near one core); P client
#      processes (grpc.aio) with K calls in flight each (default 4 x 4).
#   3  server-sent events: latency added at p99 (target <= 5 ms), also
#      at p50. <ApiEndpoint "/sse/{n}/{ms}" GET> -> test/backends/backend.py
#      /__sse/{n}/{ms}/; S streams at once (default 5) of N events (200)
#      one every 20 ms; each event's arrival at the client minus the
#      backend's time.time() in it (same machine, same clock); the figure
#      is p99(gateway) - p99(direct) over every event of every round.
#
# Figures 1 and 2 are medians of the per-round ratios (the order of a pair
# swapped every other round; connections and channels opened before each
# timed window); each run also records round-trip p50/p99 and the cores
# httpd, the backend and the client used. --proxypass adds, without a
# target, a third run per round on a plain mod_proxy ProxyPass to the same
# backend in the same httpd (/pws/ -> ws://, /pp.apigw.test.Echo/ -> h2c://):
# gateway / ProxyPass is mod_apigw's own share of the cost, apart from
# httpd's proxying and the extra TCP hop. A figure whose 95 % interval
# holds its target is NOISY, not PASS or FAIL. The gateway's error log is
# summarized at the end (warnings and errors under load, crashes).
#
# A missed target is reported, not an error: the exit status is 0 unless
# something failed to run or httpd crashed (--strict: 1 on any FAIL).
# Everything listens on 127.0.0.1 and is stopped on exit; results go to
# build/bench/protocols/ (results.json, runs.jsonl, sse.json, logs/).
# About 2.5 minutes (--quick under 1; --proxypass about a minute more).
set -euo pipefail

# shared helpers: processes, httpd through `apxs-build.sh run`, cleanup
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_setup protocols
APIGW_MODULE_DIR=${APIGW_MODULE_DIR:-${APIGW_BUILD_DIR:-$TOP/build}}
HELPER=$HERE/bench_protocols.py
STOCK=/usr/lib/apache2/modules

ROUNDS="" DURATION="" WARMUP="" CONNECTIONS=8 REQUESTS=2000
QUICK=0 STRICT=0 CALLGRIND=0
GRPC_PROCS=4 GRPC_INFLIGHT=4 SSE_ROUNDS="" SSE_STREAMS=5 SSE_EVENTS="" SSE_INTERVAL=20
WS_BACKEND=fast ONLY=ws,grpc,sse PROXYPASS=0
WS_TARGET=0.8 GRPC_TARGET=0.5 SSE_TARGET_MS=5

usage() {
    cat <<'EOF'
usage: test/bench/bench_protocols.sh [options]   (./apxs-build.sh bench protocols)

  --rounds N          pairs (gateway, direct) of figures 1 and 2 (default
                      12, --quick 4)
  --duration S        seconds per run of figures 1 and 2 (default 2)
  --warmup S          unrecorded load per path first (default 2, --quick 1)
  --connections C     WebSocket connections, one client process each
                      (default 8)
  --grpc-procs P      gRPC client processes (default 4)
  --grpc-inflight K   gRPC calls in flight per process (default 4)
  --sse-rounds N      pairs of figure 3 (default 3, --quick 1)
  --sse-streams S     event streams at once (default 5)
  --sse-events N      events per stream (default 200, --quick 150)
  --sse-interval MS   milliseconds between events (default 20)
  --ws-backend KIND   fast (bench_protocols.py ws-backend, default) or
                      python (test/backends/ws_backend.py)
  --only LIST         some of ws,grpc,sse (default all three)
  --proxypass         also a plain ProxyPass path in figures 1 and 2 (no
                      target; a third of their time more)
  --quick             the shorter defaults above
  --strict            exit 1 when a figure misses its target
  -h, --help          this text
EOF
}

say() { printf 'bench-protocols: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# bench_option ARG...: this benchmark's own options, for parse_options
bench_option() {
    case "$1" in
        --grpc-procs) need_value "$@"; GRPC_PROCS=$2; SHIFT=2 ;;
        --grpc-inflight) need_value "$@"; GRPC_INFLIGHT=$2; SHIFT=2 ;;
        --sse-rounds) need_value "$@"; SSE_ROUNDS=$2; SHIFT=2 ;;
        --sse-streams) need_value "$@"; SSE_STREAMS=$2; SHIFT=2 ;;
        --sse-events) need_value "$@"; SSE_EVENTS=$2; SHIFT=2 ;;
        --sse-interval) need_value "$@"; SSE_INTERVAL=$2; SHIFT=2 ;;
        --ws-backend) need_value "$@"; WS_BACKEND=$2; SHIFT=2 ;;
        --only) need_value "$@"; ONLY=$2; SHIFT=2 ;;
        --proxypass) PROXYPASS=1; SHIFT=1 ;;
        *) return 1 ;;
    esac
}
parse_options "$@"
[ "$CALLGRIND" = 1 ] && die "--callgrind is not offered here: a tunnel's cost is in system calls, not in httpd's instructions"
set_defaults 4 2 12 2
if [ "$QUICK" = 1 ]; then
    SSE_ROUNDS=${SSE_ROUNDS:-1} SSE_EVENTS=${SSE_EVENTS:-150}
fi
SSE_ROUNDS=${SSE_ROUNDS:-3} SSE_EVENTS=${SSE_EVENTS:-200}
is_uint "$ROUNDS" || die "--rounds must be a positive integer"
is_uint "$DURATION" || die "--duration must be a positive number of seconds"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "--warmup must be a number of seconds"
for v in CONNECTIONS GRPC_PROCS GRPC_INFLIGHT SSE_ROUNDS SSE_STREAMS SSE_EVENTS SSE_INTERVAL; do
    is_uint "${!v}" || die "$v must be a positive integer"
done
case "$WS_BACKEND" in fast|python) ;; *) die "--ws-backend is fast or python" ;; esac
want() { [[ ",$ONLY," == *",$1,"* ]]; }
for f in ${ONLY//,/ }; do
    case "$f" in ws|grpc|sse) ;; *) die "--only takes ws, grpc and sse, not $f" ;; esac
done
for tool in "$HTTPD_BIN" curl "$PYTHON"; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: ./apxs-build.sh deps"
done
if want grpc; then
    "$PYTHON" -c 'import grpc' 2>/dev/null || die "no python3-grpcio: ./apxs-build.sh deps"
    for m in mod_http2.so mod_proxy_http2.so; do
        [ -f "$STOCK/$m" ] || die "no $STOCK/$m (package apache2)"
    done
fi

# ---- processes: each one started is remembered and stopped on exit ----

WORK="" BACKEND_PID="" HTTPD_PID="" WRK_PID="" HTTPD_RUN="" HTTPD_STARTS=0
HTTPD_LOG_AS=httpd-error.log
WS_PID="" GRPC_PID="" SSE_PID="" CLIENT_PID=""

# cleanup_hook: run by cleanup after httpd: the client, then the backends
cleanup_hook() {
    if [ -n "$CLIENT_PID" ]; then
        kill -TERM "$CLIENT_PID" 2>/dev/null || true
        wait "$CLIENT_PID" 2>/dev/null || true
    fi
    stop "$WS_PID" "WebSocket backend" 5
    stop "$GRPC_PID" "gRPC backend" 10
    stop "$SSE_PID" "SSE backend" 5
    if [ -n "$WORK" ] && [ -d "$OUT" ]; then
        mkdir -p "$OUT/logs"
        for f in "$WORK"/backend-*.err; do
            [ -s "$f" ] && cp "$f" "$OUT/logs/" 2>/dev/null || true
        done
    fi
    return 0
}
bench_traps

# start_backend_py NAME SCRIPT [ARG...]: SCRIPT --port 0 [ARG...];
# sets NAME_PID and NAME_PORT from its "PORT <n>" line
start_backend_py() {
    local name=$1 script=$2 pid port="" i
    shift 2
    "$PYTHON" "$script" "$@" --port 0 >"$WORK/backend-$name.out" 2>"$WORK/backend-$name.err" &
    pid=$!
    printf -v "${name}_PID" '%s' "$pid"
    for ((i = 0; i < 150; i++)); do
        port=$(sed -n 's/^PORT \([0-9]*\)$/\1/p' "$WORK/backend-$name.out" 2>/dev/null | head -n 1)
        [ -n "$port" ] && break
        alive "$pid" || break
        sleep 0.1
    done
    if [ -z "$port" ]; then
        cat "$WORK/backend-$name.err" >&2 || true
        die "$script did not report its port"
    fi
    printf -v "${name}_PORT" '%s' "$port"
}

# client FIGURE ARG...: the helper's load client, in the background so an
# interrupt stops it; dies when it fails
client() {
    local rc=0
    "$PYTHON" "$HELPER" "$@" &
    CLIENT_PID=$!
    wait "$CLIENT_PID" || rc=$?
    CLIENT_PID=""
    [ "$rc" = 0 ] || die "the $1 client failed (exit $rc)"
}

write_gateway_conf() {
    {
        echo "# streaming-protocols benchmark gateway"
        echo "Listen 127.0.0.1:$HTTPD_PORT"
        if want grpc; then
            # apxs-build.sh run loads mod_http2 for this, mod_proxy_http2
            # for the h2c:// backend
            echo "Protocols h2c http/1.1"
        fi
        if want ws; then
            cat <<CONF
<ApiEndpoint "/ws/{room}" GET>
    ApiBackend ws://127.0.0.1:$WS_PORT/rooms/{room}
    ApiTimeout 5s
</ApiEndpoint>
CONF
            if [ "$PROXYPASS" = 1 ]; then
                echo "ProxyPass /pws/ ws://127.0.0.1:$WS_PORT/rooms/ timeout=5"
            fi
        fi
        if want grpc; then
            cat <<CONF
<ApiEndpoint "/apigw.test.Echo/{method}" POST>
    ApiBackend h2c://127.0.0.1:$GRPC_PORT/apigw.test.Echo/{method}
    ApiTimeout 5s
</ApiEndpoint>
CONF
            if [ "$PROXYPASS" = 1 ]; then
                echo "ProxyPass /pp.apigw.test.Echo/ h2c://127.0.0.1:$GRPC_PORT/apigw.test.Echo/ timeout=5"
            fi
        fi
        if want sse; then
            cat <<CONF
<ApiEndpoint "/sse/{n}/{ms}" GET>
    ApiBackend http://127.0.0.1:$SSE_PORT/__sse/{n}/{ms}/
    ApiTimeout 5s
</ApiEndpoint>
CONF
        fi
    } > "$WORK/gateway.conf"
}

# ---- main ----

T_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
check_modules
make_work protocols
rm -rf "$OUT"
mkdir -p "$OUT/raw" "$OUT/logs"
read -r HTTPD_PORT <<<"$(free_ports 1)"
say "load average at start: $LOAD_START"

WS_PORT="" GRPC_PORT="" SSE_PORT=""
if want ws; then
    if [ "$WS_BACKEND" = fast ]; then
        start_backend_py WS "$HELPER" ws-backend
    else
        start_backend_py WS "$TOP/test/backends/ws_backend.py"
    fi
fi
want grpc && start_backend_py GRPC "$TOP/test/backends/grpc_backend.py"
want sse && start_backend_py SSE "$TOP/test/backends/backend.py" --name sse
write_gateway_conf
start_httpd
say "httpd on 127.0.0.1:$HTTPD_PORT (1x$OVERHEAD_THREADS threads, worker MPM); backends: ws ${WS_PORT:--} grpc ${GRPC_PORT:--} sse ${SSE_PORT:--}"

GW=127.0.0.1:$HTTPD_PORT
# every path answers as it should before anything is measured
if want ws; then
    "$PYTHON" "$HELPER" check-ws "ws://$GW/ws/bench" /rooms/bench >&2 \
        && "$PYTHON" "$HELPER" check-ws "ws://127.0.0.1:$WS_PORT/rooms/bench" /rooms/bench >&2 \
        || die "the WebSocket paths do not echo (above)"
    if [ "$PROXYPASS" = 1 ]; then
        "$PYTHON" "$HELPER" check-ws "ws://$GW/pws/bench" /rooms/bench >&2 \
            || die "the ProxyPass WebSocket path does not echo (above)"
    fi
fi
if want grpc; then
    "$PYTHON" "$HELPER" check-grpc "$GW" >&2 \
        && "$PYTHON" "$HELPER" check-grpc "127.0.0.1:$GRPC_PORT" >&2 \
        || die "the gRPC paths do not answer (above)"
    if [ "$PROXYPASS" = 1 ]; then
        "$PYTHON" "$HELPER" check-grpc "$GW/pp.apigw.test.Echo/Unary" >&2 \
            || die "the ProxyPass gRPC path does not answer (above)"
    fi
fi
if want sse; then
    "$PYTHON" "$HELPER" check-sse "http://$GW/sse/{n}/{ms}" >&2 \
        && "$PYTHON" "$HELPER" check-sse "http://127.0.0.1:$SSE_PORT/__sse/{n}/{ms}/" >&2 \
        || die "the SSE paths do not stream (above)"
fi

WS_LABEL="bench_protocols.py ws-backend (asyncio)"
[ "$WS_BACKEND" = python ] && WS_LABEL="test/backends/ws_backend.py (a thread per connection)"
cat > "$WORK/meta.json" <<EOF
{"rounds": $ROUNDS, "duration": $DURATION, "warmup": $WARMUP,
 "ws_connections": $CONNECTIONS, "ws_backend": "$WS_LABEL",
 "grpc_procs": $GRPC_PROCS, "grpc_inflight": $GRPC_INFLIGHT,
 "sse_rounds": $SSE_ROUNDS, "sse_streams": $SSE_STREAMS, "sse_events": $SSE_EVENTS,
 "sse_interval_ms": $SSE_INTERVAL, "ws_target": $WS_TARGET, "grpc_target": $GRPC_TARGET,
 "sse_target_ms": $SSE_TARGET_MS, "httpd_threads": $OVERHEAD_THREADS,
 "load_start": "$LOAD_START", "only": "$ONLY", "proxypass": $PROXYPASS}
EOF
: > "$WORK/runs.jsonl"

if want ws; then
    say "figure 1: WebSocket echo, $ROUNDS pairs x ${DURATION}s, $CONNECTIONS connections, warm-up ${WARMUP}s"
    PP_ARG=()
    [ "$PROXYPASS" = 1 ] && PP_ARG=(--proxypass "ws://$GW/pws/bench")
    client ws --gateway "ws://$GW/ws/bench" --direct "ws://127.0.0.1:$WS_PORT/rooms/bench" \
        ${PP_ARG[@]+"${PP_ARG[@]}"} \
        --rounds "$ROUNDS" --duration "$DURATION" --warmup "$WARMUP" \
        --workers "$CONNECTIONS" --out "$WORK/runs.jsonl" \
        --pids "httpd=$HTTPD_PID backend=$WS_PID"
fi
if want grpc; then
    say "figure 2: gRPC unary, $ROUNDS pairs x ${DURATION}s, $GRPC_PROCS processes x $GRPC_INFLIGHT in flight, warm-up ${WARMUP}s"
    PP_ARG=()
    [ "$PROXYPASS" = 1 ] && PP_ARG=(--proxypass "$GW/pp.apigw.test.Echo/Unary")
    client grpc --gateway "$GW" --direct "127.0.0.1:$GRPC_PORT" \
        ${PP_ARG[@]+"${PP_ARG[@]}"} \
        --rounds "$ROUNDS" --duration "$DURATION" --warmup "$WARMUP" \
        --workers "$GRPC_PROCS" --inflight "$GRPC_INFLIGHT" --out "$WORK/runs.jsonl" \
        --pids "httpd=$HTTPD_PID backend=$GRPC_PID"
fi
if want sse; then
    say "figure 3: server-sent events, $SSE_ROUNDS pairs, $SSE_STREAMS streams x $SSE_EVENTS events every ${SSE_INTERVAL} ms"
    client sse --gateway "http://$GW/sse/{n}/{ms}" \
        --direct "http://127.0.0.1:$SSE_PORT/__sse/{n}/{ms}/" \
        --rounds "$SSE_ROUNDS" --streams "$SSE_STREAMS" --events "$SSE_EVENTS" \
        --interval "$SSE_INTERVAL" --out "$WORK/sse.json"
fi

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
say "load average at end: $LOAD_END; $(( $(date +%s) - T_START )) s"
stop_httpd            # its error log goes to $OUT/logs/httpd-error.log
cp "$WORK/runs.jsonl" "$WORK/meta.json" "$WORK/gateway.conf" "$OUT/raw/"
[ -f "$WORK/sse.json" ] && cp "$WORK/sse.json" "$OUT/raw/"
rc=0
STRICT_ARG=()
[ "$STRICT" = 1 ] && STRICT_ARG=(--strict)
"$PYTHON" "$HELPER" report --work "$WORK" --out "$OUT/results.json" \
    --logs "$OUT/logs/httpd-error.log" --load-end "$LOAD_END" \
    --elapsed "$(( $(date +%s) - T_START ))" ${STRICT_ARG[@]+"${STRICT_ARG[@]}"} || rc=$?
exit "$rc"
