#!/usr/bin/env bash
# Build, install, run, demo, test and benchmark mod_apigw and its sibling
# modules. `./apxs-build.sh help` lists the subcommands; the README
# documents each one.
set -euo pipefail

TOP=${BASH_SOURCE[0]%/*}
[ "$TOP" != "${BASH_SOURCE[0]}" ] || TOP=.
TOP=$(cd "$TOP" && pwd)
BUILD=${APIGW_BUILD_DIR:-$TOP/build}   # where build puts the modules
read -r -a MODULES <<< "${APIGW_BUILD_MODULES:-mod_apigw mod_apigw_ratelimit mod_apigw_breaker mod_apigw_auth mod_apigw_krakend}"
HTTPD_BIN=${HTTPD_BIN:-/usr/sbin/apache2}
STOCK_MODULES=/usr/lib/apache2/modules
PYTHON=/usr/bin/python3      # Debian's interpreter: it has pytest and requests

# Debian packages the build, the demo and the tests need.
PACKAGES=(apache2 apache2-dev apache2-utils libapr1-dev libaprutil1-dev
          libpcre2-dev libjansson-dev libssl-dev libcmocka-dev gcc make
          pkg-config clang libclang-rt-14-dev python3 python3-pytest
          python3-pytest-xdist python3-requests curl nginx-light wrk libhiredis-dev redis-server
          libcurl4-openssl-dev chromium python3-websocket
          libaprutil1-dbd-sqlite3 libaprutil1-dbd-pgsql postgresql
          libyaml-dev    # libyaml: only test/fuzz/fuzz_encode reads YAML back
          python3-grpcio openssl    # gRPC test client/backend; TLS test certificates
          python3-jwt python3-cryptography    # tokens for the auth tests
          python3-graphql-core    # the GraphQL tests' reference parser
          prometheus python3-prometheus-client    # promtool and the OpenMetrics parser check the metrics tests' scrapes
          python3-jsonschema)   # the OpenAPI tests validate against the 3.1 schema

say() { printf 'apxs-build: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

usage() {
    cat <<'EOF'
usage: ./apxs-build.sh [command]

  deps        apt-get install what is missing (needs root)
  build       compile the modules into build/ (default); ASAN=1 for the
              AddressSanitizer/UBSan variant in build/asan/
  install     install the built modules into the system httpd (needs root)
  run CONF    httpd in the foreground with CONF (Listen lines, endpoints,
              balancers); everything else is supplied
  demo        deps + build + a demo gateway on 127.0.0.1:8080 (APIGW_PORT)
  test        deps + build + every test (integration: APIGW_TEST_JOBS
              workers, default 4, then the tests marked serial alone;
              the same under ASan; unit; fuzz replay), ending with a
              summary line
  bench [NAME] the gateway benchmark against plain mod_proxy and nginx, or
              test/bench/bench_NAME.sh; "bench all" runs every one
  check-krakend PATH [--print]
              what ApiImportKrakenD makes of a krakend.json, without
              starting a server (--print: the generated endpoints)
  openapi CONF
              the OpenAPI 3.1 document (SetHandler apigw-openapi) of CONF's
              main server on stdout: httpd on a free local port, one GET
  conformance [DIR]
              KrakenD-CE's own integration specs against the gateway
              (default ../shared/conformance/krakend-ce)
  fuzz        the libFuzzer targets in test/fuzz/: --seconds N each in
              turn, --replay the seeds, or a depth campaign: --minutes N
              [--runs N] [--jobs N] [--merge] (all cores, one report line
              per target, failures minimized)
  package [--test]
              the Debian package libapache2-mod-apigw in build/package/
              (dpkg-buildpackage; needs root for missing build tools);
              --test then installs it, enables it in the system apache2,
              calls it, and removes it (root; test/package/test_package.sh)
EOF
}

# ---- deps ----

# missing_packages PACKAGE...: those not installed, one per line (one
# dpkg-query for all: the tests' demo runs this too).
missing_packages() {
    local -A installed=()
    local status name p
    while read -r status name; do
        [ "$status" = ii ] && installed[$name]=1
    done < <(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "$@" 2>/dev/null)
    for p in "$@"; do
        [ -n "${installed[$p]:-}" ] || printf '%s\n' "$p"
    done
}

cmd_deps() {
    local missing
    missing=$(missing_packages "${PACKAGES[@]}")
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        die "missing Debian packages: $(echo $missing). Run as root, or: sudo apt-get install $(echo $missing)"
    fi
    say "installing: $(echo $missing)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    # Debian starts the stock services on install; this project starts its own.
    for svc in apache2 nginx redis-server postgresql; do
        if command -v service >/dev/null 2>&1; then
            service "$svc" stop >/dev/null 2>&1 || true
        fi
    done
}

# ---- build ----

# Libraries a module links against beyond httpd/APR.
# common/ is compiled into every module, so each links what it needs
# (libcrypto: common/apigw_apikey.c).
declare -A MODULE_LIBS=([mod_apigw]="-lcurl -ljansson -lpcre2-8 -lcrypto"
                        [mod_apigw_ratelimit]="-lhiredis -lcrypto"
                        [mod_apigw_breaker]="-lcrypto"
                        [mod_apigw_auth]="-lcurl -ljansson -lcrypto"
                        [mod_apigw_krakend]="-ljansson")

# build_stamp NAME EXTRA_FLAGS...: the sources a module is built from,
# with their sizes and times, its flags and the very code that builds it
# (build_module), as one hash: when they are what its last build saw, it
# is not built again. The rest of this script does not count.
build_stamp() {
    local name=$1; shift
    {
        printf '%s\n' "$*" "${LDFLAGS_EXTRA[*]:-}" "${MODULE_LIBS[$name]:-}"
        declare -f build_module
        find "$TOP/$name" "$TOP/common" -type f \
            -printf '%p %s %T@\n' | LC_ALL=C sort
    } | sha1sum | cut -d' ' -f1
}

# apxs_flags: the compiler and the flags httpd's apxs compiles and links
# a module with (apxs -q, as apxs -c composes them), read once. The build
# runs them itself rather than through apxs -c: apxs hands every file to
# libtool, a shell script that forks some forty times per file: on this
# project's two-core VMs that was half of the build's CPU time.
APXS_CC=""
APXS_CFLAGS=()
APXS_LDFLAGS=()
apxs_flags() {
    [ -z "$APXS_CC" ] || return 0
    local v text="" apr apu
    for v in CFLAGS CPPFLAGS NOTEST_CPPFLAGS EXTRA_CPPFLAGS EXTRA_CFLAGS; do
        text+=" $(apxs -q "$v")"
    done
    apr=$(apxs -q APR_CONFIG)
    apu=$(apxs -q APU_CONFIG)
    text+=" -I$(apxs -q INCLUDEDIR) $("$apr" --includes)"
    [ -z "$apu" ] || text+=" $("$apu" --includes)"
    # libtool's -prefer-pic (SHLTCFLAGS) for a shared object
    read -r -a APXS_CFLAGS <<< "$text -fPIC -DPIC"
    text=""
    for v in LDFLAGS NOTEST_LDFLAGS SH_LDFLAGS; do
        text+=" $(apxs -q "$v")"
    done
    read -r -a APXS_LDFLAGS <<< "$text $("$apr" --ldflags)"
    APXS_CC=$(apxs -q CC)
}

# build_module NAME OUTDIR EXTRA_FLAGS...
build_module() {
    local name=$1 out=$2; shift 2
    local obj flags=() f libs=() stamp
    read -r -a libs <<< "${MODULE_LIBS[$name]:-}"
    stamp=$(build_stamp "$name" "$@")
    if [ -f "$out/$name.so" ] && [ "$(cat "$out/.$name.stamp" 2>/dev/null)" = "$stamp" ]; then
        return 0                # built from these very sources already
    fi
    # A private folder per build, so builds running side by side never
    # share objects; the module is moved into place atomically. The
    # sources are copied there, common/'s beside the module's own (which
    # include its headers as neighbours).
    mkdir -p "$out/obj"
    obj=$(mktemp -d "$out/obj/$name.XXXXXX")
    cp "$TOP/$name"/*.c "$TOP/common"/*.c "$obj/"
    cp "$TOP/$name"/*.h "$TOP/common"/*.h "$obj/" 2>/dev/null || true
    # The web console's files, embedded as a C table generated beside the
    # copies (never in the tree): mod_apigw/console/embed.sh.
    if [ -d "$TOP/$name/console" ]; then
        sh "$TOP/$name/console/embed.sh" "$obj/apigw_console_assets.c" || {
            rm -rf "$obj"
            die "embedding $name's console failed"
        }
    fi
    # -fvisibility=hidden: the module record is the one symbol a module
    # exports (common/apigw_module.h); common/ code stays private to each
    flags=("${APXS_CFLAGS[@]}" -std=gnu11 -Wall -Wextra -Werror -fvisibility=hidden
           -Wno-missing-field-initializers "$@")
    # The sources in as many shares as there are cores, compiled side by
    # side, then the module linked from all the objects.
    local srcs=() share shares pids=() p rc=0 i
    shares=$(nproc 2>/dev/null || echo 2)
    (cd "$obj" && for f in ./*.c; do echo "${f#./}"; done) > "$obj/sources"
    mapfile -t srcs < "$obj/sources"
    for ((share = 0; share < shares; share++)); do
        local part=()
        for ((i = share; i < ${#srcs[@]}; i += shares)); do
            part+=("${srcs[i]}")
        done
        [ ${#part[@]} -gt 0 ] || continue
        (cd "$obj" && for f in "${part[@]}"; do
            "$APXS_CC" "${flags[@]}" -c "$f" -o "${f%.c}.o" || exit 1
        done >"$obj/build.$share.log" 2>&1) &
        pids+=("$!")
    done
    for p in "${pids[@]}"; do
        wait "$p" || rc=1
    done
    # the libraries before apxs's link flags, as libtool orders them
    [ $rc = 0 ] && (cd "$obj" && "$APXS_CC" -shared -fPIC -DPIC "${srcs[@]/%.c/.o}" \
        "${libs[@]}" "${APXS_LDFLAGS[@]}" "${LDFLAGS_EXTRA[@]}" \
        -Wl,-soname,"$name.so" -o "$name.so" >"$obj/build.log" 2>&1) || rc=1
    if [ $rc != 0 ]; then
        cat "$obj"/build*.log >&2
        rm -rf "$obj"
        die "building $name failed"
    fi
    cp "$obj/$name.so" "$out/.$name.so.$$"
    mv -f "$out/.$name.so.$$" "$out/$name.so"
    printf '%s\n' "$stamp" > "$out/.$name.stamp"
    rm -rf "$obj"
}

cmd_build() {
    command -v apxs >/dev/null || die "apxs not found: run ./apxs-build.sh deps (package apache2-dev)"
    local out="$BUILD" extra=()
    LDFLAGS_EXTRA=()
    if [ "${ASAN:-0}" = 1 ]; then
        out="$BUILD/asan"
        extra=(-fsanitize=address,undefined -fno-omit-frame-pointer -O1 -g)
        LDFLAGS_EXTRA=(-fsanitize=address,undefined)
    fi
    mkdir -p "$out"
    apxs_flags
    # the modules side by side: each in its own folder (build_module)
    local m p pids=() rc=0
    for m in "${MODULES[@]}"; do
        build_module "$m" "$out" "${extra[@]}" &
        pids+=("$!")
    done
    for p in "${pids[@]}"; do
        wait "$p" || rc=1
    done
    [ $rc = 0 ] || die "the build failed (above)"
    if [ "${ASAN:-0}" = 1 ]; then
        gcc -print-file-name=libasan.so > "$out/.libasan"
    fi
    say "built: $(cd "$out" && ls ./*.so | tr '\n' ' ')in $out"
}

# ---- install ----

cmd_install() {
    [ "$(id -u)" = 0 ] || die "install writes into the system httpd: run it as root"
    [ -f "$BUILD/mod_apigw.so" ] || cmd_build
    local libexec avail m short
    libexec=$(apxs -q LIBEXECDIR)
    avail=/etc/apache2/mods-available
    for m in "${MODULES[@]}"; do
        short=${m#mod_}
        apxs -i -n "$short" "$BUILD/$m.so" >/dev/null
        # The modules link against mod_proxy, which must be loaded first, but
        # Debian includes mods-enabled/*.load alphabetically ("apigw" before
        # "proxy"). Every *.load is included before any *.conf, so the
        # LoadModule line lives in the .conf; the .load carries the
        # dependencies for a2enmod.
        {
            echo "# Depends: proxy proxy_http proxy_balancer slotmem_shm lbmethod_byrequests"
            echo "# $m is loaded from $short.conf, after mod_proxy."
        } > "$avail/$short.load"
        echo "LoadModule ${short}_module $libexec/$m.so" > "$avail/$short.conf"
    done
    say "installed into $libexec; enable with: a2enmod apigw apigw_ratelimit apigw_breaker apigw_auth"
}

# ---- run ----

# The stock modules a gateway needs, in load order.
GATEWAY_MODULES=(
    "authn_core_module mod_authn_core.so"
    "authn_file_module mod_authn_file.so"
    "auth_basic_module mod_auth_basic.so"
    "authz_core_module mod_authz_core.so"
    "authz_host_module mod_authz_host.so"
    "authz_user_module mod_authz_user.so"
    "mime_module mod_mime.so"
    "headers_module mod_headers.so"
    "setenvif_module mod_setenvif.so"
    "env_module mod_env.so"
    "rewrite_module mod_rewrite.so"
    "slotmem_shm_module mod_slotmem_shm.so"
    "proxy_module mod_proxy.so"
    "proxy_http_module mod_proxy_http.so"
    "proxy_balancer_module mod_proxy_balancer.so"
    "lbmethod_byrequests_module mod_lbmethod_byrequests.so"
    "status_module mod_status.so"
)

# protocol_modules CONF RUNDIR: the stock modules CONF's protocols need,
# as LoadModule lines: mod_http2 when it lists h2 or h2c in Protocols,
# mod_proxy_http2 for h2:// and h2c:// backends (ApiBackend, BalancerMember,
# ProxyPass), mod_ssl when it turns TLS on (a self-signed certificate for
# 127.0.0.1 is made in RUNDIR/tls and named by the variables APIGW_TLS_CERT
# and APIGW_TLS_KEY).
protocol_modules() {
    local conf=$1 run=$2 line h2=0 proxy_h2=0 tls=0 krakend=0 shmcb=0
    # one pass, with bash's own matching: no grep per question (a test
    # suite starts a gateway a thousand times)
    local re_h2='^[[:space:]]*Protocols[[:space:]](.*[[:space:]])?h2c?([[:space:]]|$)'
    local re_proxy_h2='^[[:space:]]*(ApiBackend|BalancerMember|ProxyPass|ProxyPassMatch)[[:space:]].*"?h2c?://'
    local re_tls='^[[:space:]]*SSL(Proxy)?Engine[[:space:]]+on'
    local re_krakend='^[[:space:]]*ApiImportKrakenD'
    local re_shmcb='^[[:space:]]*LoadModule[[:space:]]+socache_shmcb_module'
    shopt -s nocasematch
    while IFS= read -r line || [ -n "$line" ]; do
        [[ $line =~ $re_h2 ]] && h2=1
        [[ $line =~ $re_proxy_h2 ]] && proxy_h2=1
        [[ $line =~ $re_tls ]] && tls=1
        [[ $line =~ $re_krakend ]] && krakend=1
        [[ $line =~ $re_shmcb ]] && shmcb=1
    done < "$conf"
    shopt -u nocasematch
    if [ $h2 = 1 ]; then
        echo "LoadModule http2_module $STOCK_MODULES/mod_http2.so"
    fi
    if [ $proxy_h2 = 1 ]; then
        echo "LoadModule proxy_http2_module $STOCK_MODULES/mod_proxy_http2.so"
    fi
    # the response cache's default store; a krakend.json import may turn
    # the cache on (qos/http-cache) where this script cannot see it
    if { [ $tls = 1 ] || [ $krakend = 1 ]; } && [ $shmcb = 0 ]; then
        echo "LoadModule socache_shmcb_module $STOCK_MODULES/mod_socache_shmcb.so"
    fi
    if [ $tls = 1 ]; then
        echo "LoadModule ssl_module $STOCK_MODULES/mod_ssl.so"
        if [ ! -f "$run/tls/cert.pem" ]; then
            mkdir -p "$run/tls"
            openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
                -subj /CN=localhost -addext basicConstraints=critical,CA:FALSE \
                -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
                -keyout "$run/tls/key.pem" -out "$run/tls/cert.pem" \
                >/dev/null 2>&1 || die "openssl could not make a test certificate"
        fi
        echo "SSLSessionCache \"shmcb:$run/tls/session-cache(512000)\""
        echo "Define APIGW_TLS_CERT \"$run/tls/cert.pem\""
        echo "Define APIGW_TLS_KEY \"$run/tls/key.pem\""
    fi
}

# write_httpd_conf CONF RUNDIR MODDIR: the config a user should not write.
write_httpd_conf() {
    local conf=$1 run=$2 moddir=$3 m user_line=""
    local mpm=${APIGW_MPM:-worker}
    if [ "$EUID" = 0 ]; then
        user_line="User ${APIGW_USER:-www-data}
Group ${APIGW_GROUP:-www-data}"
    fi
    {
        echo "# Generated by apxs-build.sh run; edit $conf instead."
        echo "ServerRoot \"$run\""
        echo "DefaultRuntimeDir \"$run\""
        echo "PidFile \"$run/httpd.pid\""
        echo "ErrorLog \"$run/error.log\""
        echo "LogLevel ${APIGW_LOGLEVEL:-warn}"
        echo "ServerName 127.0.0.1"
        echo "$user_line"
        echo "LoadModule mpm_${mpm}_module $STOCK_MODULES/mod_mpm_${mpm}.so"
        for m in "${GATEWAY_MODULES[@]}"; do
            set -- $m
            echo "LoadModule $1 $STOCK_MODULES/$2"
        done
        protocol_modules "$conf" "$run"
        echo "LoadModule apigw_module \"$moddir/mod_apigw.so\""
        echo "LoadModule apigw_ratelimit_module \"$moddir/mod_apigw_ratelimit.so\""
        echo "LoadModule apigw_breaker_module \"$moddir/mod_apigw_breaker.so\""
        echo "LoadModule apigw_auth_module \"$moddir/mod_apigw_auth.so\""
        echo "LoadModule apigw_krakend_module \"$moddir/mod_apigw_krakend.so\""
        echo "TypesConfig /etc/mime.types"
        echo "LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b %D\" gateway"
        echo "CustomLog \"$run/access.log\" gateway"
        # Measured in test/bench (see README, "Production tuning"): the worker
        # MPM with enough threads for every client connection.
        if [ "$mpm" = worker ] || [ "$mpm" = event ]; then
            local servers=${APIGW_SERVERS:-2} threads=${APIGW_THREADS:-128}
            printf '%s\n' "ServerLimit $servers" "StartServers $servers" \
                "ThreadLimit $threads" "ThreadsPerChild $threads" \
                "MaxRequestWorkers $((servers * threads))" "MinSpareThreads 1" \
                "MaxSpareThreads $((servers * threads))" "MaxConnectionsPerChild 0"
        fi
        echo "KeepAlive On"
        echo "MaxKeepAliveRequests 0"
        echo "KeepAliveTimeout 15"
        echo "Include \"$conf\""
    } > "$run/httpd.conf"
}

# prepare_run CONF: everything `run` needs; sets HTTPD_CONF to the
# generated config's path. Builtins only, but for mkdir: the tests start
# a gateway this way a thousand times.
HTTPD_CONF=""
prepare_run() {
    local conf=$1 run moddir name
    [ -f "$conf" ] || die "no such config: $conf"
    [[ $conf = /* ]] || conf=$PWD/$conf
    moddir=${APIGW_MODULE_DIR:-$BUILD}
    [ "${ASAN:-0}" = 1 ] && moddir=${APIGW_MODULE_DIR:-$BUILD/asan}
    [ -f "$moddir/mod_apigw.so" ] || die "no modules in $moddir: run ./apxs-build.sh build first"
    name=${conf##*/}
    run=${APIGW_RUN_DIR:-$TOP/run/${name%.conf}}
    if [ "$EUID" = 0 ]; then
        # the children (User below) write their stores and sockets there
        install -d -o "${APIGW_USER:-www-data}" -g "${APIGW_GROUP:-www-data}" "$run" \
            2>/dev/null || mkdir -p "$run"
    else
        mkdir -p "$run"
    fi
    write_httpd_conf "$conf" "$run" "$moddir"
    HTTPD_CONF=$run/httpd.conf
}

