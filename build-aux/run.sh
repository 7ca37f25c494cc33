#!/bin/sh
# `make run`: starts Mailroom from the build tree, with its schema and translations.
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
export GSETTINGS_SCHEMA_DIR="$top/$build/data"
export MAILROOM_LOCALEDIR="$top/$build/po"

# Without an admin who set up /etc/xdg/mailroom, a developer's run keeps its company file in the
# build tree, so that the Company page can be tried; the installed program never does this.
if [ -z "${MAILROOM_COMPANY_CONFIG:-}" ]; then
  system=/etc/xdg/mailroom/company.json
  if [ ! -e "$system" ] && ! { [ -d /etc/xdg/mailroom ] && [ -w /etc/xdg/mailroom ]; } && ! [ -w /etc/xdg ]; then
    export MAILROOM_COMPANY_CONFIG="$top/$build/dev-etc/mailroom/company.json"
    echo "make run: $system does not exist and you may not create it;"
    echo "          the company file for this run is $MAILROOM_COMPANY_CONFIG"
  fi
fi
exec "$top/$build/src/app/mailroom" "$@"
