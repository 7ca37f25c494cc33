#!/bin/sh
# Runs the whole suite in an isolated session and ends with one plain line: "N passed, N failed".
# With "sanitize" as the second argument: the engine suites (the CLI's among them) and the fuzz
# replay in a build made with -Db_sanitize=address,undefined; any report stops the test that made it.
set -u
build=$1
mode=${2:-}
log=$(mktemp)
status_file=$(mktemp)
set --
if [ "$mode" = sanitize ]; then
  top=$(pwd)
  # Leaks are checked at each test program's exit; full stacks, so that suppressions can name
  # the library function that leaked. G_SLICE makes GLib's allocations visible to LSan.
  export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1:fast_unwind_on_malloc=0:detect_stack_use_after_return=0"
  export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
  export G_SLICE=always-malloc
  set -- --suite engine --suite fuzz --timeout-multiplier 6
fi
{ tests/isolated.sh meson test -C "$build" --print-errorlogs --num-processes 2 "$@" 2>&1; echo $? > "$status_file"; } | tee "$log"
meson_status=$(cat "$status_file")
count() { sed -n "s/^$1:[[:space:]]*\([0-9]*\)[[:space:]]*$/\1/p" "$log" | tail -n 1; }
ok=$(count "Ok"); fail=$(count "Fail"); skipped=$(count "Skipped")
timeout=$(count "Timeout"); unexpected=$(count "Unexpected Pass")
rm -f "$log" "$status_file"
ok=${ok:-0}; skipped=${skipped:-0}
fail=$(( ${fail:-0} + ${timeout:-0} + ${unexpected:-0} ))
# A run that stopped early (meson itself failed) counts as one more failure.
[ "$meson_status" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
[ "$mode" = sanitize ] && printf 'Sanitizers: '
echo "$ok passed, $fail failed, $skipped skipped"
[ "$ok" -gt 0 ] && [ "$fail" -eq 0 ] && [ "$meson_status" -eq 0 ]
