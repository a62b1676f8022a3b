#!/usr/bin/env bash
# Unit test runner: builds every test/unit/test_*.c with cmocka, ASan and
# UBSan against the pure sources (APR only, no httpd), runs each binary and
# ends with one line "unit: N passed, M failed".
# usage: test/unit/run.sh OUTDIR [TEST...] (every test_*.c, or those named;
# APIGW_UNIT_JOBS at a time: the cores)
set -uo pipefail

if [ $# -lt 1 ]; then
    echo "usage: $0 OUTDIR [TEST...]" >&2
    exit 2
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
mkdir -p "$1" || exit 2
OUT=$(cd "$1" && pwd)
CC=${CC:-gcc}

# The pure sources a test needs besides itself, and extra link flags,
# are named in the test's own file, on lines such as
#   /* sources: mod_apigw/apigw_route.c common/apigw_parse.c */
#   /* libs: -ljansson */
#   /* cflags: -I/usr/include/apache2 */   (httpd's headers, never its symbols)
# so adding a test never means editing this runner.
file_tag() {
    sed -n "s|^/\\* $2: \\(.*\\) \\*/\$|\\1|p" "$HERE/$1.c" | head -n 1
}
sources_for() { file_tag "$1" sources; }
libs_for() { file_tag "$1" libs; }
cflags_for() { file_tag "$1" cflags; }

CFLAGS=(-std=gnu11 -Wall -Wextra -Werror -g
        -fsanitize=address,undefined -fno-sanitize-recover=undefined
        -I "$TOP/common" -I "$TOP/mod_apigw" -I "$TOP/mod_apigw_ratelimit" -I "$TOP/mod_apigw_breaker" -I "$TOP/mod_apigw_auth" -I "$TOP/mod_apigw_krakend")
# shellcheck disable=SC2207
APR_CFLAGS=($(apr-1-config --includes --cppflags --cflags))
# shellcheck disable=SC2207
APR_LIBS=($(apr-1-config --link-ld --libs))

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:halt_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

JOBS=${APIGW_UNIT_JOBS:-$(nproc 2>/dev/null || echo 2)}

# run_one NAME: builds and runs one test; its report goes to OUT/NAME.out
# and "PASSED FAILED BROKEN" to OUT/NAME.counts (several run side by side).
run_one() {
    local name=$1 src="$HERE/$1.c" extra=() f log rc p fl broken=0
    for f in $(sources_for "$name"); do
        extra+=("$TOP/$f")
    done
    echo "==> $name"
    # shellcheck disable=SC2046
    if ! "$CC" "${CFLAGS[@]}" "${APR_CFLAGS[@]}" $(cflags_for "$name") -o "$OUT/$name" "$src" \
            "${extra[@]}" "${APR_LIBS[@]}" $(libs_for "$name") -lcmocka >"$OUT/$name.build.log" 2>&1; then
        cat "$OUT/$name.build.log"
        echo "$name: BUILD FAILED"
        echo "0 1 1" > "$OUT/$name.counts"
        return
    fi
    log="$OUT/$name.log"
    "$OUT/$name" >"$log" 2>&1
    rc=$?
    # LeakSanitizer's own tracer crashing as the binary exits ("Tracer
    # caught signal 11", seen once with every test passed) is the tool
    # failing, not a leak found: once more; a leak report fails at once
    if [ "$rc" -ne 0 ] && grep -q "LeakSanitizer has encountered a fatal error" "$log" \
            && ! grep -q "detected memory leaks" "$log"; then
        echo "$name: LeakSanitizer's tracer failed (not a leak): run again"
        "$OUT/$name" >"$log" 2>&1
        rc=$?
    fi
    cat "$log"
    # cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] M test(s), ..."
    p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    fl=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test.*/\1/p' "$log" | tail -n 1)
    p=${p:-0}
    fl=${fl:-0}
    if [ "$rc" -ne 0 ] && [ "$fl" -eq 0 ]; then
        # crashed, or stopped by a sanitizer before cmocka could report
        echo "$name: exited with status $rc before reporting its results"
        broken=1
        fl=1
    fi
    echo "$p $fl $broken" > "$OUT/$name.counts"
}

shopt -s nullglob
if [ $# -gt 1 ]; then
    tests=()
    for name in "${@:2}"; do
        [ -f "$HERE/${name%.c}.c" ] || { echo "no such unit test: $name" >&2; exit 2; }
        tests+=("$HERE/${name%.c}.c")
    done
else
    tests=("$HERE"/test_*.c)
fi
if [ ${#tests[@]} -eq 0 ]; then
    echo "unit: no tests in $HERE"
    echo "unit: 0 passed, 1 failed"
    exit 1
fi

names=()
for src in "${tests[@]}"; do
    name=$(basename "$src" .c)
    names+=("$name")
    rm -f "$OUT/$name.counts"
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
        wait -n
    done
    run_one "$name" >"$OUT/$name.out" 2>&1 &
done
wait

# the reports in the tests' order, then the sum
passed=0
failed=0
broken=0
for name in "${names[@]}"; do
    cat "$OUT/$name.out"
    if read -r p fl b < "$OUT/$name.counts" 2>/dev/null; then
        passed=$((passed + p))
        failed=$((failed + fl))
        broken=$((broken + b))
    else
        echo "$name: no result (the runner lost it)"
        failed=$((failed + 1))
        broken=$((broken + 1))
    fi
done

echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$broken" -eq 0 ]
