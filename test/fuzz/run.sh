#!/usr/bin/env bash
# Fuzz runner for the pure mod_apigw sources: builds each test/fuzz/fuzz_*.c
# with clang's libFuzzer, ASan and UBSan into build/fuzz/, then either
# replays the checked-in seeds, fuzzes each target for N seconds in turn,
# or runs a depth campaign: every target in parallel on the cores, until
# --runs executions or --minutes, one report line per target, failures
# minimized. --merge adds what grew the coverage to the checked-in seeds.
# usage: test/fuzz/run.sh [--replay | --seconds N |
#                          --minutes N [--runs N] [--jobs N] [--merge]]
#                         [TARGET...]
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
OUT="$TOP/build/fuzz"
CC=${CC:-clang}
SECONDS_PER_TARGET=30
MINUTES=
RUNS=10000000
JOBS=$(nproc 2>/dev/null || echo 2)
REPLAY=0
MERGE=0
TARGETS=()

while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) SECONDS_PER_TARGET=${2:?--seconds needs a number}; shift 2 ;;
        --seconds=*) SECONDS_PER_TARGET=${1#--seconds=}; shift ;;
        --minutes) MINUTES=${2:?--minutes needs a number}; shift 2 ;;
        --minutes=*) MINUTES=${1#--minutes=}; shift ;;
        --runs) RUNS=${2:?--runs needs a number}; shift 2 ;;
        --runs=*) RUNS=${1#--runs=}; shift ;;
        --jobs) JOBS=${2:?--jobs needs a number}; shift 2 ;;
        --jobs=*) JOBS=${1#--jobs=}; shift ;;
        --replay) REPLAY=1; shift ;;
        --merge) MERGE=1; shift ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        -*) echo "unknown option: $1" >&2; exit 2 ;;
        *) TARGETS+=("$1"); shift ;;
    esac
done
whole() {
    case "$2" in
        ''|*[!0-9]*) echo "$1 needs a whole number" >&2; exit 2 ;;
    esac
}
whole --seconds "$SECONDS_PER_TARGET"
whole --runs "$RUNS"
whole --jobs "$JOBS"
[ -z "$MINUTES" ] || whole --minutes "$MINUTES"
[ "$JOBS" -ge 1 ] || JOBS=1
if [ "$MERGE" = 1 ] && [ -z "$MINUTES" ]; then
    echo "--merge goes with --minutes" >&2
    exit 2
fi
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
        -I "$TOP/mod_apigw_ratelimit" -I "$TOP/mod_apigw_breaker" -I "$TOP/mod_apigw_auth" -I "$TOP/mod_apigw_krakend")
# shellcheck disable=SC2207
APR_CFLAGS=($(apr-1-config --includes --cppflags --cflags))
# shellcheck disable=SC2207
APR_LIBS=($(apr-1-config --link-ld --libs))

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

build_target() {
    local t=$1 src="$HERE/$1.c" extra=() f
    [ -f "$src" ] || { echo "no such target: $t" >&2; return 1; }
    for f in $(sources_for "$t"); do
        extra+=("$TOP/$f")
    done
    echo "==> building $t"
    # shellcheck disable=SC2046
    "$CC" "${CFLAGS[@]}" "${APR_CFLAGS[@]}" $(cflags_for "$t") -o "$OUT/$t" \
        "$src" "${extra[@]}" "${APR_LIBS[@]}" $(libs_for "$t") \
        || { echo "$t: BUILD FAILED"; return 1; }
}

dict_for() {
    [ -f "$HERE/$1.dict" ] && echo "-dict=$HERE/$1.dict"
}

