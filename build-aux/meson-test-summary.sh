#!/bin/sh
# Runs the whole suite in an isolated session and ends with one plain line: "N passed, N failed".
set -u
build=$1
log=$(mktemp)
status_file=$(mktemp)
{ tests/isolated.sh meson test -C "$build" --print-errorlogs --num-processes 2 2>&1; echo $? > "$status_file"; } | tee "$log"
meson_status=$(cat "$status_file")
count() { sed -n "s/^$1:[[:space:]]*\([0-9]*\)[[:space:]]*$/\1/p" "$log" | tail -n 1; }
ok=$(count "Ok"); fail=$(count "Fail"); skipped=$(count "Skipped")
timeout=$(count "Timeout"); unexpected=$(count "Unexpected Pass")
rm -f "$log" "$status_file"
ok=${ok:-0}; skipped=${skipped:-0}
fail=$(( ${fail:-0} + ${timeout:-0} + ${unexpected:-0} ))
# A run that stopped early (meson itself failed) counts as one more failure.
[ "$meson_status" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
echo "$ok passed, $fail failed, $skipped skipped"
[ "$ok" -gt 0 ] && [ "$fail" -eq 0 ] && [ "$meson_status" -eq 0 ]
