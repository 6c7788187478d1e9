#!/usr/bin/env bash
# Benchmark of a KMS target (issue 12) on loopback.
#
#   scripts/bench-target.sh [benchtarget flags]
#     e.g. scripts/bench-target.sh -members 10000 -groups 100 -concurrency 8
#
# Builds tools/benchtarget, which seeds an SQLite store in a temp dir with
# 10k members in 100 groups, starts the KMS emulator (internal/kmsfake) and
# times three target runs, with the requests each made:
#   first push   every member and group created
#   no-op        only the paged reads (a write fails the check)
#   1% drift     one write per changed member (more fails the check)
# Wall times are also given as ratios to a floor measured in the same run
# (the bare SCIM client sending the same creates; one bare paged read).
# Exits 1 when a request rule is broken (-check=false only reports). The
# emulator shares the machine's CPUs with orgsync.
set -euo pipefail
cd "$(dirname "$0")/.."

WORK=$(mktemp -d /tmp/orgsync-bench-target.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
go build -o "$WORK/benchtarget" ./tools/benchtarget
echo "cpus: $(nproc)  go: $(go env GOVERSION)  load average before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"
rc=0
"$WORK/benchtarget" -dir "$WORK" "$@" || rc=$?
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a) (other processes on the CPUs skew every figure)"
exit $rc
