#!/bin/sh
# run-fuzzers.sh BUILD_DIR SECONDS: fuzzes each libFuzzer target built in
# BUILD_DIR (configured with CC=clang -Dfuzzing=true) for SECONDS on a copy of
# its seed corpus, and prints TAP: one ok / not ok per target. Crash inputs
# are kept in BUILD_DIR/tests/fuzz/artifacts/; logs in BUILD_DIR/tests/fuzz/logs/.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
fi
build=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
targets="fuzz-validate fuzz-mounttable"
out="$build/tests/fuzz"
mkdir -p "$out/artifacts" "$out/logs"

n=0
failed=0
for t in $targets; do
    n=$((n + 1))
    exe="$out/$t"
    if [ ! -x "$exe" ]; then
        echo "not ok $n - $t # not built: configure with CC=clang -Dfuzzing=true"
        failed=$((failed + 1))
        continue
    fi
    work=$(mktemp -d)
    cp "$here/corpus/$t"/* "$work"/ 2>/dev/null
    log="$out/logs/$t.log"
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" "$work" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rm -rf "$work"
    if [ $rc -eq 0 ]; then
        echo "ok $n - $t (${runs:-?} runs in ${seconds} s)"
    else
        echo "not ok $n - $t (exit $rc; log $log)"
        tail -n 40 "$log" | sed 's/^/# /'
        failed=$((failed + 1))
    fi
done
echo "1..$n"
[ $failed -eq 0 ]
