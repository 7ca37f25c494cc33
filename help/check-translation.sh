#!/bin/sh
# help-de: builds the translated guide as installing does (itstool with the language's .po), checks
# that every segment of help/C has a translation, and validates the pages with yelp-check.
set -eu
help=$1
lang=$2
shift 2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
msgfmt -o "$out/$lang.mo" "$help/$lang/$lang.po"
untranslated=$(msgattrib --untranslated --no-obsolete "$help/$lang/$lang.po" | grep -c '^msgid ' || true)
# The header is the one untranslated entry allowed.
if [ "$untranslated" -gt 1 ]; then
  echo "help/$lang/$lang.po: $((untranslated - 1)) segments are not translated" >&2
  msgattrib --untranslated --no-obsolete "$help/$lang/$lang.po" >&2
  exit 1
fi
# Segments of the English pages that the .po does not know (the guide changed since it was made).
itstool -o "$out/help.pot" $(for page in "$@"; do printf '%s/C/%s ' "$help" "$page"; done)
stale=$(msgcmp --use-untranslated "$help/$lang/$lang.po" "$out/help.pot" 2>&1 || true)
if [ -n "$stale" ]; then
  echo "help/$lang/$lang.po is behind help/C: $stale" >&2
  exit 1
fi
for page in "$@"; do
  itstool -m "$out/$lang.mo" -o "$out/" "$help/C/$page"
done
cd "$out"
yelp-check validate "$@"
