#!/usr/bin/env bash
# Times "ms365auth api" against "ms365auth token" (same binary, same run,
# a valid token, a private gnome-keyring), and "token" of the same tree
# built without the api command (what linking gojq and pkg/graph costs
# every command). api talks to bench/graphstub on loopback. Also prints the
# two binaries' sizes. Needs dbus, gnome-keyring and libsecret-tools.
# Usage: bench/api.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}
tmp=$(mktemp -d)
trap 'kill "${stub:-}" 2>/dev/null || true; rm -rf "$tmp"' EXIT
for b in cmd/ms365auth bench/timeit bench/graphstub; do
  go build -trimpath -o "$tmp/$(basename "$b")" "./$b"
done
# The same tree without api: its file gone and its registration dropped.
mkdir "$tmp/base"
git ls-files -z | xargs -0 cp --parents -t "$tmp/base"
rm "$tmp/base/pkg/cli/api.go"
sed -i '/newAPICmd(env),/d' "$tmp/base/pkg/cli/root.go"
(cd "$tmp/base" && go build -trimpath -o "$tmp/ms365auth-noapi" ./cmd/ms365auth)
echo "binary size: without api $(stat -c %s "$tmp/ms365auth-noapi") bytes, with api $(stat -c %s "$tmp/ms365auth") bytes"
"$tmp/graphstub" >"$tmp/stub.url" &
stub=$!
until [ -s "$tmp/stub.url" ]; do sleep 0.05; done
mkdir -m 700 "$tmp/data" "$tmp/run" "$tmp/config" "$tmp/state"
export XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/run" XDG_CONFIG_HOME="$tmp/config" XDG_STATE_HOME="$tmp/state"
export PATH="$tmp:$PATH" RUNS="$runs" MS365AUTH_GRAPH_URL="$(cat "$tmp/stub.url")"
dbus-run-session -- bash -c '
  set -euo pipefail
  source bench/keyring.sh
  echo | ms365auth link --sandbox --no-browser >/dev/null 2>&1
  ms365auth api --profile sandbox --silent /me
  echo "$RUNS runs each, alternating"
  timeit -n "$RUNS" -floor "ms365auth token --profile sandbox" \
    "ms365auth api --profile sandbox --silent /me" \
    "ms365auth api --profile sandbox /me --jq .value" \
    "ms365auth-noapi token --profile sandbox"
' 2>&1 | grep -v "fd limit"
