#!/usr/bin/env bash
# Checks the packaging with the tools that understand it:
#   - the binary built by scripts/build.sh reports the version stamped into it;
#   - the systemd unit passes `systemd-analyze verify` without a single
#     complaint and `systemd-analyze security` rates it below exposure 2.0.
# (The Dockerfile needs a Docker engine to build, which CI machines lack.)
# Usage: scripts/packaging-check.sh     (scripts/test.sh runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "packaging-check: $*" >&2; exit 1; }

VERSION=v0.0.0-check COMMIT=0123456789abcdef BUILD_DATE=2026-01-02T03:04:05Z \
	scripts/build.sh "$tmp/orgsync" 2>/dev/null
want="orgsync v0.0.0-check (commit 0123456789abcdef, built 2026-01-02T03:04:05Z)"
for args in version --version; do
	got=$("$tmp/orgsync" $args)
	[ "$got" = "$want" ] || fail "orgsync $args printed '$got', want '$want'"
done
echo "stamped version: ok"

if ! command -v systemd-analyze >/dev/null 2>&1; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends systemd >/dev/null
fi
unit="$tmp/orgsync.service"
sed "s#/usr/local/bin/orgsync#$tmp/orgsync#g" packaging/systemd/orgsync.service >"$unit"
out=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify complains: $out"
echo "systemd unit verify: ok"
sec=$(systemd-analyze security --offline=true --threshold=20 "$unit" 2>&1) ||
	fail "systemd-analyze security: exposure above 2.0: $(echo "$sec" | tail -n 1)"
echo "systemd unit security: $(echo "$sec" | tail -n 1 | sed 's/^→ //')"
