#!/usr/bin/env bash
# Benchmark of the SCIM receiver (issue 3 targets) on loopback.
#
#   scripts/bench-scim.sh [scimload flags]
#     e.g. scripts/bench-scim.sh -members 100000 -workers 8 -duration 10s
#
# Builds tools/scimload, which seeds an SQLite store in a temp dir with
# 100k SCIM members (one group of 10k) through store.Apply, serves the real
# receiver on 127.0.0.1, and measures with a bounded number of workers for a
# bounded time:
#   GET /Users?filter=userName eq "…"   target >= 5000 req/s, p99 <= 10 ms
#   POST /Users                          target >= 1000 req/s
#   PATCH /Groups add-member (10k group) target median <= 5 ms
# Prints throughput and latency percentiles; exits 1 when a target is
# missed (pass -check=false to only report). The load generator shares the
# machine's CPUs with the server: run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."

WORK=$(mktemp -d /tmp/orgsync-bench-scim.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
go build -o "$WORK/scimload" ./tools/scimload
echo "cpus: $(nproc)  go: $(go env GOVERSION)  load average before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"
rc=0
"$WORK/scimload" -dir "$WORK" "$@" || rc=$?
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a) (other processes on the CPUs skew every figure)"
exit $rc
