#!/bin/sh
# Fails when docs/settings.md misses a key the engine knows, or docs/cli.md a command of --help.
set -eu
top=$1
cli=$2
status=0
keys=$(sed -n 's/^  { "\([a-z_.]*\)",.*/\1/p' "$top/src/engine/settings/mr-keys.c")
[ -n "$keys" ] || { echo "No keys found in src/engine/settings/mr-keys.c"; exit 1; }
for key in $keys; do
  grep -q "| \`$key\` |" "$top/docs/settings.md" || { echo "docs/settings.md does not list $key"; status=1; }
done
"$cli" --help | sed -n 's/^  mailroom-cli \(.*\)$/\1/p' | while read -r usage; do
  grep -qF "mailroom-cli $usage" "$top/docs/cli.md" || { echo "docs/cli.md does not list: mailroom-cli $usage"; exit 1; }
done || status=1
man_check=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$top/docs/mailroom-cli.1" 2>&1 >/dev/null || true)
if [ -n "$man_check" ] && command -v man >/dev/null; then echo "man page warnings: $man_check"; status=1; fi
[ $status -eq 0 ] && echo "docs list every key and command"
exit $status
