#!/bin/sh
# The SMTP fault test: writes the adversarial server scripts (make-smtp-faults.py) into a folder of
# its own and has fuzz-smtp's replay run the client against each. Prints the replay's TAP.
set -eu
replay=$1
maker=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/mailroom-smtp-faults.XXXXXX")
trap 'rm -rf "$dir"' EXIT
/usr/bin/python3 "$maker" "$dir" 300 >&2
"$replay" "$dir"
