#!/bin/sh
# Installs the Debian packages in build-aux/packages.txt (or the list given) that are missing; does
# nothing when all are there.
set -eu
here=$(dirname "$0")
list=${1:-$here/packages.txt}
missing=""
for package in $(grep -v '^#' "$list"); do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing="$missing $package"
done
[ -z "$missing" ] && exit 0

echo "Installing missing packages:$missing"
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# postfix asks questions on install unless told there is nothing to configure.
echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections 2>/dev/null || true
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
