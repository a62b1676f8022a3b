#!/usr/bin/env bash
# The Debian package, installed on this machine and served by the system
# apache2:
#
#   test/package/test_package.sh [--deb FILE]
#   ./apxs-build.sh package --test          (builds the .deb, then this)
#
# Without --deb it builds the package (./apxs-build.sh package). Then, as
# root: apt-get install the .deb; a2enmod the five modules; an endpoint
# configuration in /etc/apache2/conf-available (a2enconf) on a free port of
# 127.0.0.1, in front of test/backends/backend.py; apache2ctl start; curl;
# then apache2ctl stop, a2disconf, a2dismod, apt-get purge. The machine is
# left as it was found: the modules and configurations enabled before, no
# apache2 started by the test, no package it installed. ports.conf's
# "Listen 80" stays unless port 80 (or 443) is taken: then its Listen
# lines are commented out while the test runs and restored after.
#
# Refuses to run (a failed check) when the system apache2 is running, when
# libapache2-mod-apigw is installed already, or when ./apxs-build.sh
# install left modules in /usr/lib/apache2/modules: it would change them.
# Ends with "package: N passed, M failed".
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${APIGW_BUILD_DIR:-$TOP/build}
PYTHON=/usr/bin/python3
PKG=libapache2-mod-apigw
MODS=(apigw apigw_ratelimit apigw_breaker apigw_auth apigw_krakend)
CONF_NAME=apigw-package-test
ETC=/etc/apache2
MODDIR=/usr/lib/apache2/modules

PASSED=0
FAILED=0
DEB=""
WORK=""
BACKEND_PID=""
STARTED=0          # the test started the system apache2
INSTALLED=0        # the test installed the package
EXTRA=()           # packages apt-get installed with it
RUNTIME_DIRS=()
PORTS_SAVED=""     # ports.conf's copy, when the test changed it
ERRLOG_OFFSET=0