# The sanitizer runtime the ASan modules were linked with (recorded by
# cmd_build beside them), preloaded into httpd.
sanitizer_env() {
    if [ "${ASAN:-0}" = 1 ]; then
        local moddir=${APIGW_MODULE_DIR:-$BUILD/asan} libasan=""
        [ -f "$moddir/.libasan" ] && read -r libasan < "$moddir/.libasan"
        [ -n "$libasan" ] || libasan=$(gcc -print-file-name=libasan.so)
        export LD_PRELOAD=$libasan
        export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:halt_on_error=1:abort_on_error=0}
        export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=0}
    fi
}

cmd_run() {
    [ $# -ge 1 ] || die "usage: ./apxs-build.sh run CONF"
    local httpd_conf log
    prepare_run "$1"
    httpd_conf=$HTTPD_CONF
    log=${httpd_conf%/*}/configtest.log
    sanitizer_env
    # APIGW_CONFIGTEST=0 skips this separate check (httpd still refuses a
    # broken config as it starts, with the same messages): the test
    # suite's gateways start a thousand times and check their own logs
    if [ "${APIGW_CONFIGTEST:-1}" != 0 ]; then
        "$HTTPD_BIN" -t -f "$httpd_conf" >/dev/null 2>"$log" || {
            cat "$log" >&2
            die "the configuration has errors (above)"
        }
    fi
    say "httpd with $1; error log: ${httpd_conf%/*}/error.log; Ctrl-C stops it"
    # -DFOREGROUND keeps the parent in the foreground; SIGTERM/SIGINT stop it.
    exec "$HTTPD_BIN" -f "$httpd_conf" -DFOREGROUND
}

# ---- demo ----

# Registers the demo's runtime route through the admin API once the
# gateway answers (a second demo finds it stored already: 409, fine).
# Python replaces the shell it runs in: run in the background, its pid is
# the one to stop.
demo_runtime_route() {
    exec "$PYTHON" - "$APIGW_PORT" "$APIGW_DEMO_USERS_PORT" <<'PY'
import json, sys, time, urllib.request, urllib.error
port, users = sys.argv[1], sys.argv[2]
body = json.dumps({"path": "/v2/users/{id}",
                   "targetUrl": "http://127.0.0.1:%s/users/{id}" % users,
                   "methods": ["GET"]}).encode()
for _ in range(100):
    req = urllib.request.Request("http://127.0.0.1:%s/admin/routes" % port,
                                 data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(req, timeout=2)
        print("apxs-build: runtime route GET /v2/users/{id} registered")
        break
    except urllib.error.HTTPError as e:
        if e.code == 409:
            print("apxs-build: runtime route GET /v2/users/{id} already stored")
            break
    except OSError:
        pass
    time.sleep(0.1)
PY
}

# The demo's processes: global, for the EXIT trap runs after cmd_demo
# has returned, when its locals are gone. DEMO_HELPER: the registration of
# its runtime route while it runs.
DEMO_PIDS=()
DEMO_HELPER=""

# Stops every process of the demo and waits for them: on Ctrl-C (SIGINT
# to the whole process group), SIGTERM, or when one of them ended. TERM,
# not INT: background jobs of a non-interactive shell ignore SIGINT.
stop_demo() {
    trap - INT TERM EXIT
    if [ ${#DEMO_PIDS[@]} -gt 0 ] || [ -n "$DEMO_HELPER" ]; then
        kill -TERM "${DEMO_PIDS[@]}" $DEMO_HELPER 2>/dev/null || true
    fi
    wait 2>/dev/null || true
    DEMO_PIDS=()
    say "demo stopped"
}

demo_all_alive() {
    local p
    for p in "${DEMO_PIDS[@]}"; do
        kill -0 "$p" 2>/dev/null || return 1
    done
}

# The numbered menu of curl commands, one capability each, in the order
# of docs/tour.md (which shows what each answers).
demo_menu() {
    local g="http://127.0.0.1:$APIGW_PORT"
    cat >&2 <<EOF

The demo, one capability at a time (docs/tour.md shows the answers):

 1. index: what the demo serves, as JSON
      curl -s $g/ | python3 -m json.tool
 2. an endpoint (one backend, Cache-Control from ApiCacheTTL)
      curl -i $g/v1/users/alice
 3. aggregation: two backends called at once, merged
      curl -i $g/v1/overview/alice
 4. timeout: a backend slower than the endpoint's 1s ApiTimeout: 504
      curl -i $g/v1/slow
 5. rate limit: 5 a minute per client, the 6th is 429 with RateLimit headers
      for i in 1 2 3 4 5; do curl -s -o /dev/null -w '%{http_code} ' $g/v1/limited; done; echo
      curl -i $g/v1/limited
 6. circuit breaker: failures trip it (503 from the gateway), 5s later it recovers
      for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code} ' $g/v1/flaky/500; sleep 0.2; done; echo
                                (five 500s from the backend, then 503: tripped)
      curl -i $g/v1/flaky/200   (503 too, Retry-After: the backend is not called)
      curl -s $g/breakers       (state "tripped")
      sleep 5; for i in 1 2 3 4 5 6 7; do curl -s -o /dev/null -w '%{http_code} ' $g/v1/flaky/200; sleep 1; done; echo
                                (503s, then more and more 200s: recovering, then standby)
 7. failover pool: its primary member is down (suspended); the secondary answers
      curl -i $g/v1/inventory/42
      curl -s $g/metrics | grep 'apigw_member_state{pool="balancer://inventory"' | grep ' 1\$'
      $g/balancer-manager   (in a browser: the primary is "Init Err")
 8. CORS: a preflight answered by the gateway
      curl -i -X OPTIONS -H 'Origin: https://app.example.com' -H 'Access-Control-Request-Method: PUT' -H 'Access-Control-Request-Headers: authorization' $g/v1/products/7
 9. response cache: the second call is X-Cache: HIT
      curl -s -o /dev/null -D - $g/v1/prices/7; curl -s -o /dev/null -D - $g/v1/prices/7
10. status pages: rate limits, breakers (JSON), balancer pools (HTML)
      curl -s $g/ratelimit-status
      curl -s $g/breakers
      $g/balancer-manager   (in a browser)
11. metrics (Prometheus)
      curl -s $g/metrics | grep -E '^apigw_(requests_total|ratelimit_rejected_total|breaker_trips_total|cache_hits_total)' | grep -v ' 0\$'
12. health: liveness and readiness
      curl -i $g/health/live
      curl -i $g/health/ready
13. OpenAPI 3.1 description of the endpoints (here the paths it describes)
      curl -s $g/openapi.json | python3 -c 'import json, sys; print(*json.load(sys.stdin)["paths"], sep="\\n")'
14. runtime routes: one registered through the admin API, the list, a new one
      curl -i $g/v2/users/alice
      curl -s $g/admin/routes
      curl -i -H 'Content-Type: application/json' -d '{"path":"/v2/orders","targetUrl":"http://127.0.0.1:$APIGW_DEMO_ORDERS_PORT/orders"}' $g/admin/routes
      curl -i $g/v2/orders   (served at once)
15. the same through GraphQL
      curl -s -H 'Content-Type: application/json' -d '{"query":"{ routes(environment: \"default\") { id path targetUrl enabled } }"}' $g/admin/graphql
16. the route console
      $g/admin/   (in a browser)

Ctrl-C stops the demo.
EOF
}

cmd_demo() {
    cmd_deps
    cmd_build
    export APIGW_PORT=${APIGW_PORT:-8080}
    export APIGW_DEMO_USERS_PORT=${APIGW_DEMO_USERS_PORT:-9101}
    export APIGW_DEMO_ORDERS_PORT=${APIGW_DEMO_ORDERS_PORT:-9102}
    trap 'stop_demo; exit 130' INT
    trap 'stop_demo; exit 143' TERM
    trap stop_demo EXIT
    "$PYTHON" "$TOP/test/backends/backend.py" --port "$APIGW_DEMO_USERS_PORT" --name users &
    DEMO_PIDS+=($!)
    "$PYTHON" "$TOP/test/backends/backend.py" --port "$APIGW_DEMO_ORDERS_PORT" --name orders &
    DEMO_PIDS+=($!)
    (cmd_run "$TOP/conf/demo.conf") &
    DEMO_PIDS+=($!)
    say "demo gateway on http://127.0.0.1:$APIGW_PORT/ (GET / lists its endpoints as JSON)"
    # in the background and waited for: a foreground command that handled
    # a Ctrl-C itself would keep this shell from running its INT trap
    (demo_runtime_route) &
    DEMO_HELPER=$!
    wait "$DEMO_HELPER" || true
    DEMO_HELPER=""
    demo_menu
    # until one of them ends (or a signal's trap stops them all); not
    # `wait -n`: it waits on when one of them ended before it was called
    while demo_all_alive; do
        sleep 0.5 &
        wait $! || true
    done
}

# ---- test ----

# Each module exports its module record and nothing else (built with
# -fvisibility=hidden; common/ code stays private to each .so).
check_exports() {
    local m bad=0 extra
    for m in "${MODULES[@]}"; do
        extra=$(nm -D --defined-only "$BUILD/$m.so" | awk '{print $3}' \
                | grep -v -x -e "${m#mod_}_module" -e '_init' -e '_fini' \
                          -e '__bss_start' -e '_edata' -e '_end' || true)
        if [ -n "$extra" ]; then
            say "$m.so exports more than its module record: $(echo $extra)"
            bad=1
        fi
    done
    [ $bad = 0 ] && say "exports: each module exports only its module record"
    return $bad
}

# idle_priority: the calling (sub)shell and what it starts get CPU time
# only when nothing else wants it (SCHED_IDLE).
idle_priority() {
    chrt -i -p 0 "$BASHPID" >/dev/null 2>&1 || renice -n 19 -p "$BASHPID" >/dev/null 2>&1 || true
}

# integration_parallel ASAN LOG: the integration suite against one build,
# the tests side by side in APIGW_TEST_JOBS pytest-xdist workers (default
# 4: they keep two cores busy, six are no faster; loadgroup keeps the
# tests sharing a module-scoped fixture on one worker). Returns non-zero
# when a test failed.
integration_parallel() {
    local asan=$1 log=$2 jobs=${APIGW_TEST_JOBS:-4}
    (cd "$TOP" && ASAN=$asan "$PYTHON" -m pytest -q -p no:cacheprovider \
        -n "$jobs" --dist loadgroup -m "not serial" test/integration) | tee "$log"
}

# integration_serial ASAN LOG: the tests marked serial (wall-clock bounds,
# exact rates under load), one at a time in one process.
integration_serial() {
    local asan=$1 log=$2
    (cd "$TOP" && ASAN=$asan "$PYTHON" -m pytest -q -p no:cacheprovider \
        -p no:xdist -m serial test/integration) | tee "$log"
}

# The order makes use of both cores throughout: while the timing-
# sensitive tests run alone (one core, mostly waiting), what the next steps
# need runs beside them at idle priority, taking only the CPU time those
# tests leave: the ASan build then the unit tests beside the normal ones,
# the fuzz replay beside the ASan ones. (Beside a parallel pass, whose
# workers keep both cores busy, the ASan build made that pass ~30 s
# longer, idle priority or not.)
cmd_test() {
    cmd_deps
    cmd_build
    local results="$BUILD/test-results" rc=0 bg
    mkdir -p "$results"
    "$PYTHON" "$TOP/test/check_includes.py" | tee "$results/includes.log" \
        || { say "include circles (above)"; rc=1; }
    check_exports || rc=1

    say "integration tests, ${APIGW_TEST_JOBS:-4} at a time"
    integration_parallel 0 "$results/integration.log" || rc=1
    say "the timing-sensitive ones (marked serial), alone (the ASan build and the unit tests beside them, at idle priority)"
    rm -f "$results/build-asan.rc" "$results/unit.rc"
    (
        idle_priority
        (ASAN=1 cmd_build) > "$results/build-asan.log" 2>&1
        echo $? > "$results/build-asan.rc"
        "$TOP/test/unit/run.sh" "$BUILD/unit" > "$results/unit.log" 2>&1
        echo $? > "$results/unit.rc"
    ) &
    bg=$!
    integration_serial 0 "$results/integration-serial.log" || rc=1
    # the ASan build, not the unit tests after it, is what the next pass needs
    while [ ! -s "$results/build-asan.rc" ] && kill -0 "$bg" 2>/dev/null; do
        sleep 0.5
    done
    [ "$(cat "$results/build-asan.rc" 2>/dev/null)" = 0 ] \
        || { cat "$results/build-asan.log" >&2; die "the ASan build failed (above)"; }
    cat "$results/build-asan.log" >&2

    say "integration tests under AddressSanitizer/UBSan, ${APIGW_TEST_JOBS:-4} at a time"
    integration_parallel 1 "$results/integration-asan.log" || rc=1
    wait "$bg" || true
    say "the timing-sensitive ones under ASan, alone (the fuzz replay beside them, at idle priority)"
    (
        idle_priority
        "$TOP/test/fuzz/run.sh" --replay > "$results/fuzz-full.log" 2>&1
        echo $? > "$results/fuzz.rc"
    ) &
    bg=$!
    integration_serial 1 "$results/integration-asan-serial.log" || rc=1
    wait "$bg" || true

    say "unit tests"
    cat "$results/unit.log"
    [ "$(cat "$results/unit.rc" 2>/dev/null)" = 0 ] || rc=1
    say "fuzz corpus replay"
    tail -n 20 "$results/fuzz-full.log" | tee "$results/fuzz.log"
    [ "$(cat "$results/fuzz.rc" 2>/dev/null)" = 0 ] || { say "fuzz replay failed"; rc=1; }

    "$PYTHON" "$TOP/test/summarize.py" "$results/unit.log" \
        "$results/integration.log" "$results/integration-serial.log" \
        "$results/integration-asan.log" "$results/integration-asan-serial.log" \
        || rc=1
    return $rc
}

# ---- bench ----

# bench [NAME] [options]: NAME picks test/bench/bench_NAME.sh (each prints
# its own ratio against plain mod_proxy); without NAME the gateway
# benchmark (test/bench/run.sh); "all" runs every one with its defaults.
cmd_bench() {
    cmd_deps
    cmd_build
    local name=${1:-} f rc=0
    if [ "$name" = all ]; then
        "$TOP/test/bench/run.sh" || rc=1
        for f in "$TOP"/test/bench/bench_*.sh; do
            [ -e "$f" ] || continue
            "$f" || rc=1
        done
        return $rc
    fi
    if [ -n "$name" ] && [ "${name#-}" = "$name" ]; then
        shift
        f="$TOP/test/bench/bench_$name.sh"
        [ -x "$f" ] || die "no benchmark named $name (test/bench/bench_$name.sh)"
        "$f" "$@"
        return
    fi
    "$TOP/test/bench/run.sh" "$@"
}

# ---- KrakenD ----

# check-krakend PATH [--print]: what ApiImportKrakenD makes of a
# krakend.json, without starting a server (httpd's configtest on a config
# holding only the import): one line per component that is skipped,
# approximated or refused, then "Syntax OK" or the first error with its
# line and JSON pointer. --print adds the <ApiEndpoint> blocks generated.
cmd_check_krakend() {
    local kd="" print=0 tmp conf httpd_conf rc=0
    while [ $# -gt 0 ]; do
        case "$1" in
            --print) print=1 ;;
            -*) die "check-krakend: unknown option $1" ;;
            *) kd=$1 ;;
        esac
        shift
    done
    [ -n "$kd" ] || die "usage: ./apxs-build.sh check-krakend PATH [--print]"
    [ -f "$kd" ] || die "no such file: $kd"
    kd=$(cd "$(dirname "$kd")" && pwd)/$(basename "$kd")
    [ -f "$BUILD/mod_apigw_krakend.so" ] || cmd_build
    tmp=$(mktemp -d)
    conf="$tmp/check-krakend.conf"
    printf 'Listen 127.0.0.1:1\nApiImportKrakenD "%s"\n' "$kd" > "$conf"
    APIGW_RUN_DIR="$tmp/run" prepare_run "$conf"
    httpd_conf=$HTTPD_CONF
    if [ $print = 1 ]; then
        sed -i 's/^LogLevel .*/LogLevel warn apigw_krakend:debug/' "$httpd_conf"
    fi
    # the generated lines are logged at debug as "AGW04003: <line>"
    "$HTTPD_BIN" -t -f "$httpd_conf" 2>&1 \
        | sed -E 's/^\[[^]]*\] \[[^]]*\] \[pid [^]]*\] //; s/^[^ ]*[(][0-9]+[)]: //; s/^AGW04003: //' \
        || rc=$?
    rc=${PIPESTATUS[0]}
    rm -rf "$tmp"
    return "$rc"
}

# ---- OpenAPI ----

OPENAPI_PATH=/.well-known/apigw-openapi.json

# openapi CONF: the OpenAPI 3.1 document of CONF's main server on stdout
# (docs/openapi.md): httpd started with a copy of CONF whose Listen lines
# are commented out (the line numbers stay, a running gateway keeps its
# ports), on a free local port with SetHandler apigw-openapi at
# OPENAPI_PATH; one GET, then httpd is stopped. The copy's path is
# written as CONF's in the document (x-apigw-source).
# openapi_stop PIDFILE: the httpd started stopped (SIGTERM; SIGKILL after
# 10 s), once its pid is known.
openapi_stop() {
    local pidfile=$1 pid i
    for i in $(seq 100); do
        [ -s "$pidfile" ] && break
        sleep 0.05
    done
    [ -s "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 200); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
}

cmd_openapi() {
    [ $# -eq 1 ] || die "usage: ./apxs-build.sh openapi CONF"
    local conf=$1 tmp copy httpd_conf port rc=0
    [ -f "$conf" ] || die "no such config: $conf"
    conf=$(cd "$(dirname "$conf")" && pwd)/$(basename "$conf")
    [ -f "$BUILD/mod_apigw.so" ] || cmd_build
    tmp=$(mktemp -d)
    copy="$tmp/$(basename "$conf")"
    sed -E 's/^([[:space:]]*)(Listen[[:space:]])/\1# \2/I' "$conf" > "$copy"
    port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    APIGW_RUN_DIR="$tmp/run" prepare_run "$copy"
    httpd_conf=$HTTPD_CONF
    printf 'Listen 127.0.0.1:%s\n<Location "%s">\n  SetHandler apigw-openapi\n</Location>\n' \
        "$port" "$OPENAPI_PATH" >> "$httpd_conf"
    if ! (sanitizer_env; "$HTTPD_BIN" -t -f "$httpd_conf") >/dev/null 2>"$tmp/configtest.log"; then
        sed "s|$tmp/$(basename "$conf")|$conf|g" "$tmp/configtest.log" >&2
        rm -rf "$tmp"
        die "the configuration has errors (above)"
    fi
    (sanitizer_env; "$HTTPD_BIN" -f "$httpd_conf") || { rm -rf "$tmp"; die "httpd did not start"; }
    "$PYTHON" - "$port" "$OPENAPI_PATH" "$copy" "$conf" <<'PY' || rc=$?
import json, sys, time, urllib.error, urllib.request
port, path, copy, conf = sys.argv[1:5]
url = "http://127.0.0.1:%s%s" % (port, path)
for _ in range(200):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            body = r.read().decode("utf-8")
        break
    except urllib.error.HTTPError as e:
        sys.exit("apxs-build: %s answered %d" % (path, e.code))
    except OSError:
        time.sleep(0.05)
else:
    sys.exit("apxs-build: httpd did not answer on port %s" % port)
try:
    doc = json.loads(body)
except ValueError:
    doc = None
if not isinstance(doc, dict) or "openapi" not in doc:
    sys.exit("apxs-build: an endpoint of the configuration answers %s "
             "instead of the apigw-openapi handler" % path)
esc = lambda s: json.dumps(s, ensure_ascii=False)[1:-1]
sys.stdout.write(body.replace(esc(copy), esc(conf)))
PY
    openapi_stop "$tmp/run/httpd.pid"
    [ "$rc" = 0 ] || sed -n '/\[error\]\|\[crit\]\|\[emerg\]/p' "$tmp/run/error.log" >&2
    rm -rf "$tmp"
    return "$rc"
}

# conformance [DIR] [RUNNER OPTIONS]: krakend-ce's own integration specs
# (DIR: its krakend.json and specs/, default ../shared/conformance/krakend-ce)
# against the gateway with ApiImportKrakenD, by test/conformance/krakend_ce.py:
# one line per spec, then "krakend-ce: N passed, M failed, K not applicable".
cmd_conformance() {
    local dir="$TOP/../shared/conformance/krakend-ce"
    if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
        dir=$1
        shift
    fi
    [ -d "$dir" ] || die "no conformance data in $dir"
    cmd_build
    APIGW_BUILD_DIR="$BUILD" "$PYTHON" "$TOP/test/conformance/krakend_ce.py" \
        --build-dir "$BUILD" "$@" "$dir"
}

# ---- fuzz ----

cmd_fuzz() {
    "$TOP/test/fuzz/run.sh" "$@"
}

# ---- package ----

# What dpkg-buildpackage needs for debian/ (its Build-Depends, by package
# name; dpkg-checkbuilddeps checks the exact list when it runs).
PACKAGE_BUILD_DEPS=(dpkg-dev debhelper fakeroot build-essential apache2-dev
                    libapr1-dev libaprutil1-dev libcurl4-openssl-dev
                    libhiredis-dev libjansson-dev libpcre2-dev libssl-dev)

# package [--test]: the Debian package libapache2-mod-apigw, built by
# dpkg-buildpackage from a copy of the tree in $BUILD/package/mod-apigw
# (its .deb, .buildinfo and .changes land in $BUILD/package/); lintian, when
# installed, checks it and its errors fail the build. The .deb's path is
# printed on stdout. --test then runs test/package/test_package.sh on it.
cmd_package() {
    local test=0 p missing=() out src version stamp deb start rc=0
    while [ $# -gt 0 ]; do
        case "$1" in
            --test) test=1 ;;
            *) die "usage: ./apxs-build.sh package [--test]" ;;
        esac
        shift
    done
    mapfile -t missing < <(missing_packages "${PACKAGE_BUILD_DEPS[@]}")
    if [ ${#missing[@]} -gt 0 ]; then
        [ "$(id -u)" = 0 ] \
            || die "missing Debian packages: ${missing[*]}. Run as root, or: sudo apt-get install ${missing[*]}"
        say "installing: ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
    fi
    start=$(date +%s)
    out="$BUILD/package"
    src="$out/mod-apigw"
    rm -rf "$out"
    mkdir -p "$src"
    # the tree as it is now (uncommitted changes included), without what
    # builds, runs and tests leave in it
    tar -C "$TOP" --exclude=./.git --exclude=./build --exclude=./run \
        --exclude=./test --exclude=__pycache__ --exclude=.pytest_cache \
        --exclude=./debian/build -cf - . | tar -C "$src" -xf -
    # a snapshot's version names its commit: 0.1.0+git20261207.0585f87
    if stamp=$(git -C "$TOP" log -1 --format='%cd.%h' --date=format:%Y%m%d 2>/dev/null); then
        version="$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)+git$stamp"
        sed -i "1s/(\([^)]*\))/($version)/" "$src/debian/changelog"
    fi
    say "dpkg-buildpackage in $src (log: $out/build.log)"
    (cd "$src" && dpkg-buildpackage -b -us -uc) > "$out/build.log" 2>&1 || {
        tail -n 40 "$out/build.log" >&2
        die "dpkg-buildpackage failed (above; the whole log: $out/build.log)"
    }
    deb=$(ls "$out"/libapache2-mod-apigw_*.deb)
    say "built $deb in $(( $(date +%s) - start )) s"
    if command -v lintian >/dev/null; then
        lintian --fail-on error "$deb" > "$out/lintian.log" 2>&1 || rc=$?
        sed 's/^/apxs-build: lintian: /' "$out/lintian.log" >&2
        [ "$rc" = 0 ] || die "lintian found errors in $deb (above)"
        say "lintian: no errors ($(grep -c '^W:' "$out/lintian.log") warnings)"
    else
        say "lintian is not installed: the package was not checked"
    fi
    printf '%s\n' "$deb"
    if [ $test = 1 ]; then
        "$TOP/test/package/test_package.sh" --deb "$deb"
    fi
}

main() {
    local cmd=${1:-build}
    [ $# -gt 0 ] && shift
    case "$cmd" in
        deps) cmd_deps ;;
        build) cmd_build ;;
        install) cmd_install ;;
        run) cmd_run "$@" ;;
        demo) cmd_demo ;;
        test) cmd_test ;;
        bench) cmd_bench "$@" ;;
        fuzz) cmd_fuzz "$@" ;;
        check-krakend) cmd_check_krakend "$@" ;;
        openapi) cmd_openapi "$@" ;;
        conformance) cmd_conformance "$@" ;;
        package) cmd_package "$@" ;;
        help|-h|--help) usage ;;
        *) usage; exit 2 ;;
    esac
}

main "$@"
