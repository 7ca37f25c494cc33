#!/bin/sh
# `make screenshots`: drives the real window under Xvfb (the GUI test) and keeps a PNG of each page
# in screenshots/.
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/screenshots"
mkdir -p "$out"
chmod 777 "$out" 2>/dev/null || true
run="tests/isolated.sh env GSETTINGS_SCHEMA_DIR=$top/$build/data MAILROOM_SCREENSHOT_DIR=$out MAILROOM_TOP_SRCDIR=$top MAILROOM_CLI=$top/$build/src/cli/mailroom-cli \
  xvfb-run -a -s '-screen 0 1440x2400x24 -nolisten tcp' $top/$build/tests/test-gui"
cd "$top"
if [ "$(id -u)" -eq 0 ] && id -u mailroom-test >/dev/null 2>&1; then
  chown -R mailroom-test "$build" "$out"
  runuser -u mailroom-test -- sh -c "$run"
else
  sh -c "$run"
fi
ls -1 "$out"/*.png
