#!/usr/bin/env bash
# Fuzz runner for the pure mod_apigw sources: builds each test/fuzz/fuzz_*.c
# with clang's libFuzzer, ASan and UBSan into build/fuzz/, then either
# fuzzes each target for N seconds or only replays the checked-in seeds.
# usage: test/fuzz/run.sh [--seconds N] [--replay] [TARGET...]
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
OUT="$TOP/build/fuzz"
CC=${CC:-clang}
SECONDS_PER_TARGET=30
REPLAY=0
TARGETS=()

while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) SECONDS_PER_TARGET=${2:?--seconds needs a number}; shift 2 ;;
        --seconds=*) SECONDS_PER_TARGET=${1#--seconds=}; shift ;;
        --replay) REPLAY=1; shift ;;
        -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
        -*) echo "unknown option: $1" >&2; exit 2 ;;
        *) TARGETS+=("$1"); shift ;;
    esac
done
case "$SECONDS_PER_TARGET" in
    ''|*[!0-9]*) echo "--seconds needs a whole number" >&2; exit 2 ;;
esac
if [ ${#TARGETS[@]} -eq 0 ]; then
    for f in "$HERE"/fuzz_*.c; do
        TARGETS+=("$(basename "$f" .c)")
    done
fi

command -v "$CC" >/dev/null || {
    echo "$CC not found: apt-get install clang libclang-rt-14-dev" >&2
    exit 2
}

# The pure sources a target needs besides itself, and extra link flags,
# are named in the target's own file, on lines such as
#   /* sources: mod_apigw/apigw_route.c common/apigw_parse.c */
#   /* libs: -ljansson */
#   /* cflags: -I/usr/include/apache2 */   (httpd's headers, never its symbols)
# so adding a target never means editing this runner.
file_tag() {
    sed -n "s|^/\\* $2: \\(.*\\) \\*/\$|\\1|p" "$HERE/$1.c" | head -n 1
}
sources_for() { file_tag "$1" sources; }
libs_for() { file_tag "$1" libs; }
cflags_for() { file_tag "$1" cflags; }

CFLAGS=(-std=gnu11 -g -O1 -fno-omit-frame-pointer
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
        -Wall -Wextra -Werror -I "$TOP/common" -I "$TOP/mod_apigw"
        -I "$TOP/mod_apigw_ratelimit" -I "$TOP/mod_apigw_breaker")
# shellcheck disable=SC2207
APR_CFLAGS=($(apr-1-config --includes --cppflags --cflags))
# shellcheck disable=SC2207
APR_LIBS=($(apr-1-config --link-ld --libs))

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

mkdir -p "$OUT"
failed=0
for t in "${TARGETS[@]}"; do
    src="$HERE/$t.c"
    [ -f "$src" ] || { echo "no such target: $t" >&2; failed=$((failed + 1)); continue; }
    extra=()
    for f in $(sources_for "$t"); do
        extra+=("$TOP/$f")
    done
    echo "==> building $t"
    # shellcheck disable=SC2046
    if ! "$CC" "${CFLAGS[@]}" "${APR_CFLAGS[@]}" $(cflags_for "$t") -o "$OUT/$t" "$src" \
            "${extra[@]}" "${APR_LIBS[@]}" $(libs_for "$t"); then
        echo "$t: BUILD FAILED"
        failed=$((failed + 1))
        continue
    fi

    seeds="$HERE/corpus/$t"
    dict=()
    [ -f "$HERE/$t.dict" ] && dict=(-dict="$HERE/$t.dict")
    if [ "$REPLAY" = 1 ]; then
        shopt -s nullglob
        files=("$seeds"/*)
        shopt -u nullglob
        if [ ${#files[@]} -eq 0 ]; then
            echo "$t: no seeds in $seeds"
            failed=$((failed + 1))
            continue
        fi
        echo "==> replaying ${#files[@]} seeds for $t"
        if "$OUT/$t" "${files[@]}" >"$OUT/$t.replay.log" 2>&1; then
            echo "$t: ${#files[@]} seeds OK"
        else
            tail -n 40 "$OUT/$t.replay.log"
            echo "$t: REPLAY FAILED (log: $OUT/$t.replay.log)"
            failed=$((failed + 1))
        fi
        continue
    fi

    # New inputs go to build/fuzz/corpus/<target>, never into the
    # checked-in seeds; crashes are written to build/fuzz/crash-<target>-*.
    work="$OUT/corpus/$t"
    mkdir -p "$work"
    echo "==> fuzzing $t for ${SECONDS_PER_TARGET}s"
    if "$OUT/$t" "${dict[@]}" -max_total_time="$SECONDS_PER_TARGET" \
            -max_len=4096 -timeout=10 -print_final_stats=1 \
            -artifact_prefix="$OUT/crash-$t-" \
            "$work" "$seeds" >"$OUT/$t.fuzz.log" 2>&1; then
        grep -E '^(#[0-9]+ +DONE|Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)' \
            "$OUT/$t.fuzz.log" || true
        echo "$t: no failures in ${SECONDS_PER_TARGET}s ($(find "$work" -type f | wc -l) corpus entries)"
    else
        tail -n 60 "$OUT/$t.fuzz.log"
        echo "$t: FAILED (log: $OUT/$t.fuzz.log)"
        failed=$((failed + 1))
    fi
done

if [ "$failed" -ne 0 ]; then
    echo "fuzz: $failed target(s) failed"
    exit 1
fi
echo "fuzz: ${#TARGETS[@]} target(s) OK"
