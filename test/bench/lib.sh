# Shell helpers every benchmark in test/bench/ shares: sourced by run.sh and
# bench_*.sh after they define say() and PYTHON.

# need_value OPTION VALUE: dies unless the option got a non-empty value
need_value() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -gt 0 ]; }

# alive PID: running and not a zombie
alive() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    [ "${s%% *}" != Z ]
}

# free_ports N: N free TCP ports on 127.0.0.1
free_ports() {
    "$PYTHON" - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# cpu_ticks PID: utime+stime (clock ticks) of PID and its children, plus the
# children PID has already reaped (its cutime+cstime).
cpu_ticks() {
    local root=$1 total=0 p line f
    for p in "$root" $(pgrep -P "$root" 2>/dev/null || true); do
        line=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        # shellcheck disable=SC2206
        f=(${line##*) })          # f[0] is field 3 (state)
        total=$((total + f[11] + f[12]))
        if [ "$p" = "$root" ]; then
            total=$((total + f[13] + f[14]))
        fi
    done
    echo "$total"
}

# wait_http URL PID NAME [SECONDS]: until URL answers anything (15 s)
wait_http() {
    local url=$1 pid=$2 name=$3 secs=${4:-15} i code
    for ((i = 0; i < secs * 10; i++)); do
        alive "$pid" || return 1
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" 2>/dev/null || true)
        [ -n "$code" ] && [ "$code" != 000 ] && return 0
        sleep 0.1
    done
    say "$name did not answer $url within $secs s"
    return 1
}

# The httpd of the overhead benchmarks (bench_breaker, bench_policy,
# bench_ratelimit, bench_suspend: a path with a policy against the same
# path without it, 0.97 targets): one worker process of 64 threads. On a
# 2-core machine two processes of 128 threads make back-to-back runs of one
# and the same path differ by up to 30 % (a plain ProxyPass against itself,
# measured: 0.78..1.39 per pair), which hides a 3 % effect; one process
# keeps a pair within about 5 %. APIGW_SERVERS/APIGW_THREADS override.
OVERHEAD_SERVERS=${APIGW_SERVERS:-1}
OVERHEAD_THREADS=${APIGW_THREADS:-64}
