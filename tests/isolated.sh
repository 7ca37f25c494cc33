#!/bin/sh
# Runs a command in a throwaway environment: its own HOME and XDG folders, a private D-Bus session
# and a gnome-keyring-daemon unlocked with a throwaway password. Never the real user's keyring,
# config or display. See ../shared/notes/debian12-recipes.md.
set -eu
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mailroom-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
export HOME="$tmp/home"
export XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" XDG_CACHE_HOME="$tmp/cache"
export XDG_STATE_HOME="$tmp/state" XDG_RUNTIME_DIR="$tmp/runtime"
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_STATE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
unset DISPLAY WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS MAILROOM_COMPANY_CONFIG SESSION_MANAGER
export GSETTINGS_BACKEND=memory NO_AT_BRIDGE=1 GTK_A11Y=none GSK_RENDERER=cairo
export MAILROOM_TEST_KEYRING=1 LANGUAGE=en LC_ALL=C.UTF-8

exec dbus-run-session -- sh -c '
  echo -n throwaway | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  gdbus wait --session --timeout 10 org.freedesktop.secrets
  exec "$@"' sh "$@"
