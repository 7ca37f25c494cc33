#!/bin/sh
# `make test`: runs the suite as an unprivileged user, because root ignores file modes and the
# permission tests could not fail. As root it uses (and creates once) the user mailroom-test.
set -eu
# A second argument "sanitize" runs the sanitizer suites (build-aux/meson-test-summary.sh).
build=${1:-build}
mode=${2:-}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
suite="build-aux/meson-test-summary.sh $build $mode"

if [ "$(id -u)" -ne 0 ]; then
  exec $suite
fi

user=mailroom-test
id -u "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$user"

if runuser -u "$user" -- test -r "$top/meson.build" -a -x "$top"; then
  chown -R "$user" "$build"
  exec runuser -u "$user" -- $suite
fi

# The checkout is not readable by the test user (a private home, say): test a copy.
copy=$(mktemp -d /tmp/mailroom-suite.XXXXXX)
trap 'rm -rf "$copy"' EXIT
tar -C "$top" --exclude="./$build" -cf - . | tar -C "$copy" -xf -
if [ -d "$top/../shared" ]; then
  cp -a "$top/../shared" "$copy/.shared"
  export MAILROOM_SHARED_DIR="$copy/.shared"
fi
chown -R "$user" "$copy"
chmod 755 "$copy"
cd "$copy"
# shellcheck disable=SC2086
runuser -u "$user" -- meson setup "$build" ${MAILROOM_SETUP_OPTIONS:-} >/dev/null
runuser -u "$user" -- meson compile -C "$build"
runuser -u "$user" -- $suite