log() { printf 'package: %s\n' "$*"; }
pass() { PASSED=$((PASSED + 1)); printf 'PASS %s\n' "$1"; }
fail() {
    FAILED=$((FAILED + 1))
    printf 'FAIL %s\n' "$1"
    [ $# -gt 1 ] && printf '     %s\n' "${@:2}"
    return 0
}
summary() { printf 'package: %d passed, %d failed\n' "$PASSED" "$FAILED"; }

# check NAME COMMAND...: a check passes when COMMAND succeeds
check() {
    local name=$1; shift
    if "$@" >>"$WORK/commands.log" 2>&1; then pass "$name"; else fail "$name" "$(tail -n 5 "$WORK/commands.log")"; fi
}

while [ $# -gt 0 ]; do
    case "$1" in
        --deb) DEB=$2; shift ;;
        -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "usage: $0 [--deb FILE]" >&2; exit 2 ;;
    esac
    shift
done

# shellcheck source=/dev/null
set +u; . "$ETC/envvars"; set -u    # APACHE_PID_FILE, APACHE_LOG_DIR
PIDFILE=${APACHE_PID_FILE:-/var/run/apache2/apache2.pid}
ERRLOG=${APACHE_LOG_DIR:-/var/log/apache2}/error.log

system_apache_pid() {
    local pid
    [ -s "$PIDFILE" ] || return 1
    pid=$(cat "$PIDFILE")
    kill -0 "$pid" 2>/dev/null && printf '%s\n' "$pid"
}

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_taken() {      # port_taken PORT: something listens on it (any address)
    "$PYTHON" - "$1" <<'PY'
import socket, sys
s = socket.socket()
# connections closed a moment ago (TIME_WAIT) do not take the port
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
PY
}

pkg_present() {     # installed, or its configuration files left
    local status
    status=$(dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null) || return 1
    [ -n "$status" ] && [ "${status%not-installed}" = "$status" ]
}

enabled_list() { (cd "$ETC/$1-enabled" && ls) 2>/dev/null | LC_ALL=C sort; }

# ---- leaving the machine as found ----

cleanup() {
    local pid m
    trap - EXIT INT TERM
    if [ $STARTED = 1 ]; then
        pid=$(system_apache_pid || true)
        apache2ctl stop >>"$WORK/commands.log" 2>&1 || true
        for _ in $(seq 100); do
            [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        # still there after 10 s: its process group (apache2 -k start
        # makes the parent a session leader; its children are in it)
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    if [ -n "$BACKEND_PID" ]; then
        kill "$BACKEND_PID" 2>/dev/null || true
        wait "$BACKEND_PID" 2>/dev/null || true
    fi
    if [ -e "$ETC/conf-available/$CONF_NAME.conf" ]; then
        a2disconf -q "$CONF_NAME" >>"$WORK/commands.log" 2>&1 || true
        rm -f "$ETC/conf-available/$CONF_NAME.conf"
    fi
    if [ $INSTALLED = 1 ]; then
        # its prerm disables apigw*; the rest is what a2enmod pulled in
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$PKG" "${EXTRA[@]}" \
            >>"$WORK/commands.log" 2>&1 || true
    fi
    if [ -f "$WORK/mods.before" ]; then
        for m in $(comm -13 "$WORK/mods.before" <(enabled_list mods) | sed -n 's/\.load$//p'); do
            a2dismod -q -f "$m" >>"$WORK/commands.log" 2>&1 || true
        done
    fi
    if [ -n "$PORTS_SAVED" ]; then
        cat "$PORTS_SAVED" > "$ETC/ports.conf"
    fi
    if [ ${#RUNTIME_DIRS[@]} -gt 0 ] && ! system_apache_pid >/dev/null; then
        rm -rf "${RUNTIME_DIRS[@]}"
    fi
}

# ---- preconditions ----

if [ "$(id -u)" != 0 ]; then
    fail "runs as root" "it installs a package and starts the system apache2"
    summary; exit 1
fi
WORK=$(mktemp -d /tmp/apigw-package-test.XXXXXX)
chmod 755 "$WORK"           # apache2's user reads the key file there
: > "$WORK/commands.log"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pre=""
if pid=$(system_apache_pid); then
    pre="the system apache2 is running (pid $pid, $PIDFILE): stop it first"
elif pkg_present; then
    pre="$PKG is installed already: the test would remove it (apt-get purge $PKG first)"
elif ls "$MODDIR"/mod_apigw*.so >/dev/null 2>&1 || ls "$ETC"/mods-available/apigw*.load >/dev/null 2>&1; then
    pre="$MODDIR/mod_apigw*.so or $ETC/mods-available/apigw* exist (./apxs-build.sh install?): the package would replace them"
fi
if [ -n "$pre" ]; then
    fail "the machine is ready for the test" "$pre"
    trap - EXIT; rm -rf "$WORK"
    summary; exit 1
fi
pass "the machine is ready for the test (no system apache2 running, $PKG not installed)"

# ---- the package ----

if [ -z "$DEB" ]; then
    log "building the package (./apxs-build.sh package)"
    DEB=$(APIGW_BUILD_DIR="$BUILD" "$TOP/apxs-build.sh" package | tail -n 1) || DEB=""
fi
if [ -z "$DEB" ] || [ ! -f "$DEB" ]; then
    fail "the .deb is built" "no package: ${DEB:-./apxs-build.sh package failed}"
    summary; exit 1
fi
DEB=$(cd "$(dirname "$DEB")" && pwd)/$(basename "$DEB")
pass "the .deb is built: $(basename "$DEB")"

control=$(dpkg-deb -f "$DEB" Depends)
check "it depends on the httpd module API (apache2-api-*)" grep -q 'apache2-api-[0-9]' <<<"$control"
check "it depends on the libraries the modules link (libjansson, libcurl, libhiredis, libssl, libpcre2)" \
    "$PYTHON" -c 'import sys; d = sys.argv[1]; sys.exit(not all(l in d for l in ("libjansson", "libcurl", "libhiredis", "libssl", "libpcre2")))' "$control"

enabled_list mods > "$WORK/mods.before"
# the runtime folders apache2ctl makes, removed after when it made them
RUNTIME_DIRS=()
for d in "${APACHE_RUN_DIR:-/var/run/apache2}" "${APACHE_LOCK_DIR:-/var/lock/apache2}"; do
    [ -e "$d" ] || RUNTIME_DIRS+=("$d")
done
enabled_list conf > "$WORK/conf.before"
mapfile -t EXTRA < <(apt-get -s install "$DEB" 2>/dev/null | awk '/^Inst /{print $2}' | grep -v -x "$PKG")
[ ${#EXTRA[@]} -gt 0 ] && log "apt-get installs with it (and the test purges after): ${EXTRA[*]}"

INSTALLED=1
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$DEB" >>"$WORK/commands.log" 2>&1; then
    fail "apt-get install the .deb" "$(tail -n 10 "$WORK/commands.log")"
    summary; exit 1
fi
pass "apt-get install ./$(basename "$DEB")"

missing=""
for m in mod_apigw mod_apigw_ratelimit mod_apigw_breaker mod_apigw_auth mod_apigw_krakend; do
    [ -f "$MODDIR/$m.so" ] || missing="$missing $MODDIR/$m.so"
done
for m in "${MODS[@]}"; do
    [ -f "$ETC/mods-available/$m.load" ] || missing="$missing $ETC/mods-available/$m.load"
done
for f in README.md README.Debian docs/index.md examples/users-api.conf examples/krakend.json; do
    [ -f "/usr/share/doc/$PKG/$f" ] || missing="$missing /usr/share/doc/$PKG/$f"
done
if [ -z "$missing" ]; then pass "the modules, their .load files, the docs and the examples are installed"
else fail "the modules, their .load files, the docs and the examples are installed" "missing:$missing"; fi
if enabled_list mods | grep -q '^apigw'; then
    fail "installing enables no module" "$(enabled_list mods | grep '^apigw' | tr '\n' ' ')"
else
    pass "installing enables no module"
fi

# ---- a2enmod, an endpoint configuration, the system apache2 ----

check "a2enmod ${MODS[*]}" a2enmod -q "${MODS[@]}"
missing=""
for m in "${MODS[@]}" proxy proxy_http proxy_balancer slotmem_shm lbmethod_byrequests socache_shmcb; do
    [ -e "$ETC/mods-enabled/$m.load" ] || missing="$missing $m"
done
if [ -z "$missing" ]; then pass "a2enmod enabled the modules and the stock modules they depend on"
else fail "a2enmod enabled the modules and the stock modules they depend on" "not enabled:$missing"; fi

if port_taken 80 || port_taken 443; then
    PORTS_SAVED="$WORK/ports.conf.orig"
    cp -p "$ETC/ports.conf" "$PORTS_SAVED"
    sed -i -E 's/^([[:space:]]*)(Listen[[:space:]])/\1# apigw-package-test: \2/' "$ETC/ports.conf"
    log "port 80 or 443 is taken: ports.conf's Listen lines are commented out until the end"
fi

PORT=$(free_port)
"$PYTHON" "$TOP/test/backends/backend.py" --port 0 --name users > "$WORK/backend.out" 2>&1 &
BACKEND_PID=$!
BPORT=""
for _ in $(seq 100); do
    BPORT=$(sed -n 's/^PORT //p' "$WORK/backend.out")
    [ -n "$BPORT" ] && break
    sleep 0.1
done
[ -n "$BPORT" ] || { fail "the backend starts" "$(cat "$WORK/backend.out")"; summary; exit 1; }

# an API key "partner" whose key is "s3cret"
printf 'partner %s reporting\n' "$(printf s3cret | sha256sum | cut -d' ' -f1)" > "$WORK/keys.txt"
chmod 644 "$WORK/keys.txt"
cat > "$WORK/krakend.json" <<EOF
{
  "version": 3,
  "endpoints": [
    { "endpoint": "/kd/users/{user}",
      "backend": [ { "host": ["http://127.0.0.1:$BPORT"],
                     "url_pattern": "/internal/users/{user}" } ] }
  ]
}
EOF
chmod 644 "$WORK/krakend.json"
cat > "$ETC/conf-available/$CONF_NAME.conf" <<EOF
# Written by test/package/test_package.sh; removed when it ends.
Listen 127.0.0.1:$PORT
<VirtualHost 127.0.0.1:$PORT>
    ServerName apigw-package-test

    <ApiEndpoint "/v1/users/{user}" GET>
        ApiBackend http://127.0.0.1:$BPORT/internal/users/{user}
        ApiInputHeaders X-Request-Id
    </ApiEndpoint>

    <ApiEndpoint "/v1/limited" GET>
        ApiBackend http://127.0.0.1:$BPORT/limited
        ApiRateLimit average=1 period=1m burst=1 by=ip name=package-test
    </ApiEndpoint>

    <ApiEndpoint "/v1/reports/{report}" GET>
        ApiBackend http://127.0.0.1:$BPORT/reports/{report}
        AuthType apikey
        AuthName "reports"
        ApiKeyFile $WORK/keys.txt
        Require apikey-role reporting
    </ApiEndpoint>

    # answers 500 until its breaker trips (ResponseCodeRatio over 0.5 once
    # 3 requests were seen), then 503 without calling the backend
    <ApiEndpoint "/v1/flaky" GET>
        ApiBackend http://127.0.0.1:$BPORT/__status/500/flaky
        ApiCircuitBreaker "ResponseCodeRatio(500, 600, 0, 600) > 0.5" min-requests=3 fallback=60s
    </ApiEndpoint>
    <Location "/breakers">
        SetHandler apigw-breaker-status
        Require ip 127.0.0.1
    </Location>

    ApiImportKrakenD $WORK/krakend.json
</VirtualHost>
EOF
check "a2enconf $CONF_NAME (127.0.0.1:$PORT, backend on port $BPORT)" a2enconf -q "$CONF_NAME"
check "apache2ctl configtest" apache2ctl configtest

loaded=$(apache2ctl -M 2>&1)
missing=""
for m in "${MODS[@]}"; do
    grep -q "^ ${m}_module " <<<"$loaded" || missing="$missing ${m}_module"
done
if [ -z "$missing" ]; then pass "apache2ctl -M lists the five modules"
else fail "apache2ctl -M lists the five modules" "not loaded:$missing" "$(grep -i error <<<"$loaded" | head -n 3)"; fi

ERRLOG_OFFSET=$(stat -c %s "$ERRLOG" 2>/dev/null || echo 0)
STARTED=1
if ! apache2ctl start >>"$WORK/commands.log" 2>&1; then
    fail "apache2ctl start" "$(tail -n 10 "$WORK/commands.log")"
    summary; exit 1
fi
up=0
for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/" && { up=1; break; }
    sleep 0.1
done
if [ $up = 1 ]; then pass "apache2ctl start: the system apache2 answers on 127.0.0.1:$PORT"
else fail "apache2ctl start: the system apache2 answers on 127.0.0.1:$PORT" "$(tail -c +$((ERRLOG_OFFSET + 1)) "$ERRLOG" | tail -n 10)"; fi

# ---- calls ----

# get NAME EXPECTED_STATUS PYTHON_CHECK CURL_ARGS...: the answer's status,
# and PYTHON_CHECK (an expression on the JSON body, "doc") when not empty
get() {
    local name=$1 want=$2 expr=$3 status; shift 3
    status=$(curl -s -o "$WORK/body" -w '%{http_code}' "$@" 2>>"$WORK/commands.log")
    if [ "$status" != "$want" ]; then
        fail "$name" "status $status, expected $want: $(head -c 300 "$WORK/body")"
        return
    fi
    if [ -n "$expr" ] && ! "$PYTHON" -c "
import json, sys
doc = json.load(open(sys.argv[1]))
sys.exit(0 if ($expr) else 1)" "$WORK/body" 2>>"$WORK/commands.log"; then
        fail "$name" "body: $(head -c 300 "$WORK/body")"
        return
    fi
    pass "$name"
}

base="http://127.0.0.1:$PORT"
get "GET /v1/users/alice: 200 from the backend's /internal/users/alice" 200 \
    'doc["path"] == "/internal/users/alice" and doc["headers"].get("X-Request-Id") == "pkg-1"' \
    -H 'X-Request-Id: pkg-1' -H 'Cookie: c=1' "$base/v1/users/alice"
get "the endpoint forwards only its allowed headers (no Cookie)" 200 \
    '"Cookie" not in doc["headers"]' -H 'Cookie: c=1' "$base/v1/users/bob"
get "POST /v1/users/alice: 405 (the endpoint is GET only)" 405 "" -X POST "$base/v1/users/alice"
get "ApiRateLimit (mod_apigw_ratelimit): the first request passes" 200 "" "$base/v1/limited"
get "ApiRateLimit: the second within the minute is refused with 429" 429 "" "$base/v1/limited"
get "AuthType apikey (mod_apigw_auth): 401 without a key" 401 "" "$base/v1/reports/daily"
get "AuthType apikey: 200 with the partner's key" 200 'doc["path"] == "/reports/daily"' \
    -H 'X-API-Key: s3cret' "$base/v1/reports/daily"
get "ApiImportKrakenD (mod_apigw_krakend): GET /kd/users/carol" 200 \
    'doc["path"] == "/internal/users/carol"' "$base/kd/users/carol"

# the breaker judges its window every 100 ms (check= default)
codes=""
for _ in $(seq 50); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/flaky")
    codes="$codes $code"
    [ "$code" = 503 ] && break
    sleep 0.1
done
if [ "$code" = 503 ]; then pass "ApiCircuitBreaker (mod_apigw_breaker): 500s from the backend trip it, then 503"
else fail "ApiCircuitBreaker (mod_apigw_breaker): 500s from the backend trip it, then 503" "statuses:$codes"; fi
get "the breaker status page (apigw-breaker-status) shows it tripped" 200 \
    'any(st["state"] == "tripped" and st["trips"] >= 1 for b in doc["breakers"] for st in b["states"])' "$base/breakers"

errors=$(tail -c +$((ERRLOG_OFFSET + 1)) "$ERRLOG" 2>/dev/null | grep -E '\[\w*:?(emerg|alert|crit)\]' || true)
if [ -z "$errors" ]; then pass "no emerg/alert/crit line in $ERRLOG"
else fail "no emerg/alert/crit line in $ERRLOG" "$(head -n 5 <<<"$errors")"; fi

# ---- cleanup, then what it left ----

pid=$(system_apache_pid || true)
cleanup
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    fail "apache2ctl stop: the system apache2 has stopped" "pid $pid still runs"
elif port_taken "$PORT"; then
    fail "apache2ctl stop: the system apache2 has stopped" "port $PORT is still taken"
else
    pass "apache2ctl stop: the system apache2 has stopped, port $PORT is free"
fi
if pkg_present; then
    fail "apt-get purge $PKG" "$(dpkg-query -W -f='${Status}' "$PKG")"
elif ls "$MODDIR"/mod_apigw*.so "$ETC"/mods-available/apigw* >/dev/null 2>&1; then
    fail "apt-get purge $PKG" "left: $(ls "$MODDIR"/mod_apigw*.so "$ETC"/mods-available/apigw* 2>/dev/null | tr '\n' ' ')"
else
    pass "apt-get purge $PKG removes its modules and their configuration"
fi
if cmp -s "$WORK/mods.before" <(enabled_list mods) && cmp -s "$WORK/conf.before" <(enabled_list conf) \
        && [ ! -e "$ETC/conf-available/$CONF_NAME.conf" ]; then
    pass "the enabled modules and configurations are as before the test"
else
    fail "the enabled modules and configurations are as before the test" \
        "$(diff <(cat "$WORK/mods.before" "$WORK/conf.before") <(enabled_list mods; enabled_list conf) | tr '\n' ' ')"
fi
if [ -n "$PORTS_SAVED" ]; then
    if cmp -s "$PORTS_SAVED" "$ETC/ports.conf"; then pass "ports.conf is restored"
    else fail "ports.conf is restored"; fi
fi

[ $FAILED = 0 ] || log "commands and their output: $WORK/commands.log"
[ $FAILED = 0 ] && rm -rf "$WORK"
summary
[ $FAILED = 0 ]
