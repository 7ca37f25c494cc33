#!/bin/sh
# `make fuzz`: runs each libFuzzer target of BUILD for SECONDS, starting from its seed corpus
# (tests/fuzz/corpus/NAME, read only) and a working corpus in BUILD that grows between runs. An
# input that crashes, leaks or hangs is written to tests/fuzz/crashes/NAME/, which `make test`
# replays from then on: commit it with the fix. Prints a line per target and exits 1 if any found one.
set -u
build=${1:-build-fuzz}
seconds=${2:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:fast_unwind_on_malloc=0"
export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export G_DEBUG=fatal-criticals G_SLICE=always-malloc
status=0
for target in recipients mustache settings ews oauth smtp autoconfig html spf dns; do
  program="$build/tests/fuzz/fuzz-$target"
  work="$build/fuzz-corpus/$target"
  crashes="$top/tests/fuzz/crashes/$target"
  mkdir -p "$work" "$crashes"
  log="$build/fuzz-$target.log"
  "$program" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$crashes/" -print_final_stats=1 "$work" "$top/tests/fuzz/corpus/$target" >"$log" 2>&1
  result=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
  if [ "$result" -eq 0 ]; then
    echo "fuzz-$target: ${runs:-?} runs in ${seconds} s, $cov, nothing found"
  else
    echo "fuzz-$target: FOUND a problem after ${runs:-?} runs (see $log; the input is in $crashes)"
    status=1
  fi
done
exit $status