replay_target() {
    local t=$1 seeds="$HERE/corpus/$1" files
    shopt -s nullglob
    files=("$seeds"/*)
    shopt -u nullglob
    if [ ${#files[@]} -eq 0 ]; then
        echo "$t: no seeds in $seeds"
        return 1
    fi
    echo "==> replaying ${#files[@]} seeds for $t"
    if "$OUT/$t" "${files[@]}" >"$OUT/$t.replay.log" 2>&1; then
        echo "$t: ${#files[@]} seeds OK"
    else
        tail -n 40 "$OUT/$t.replay.log"
        echo "$t: REPLAY FAILED (log: $OUT/$t.replay.log)"
        return 1
    fi
}

# New inputs go to build/fuzz/corpus/<target>, never into the checked-in
# seeds; crashes are written to build/fuzz/crash-<target>-*.
fuzz_target() {
    local t=$1 work="$OUT/corpus/$1"
    mkdir -p "$work"
    echo "==> fuzzing $t for ${SECONDS_PER_TARGET}s"
    # shellcheck disable=SC2046
    if "$OUT/$t" $(dict_for "$t") -max_total_time="$SECONDS_PER_TARGET" \
            -max_len=4096 -timeout=10 -print_final_stats=1 \
            -artifact_prefix="$OUT/crash-$t-" \
            "$work" "$HERE/corpus/$t" >"$OUT/$t.fuzz.log" 2>&1; then
        grep -E '^(#[0-9]+ +DONE|Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)' \
            "$OUT/$t.fuzz.log" || true
        echo "$t: no failures in ${SECONDS_PER_TARGET}s ($(find "$work" -type f | wc -l) corpus entries)"
    else
        tail -n 60 "$OUT/$t.fuzz.log"
        echo "$t: FAILED (log: $OUT/$t.fuzz.log)"
        return 1
    fi
}

# ---- depth campaign ----

# The last "cov: N" libFuzzer printed in a log.
last_field() {
    grep -o " $2: [0-9]*" "$1" | tail -n 1 | sed 's/.*: //'
}
stat_of() {
    sed -n "s/^stat::$2: *\\([0-9]*\\).*/\\1/p" "$1" | tail -n 1
}

# Minimizes a failing input; prints where the smallest one is.
minimize() {
    local t=$1 crash=$2 min="$2.min"
    # shellcheck disable=SC2046
    "$OUT/$t" -minimize_crash=1 -runs=20000 -exact_artifact_path="$min" \
        "$crash" >"$OUT/$t.minimize.log" 2>&1
    if [ -s "$min" ]; then echo "$min"; else echo "$crash"; fi
}

# One target until --runs or --minutes; prints its report line and
# appends it to build/fuzz/depth-report.txt (one short write: atomic).
depth_target() {
    local t=$1 work="$OUT/corpus/$1" log="$OUT/$1.depth.log" rc start
    local runs secs cov corp crash report mark="$OUT/.$1.started"
    mkdir -p "$work"
    touch "$mark"
    start=$(date +%s)
    # shellcheck disable=SC2046
    "$OUT/$t" $(dict_for "$t") -runs="$RUNS" \
        -max_total_time=$((MINUTES * 60)) -max_len=4096 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$OUT/crash-$t-" \
        "$work" "$HERE/corpus/$t" >"$log" 2>&1
    rc=$?
    secs=$(($(date +%s) - start))
    runs=$(stat_of "$log" number_of_executed_units)
    [ -n "$runs" ] || runs=$(grep -o '^#[0-9]*' "$log" | tail -n 1 | tr -d '#')
    cov=$(last_field "$log" cov)
    corp=$(grep -o ' corp: [0-9]*' "$log" | tail -n 1 | sed 's/.*: //')
    report="$t: ${runs:-?} runs in ${secs} s, cov ${cov:-?} edges, corpus ${corp:-?}"
    crash=$(find "$OUT" -maxdepth 1 -name "crash-$t-*" ! -name '*.min' \
                 -newer "$mark" | head -n 1)
    if [ $rc -ne 0 ] || [ -n "$crash" ]; then
        if [ -n "$crash" ]; then
            report="$report, FAILED: minimized input $(minimize "$t" "$crash") (log: $log)"
        else
            report="$report, FAILED without an input (exit $rc, log: $log)"
        fi
    elif [ "$MERGE" = 1 ]; then
        local before after
        before=$(find "$HERE/corpus/$t" -type f | wc -l)
        # edges only (no hit counts): the inputs that reach code the seeds
        # do not, a few hundred at most, not every counter bucket
        "$OUT/$t" -merge=1 -use_counters=0 -max_len=4096 "$HERE/corpus/$t" "$work" \
            >"$OUT/$t.merge.log" 2>&1
        after=$(find "$HERE/corpus/$t" -type f | wc -l)
        report="$report, 0 failures, $((after - before)) seeds merged"
    else
        report="$report, 0 failures"
    fi
    echo "$report" | tee -a "$REPORT"
    case "$report" in *FAILED*) return 1 ;; esac
}

REPORT="$OUT/depth-report.txt"
depth_campaign() {
    local t running=0 failed=0
    echo "==> depth: ${#TARGETS[@]} target(s), each until $RUNS runs or" \
         "$MINUTES min, $JOBS at a time"
    : >"$REPORT"
    for t in "${TARGETS[@]}"; do
        if [ "$running" -ge "$JOBS" ]; then
            wait -n || failed=$((failed + 1))
            running=$((running - 1))
        fi
        depth_target "$t" &
        running=$((running + 1))
    done
    while [ "$running" -gt 0 ]; do
        wait -n || failed=$((failed + 1))
        running=$((running - 1))
    done
    echo "report: $REPORT"
    return "$failed"
}

mkdir -p "$OUT"
failed=0
# the targets are built side by side (JOBS at a time), their reports
# printed in order afterwards
for t in "${TARGETS[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
        wait -n
    done
    { build_target "$t"; echo $? > "$OUT/$t.built"; } >"$OUT/$t.build.out" 2>&1 &
done
wait
built=()
for t in "${TARGETS[@]}"; do
    cat "$OUT/$t.build.out"
    if [ "$(cat "$OUT/$t.built" 2>/dev/null)" = 0 ]; then
        built+=("$t")
    else
        failed=$((failed + 1))
    fi
    rm -f "$OUT/$t.built" "$OUT/$t.build.out"
done
TARGETS=("${built[@]}")

if [ -n "$MINUTES" ]; then
    depth_campaign
    failed=$((failed + $?))
else
    for t in "${TARGETS[@]}"; do
        if [ "$REPLAY" = 1 ]; then
            replay_target "$t" || failed=$((failed + 1))
        else
            fuzz_target "$t" || failed=$((failed + 1))
        fi
    done
fi

if [ "$failed" -ne 0 ]; then
    echo "fuzz: $failed target(s) failed"
    exit 1
fi
echo "fuzz: ${#TARGETS[@]} target(s) OK"
