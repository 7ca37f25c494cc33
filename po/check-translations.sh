#!/bin/sh
# Fails when a translatable string has no German translation, a translation is fuzzy or breaks its
# format string, or the translations do not reach the program.
set -eu
top=$1
build=$2
cli=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$top"

# The same extraction as `meson compile mailroom-pot` (meson's glib preset).
xgettext --package-name=mailroom -f po/POTFILES.in -D "$top" -o "$tmp/mailroom.pot" --from-code=UTF-8 \
  --add-comments --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
  --keyword=g_dcgettext:2 --keyword=g_dngettext:2,3 --keyword=g_dpgettext2:2c,3 \
  --flag=N_:1:pass-c-format --flag=C_:2:pass-c-format --flag=NC_:2:pass-c-format \
  --flag=g_dngettext:2:pass-c-format --flag=g_strdup_printf:1:c-format \
  --flag=g_string_printf:2:c-format --flag=g_string_append_printf:2:c-format \
  --flag=g_error_new:3:c-format --flag=g_set_error:4:c-format --flag=g_markup_printf_escaped:1:c-format \
  --flag=g_log:3:c-format --flag=g_print:1:c-format --flag=g_printerr:1:c-format --flag=g_printf:1:c-format \
  --flag=g_fprintf:2:c-format --flag=g_sprintf:2:c-format --flag=g_snprintf:3:c-format
n=$(grep -c '^msgid ' "$tmp/mailroom.pot")
echo "$n strings to translate"

status=0
for lang in $(grep -v '^#' po/LINGUAS); do
  msgmerge --quiet --no-fuzzy-matching "po/$lang.po" "$tmp/mailroom.pot" -o "$tmp/$lang.po"
  stats=$(msgfmt --check --statistics -o "$tmp/$lang.mo" "$tmp/$lang.po" 2>&1)
  echo "$lang: $stats"
  case "$stats" in
    *untranslated*|*fuzzy*) echo "$lang: translate the new strings in po/$lang.po"; status=1 ;;
  esac
  msgcmp "po/$lang.po" "$tmp/mailroom.pot" || status=1
done

# End to end: a German user sees German.
if localedef -i de_DE -f UTF-8 "$tmp/de_DE.UTF-8" 2>/dev/null; then
  out=$(LOCPATH="$tmp" LC_ALL=de_DE.UTF-8 LANGUAGE=de MAILROOM_LOCALEDIR="$build/po" \
        MAILROOM_COMPANY_CONFIG="$tmp/company.json" "$cli" company set smtp.port 70000 2>&1 || true)
  echo "German: $out"
  case "$out" in
    *"außerhalb des Bereichs"*) ;;
    *) echo "mailroom-cli did not speak German"; status=1 ;;
  esac
else
  echo "localedef is missing: the end-to-end check needs the locales package"; status=1
fi
exit $status
