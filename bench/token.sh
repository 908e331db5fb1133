#!/usr/bin/env bash
# Times "ms365auth token" with a valid token against the floor (a Go program
# that only reads the same keyring item with go-keyring and prints it) and
# against "secret-tool lookup" of that item, on a private gnome-keyring.
# Needs dbus, gnome-keyring and libsecret-tools. Usage: bench/token.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for b in cmd/ms365auth bench/floor bench/timeit; do
  go build -trimpath -o "$tmp/$(basename "$b")" "./$b"
done
mkdir -m 700 "$tmp/data" "$tmp/run" "$tmp/config" "$tmp/state"
export XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/run" XDG_CONFIG_HOME="$tmp/config" XDG_STATE_HOME="$tmp/state"
export PATH="$tmp:$PATH" RUNS="$runs"
dbus-run-session -- bash -c '
  set -euo pipefail
  source bench/keyring.sh
  echo | ms365auth link --sandbox --no-browser >/dev/null 2>&1
  ms365auth token --profile sandbox >/dev/null
  echo "item size: $(secret-tool lookup service ms365auth username sandbox | wc -c) bytes; $RUNS runs each"
  timeit -n "$RUNS" -floor "floor sandbox" \
    "ms365auth token --profile sandbox" \
    "secret-tool lookup service ms365auth username sandbox"
' 2>&1 | grep -v "fd limit"
