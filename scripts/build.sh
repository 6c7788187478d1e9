#!/usr/bin/env bash
# Builds the orgsync binary with its version, commit and build date stamped
# at link time (orgsync version / --version print them).
#   scripts/build.sh [OUTPUT]            default ./orgsync
# VERSION, COMMIT and BUILD_DATE override what git and the clock say (the
# Dockerfile passes them in, as a build context has no .git).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-orgsync}
if [ -z "${VERSION:-}" ]; then
	VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
fi
if [ -z "${COMMIT:-}" ]; then
	COMMIT=$(git rev-parse HEAD 2>/dev/null || echo unknown)
fi
BUILD_DATE=${BUILD_DATE:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
pkg=github.com/orgsync/orgsync/internal/buildinfo
go build -trimpath \
	-ldflags "-s -w -X $pkg.version=$VERSION -X $pkg.commit=$COMMIT -X $pkg.date=$BUILD_DATE" \
	-o "$out" ./cmd/orgsync
echo "built $out: $("./$out" version 2>/dev/null || "$out" version)" >&2
