#!/usr/bin/env bash
# The whole test suite, on a fresh machine as on a developer's:
#   - installs what the build and the integration tests need when it is
#     missing (a C compiler for cgo, OpenLDAP slapd + ldap-utils, Samba AD
#     DC, PostgreSQL server binaries),
#   - starts a throwaway PostgreSQL, slapd and Samba AD on loopback, in a
#     temp dir, never touching system services,
#   - runs go vet and go test -race over every package (under CI=true a
#     test whose server is missing fails instead of skipping),
#   - checks the packaging (scripts/packaging-check.sh, scripts/helm-check.sh;
#     helm is built from the Go module proxy when missing),
#   - stops everything again, whatever happened.
# Usage: scripts/test.sh [go test flags...]   e.g. scripts/test.sh -run TestConformance
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/lib/servers.sh test

step "C toolchain (cgo: the SQLite driver and the race detector need it)"
need_cc

step "PostgreSQL (throwaway cluster)"
start_postgres 25432

step "OpenLDAP slapd (throwaway directory)"
start_slapd 23389

step "Samba AD DC (throwaway domain)"
start_samba

step "packaging (stamped version, systemd unit)"
scripts/packaging-check.sh

step "Helm chart (helm lint, manifests strictly typed, rendered config validated)"
scripts/helm-check.sh

step "go vet"
go vet ./...

step "go test -race"
go test -race -count=1 -timeout 15m "$@" ./...

step "incremental-read benchmarks, CI-sized (scripts/bench-incremental.sh runs the full scale)"
go test -run XXX -bench 'Incremental|BenchmarkState|MergeSynced/users=10000$' -benchtime 3x ./sources/ldap/

step "AD incremental benchmark, CI-sized: 300 users, correctness only (scripts/bench-incremental-ad.sh runs 10k users)"
if [ -n "${ORGSYNC_TEST_AD_URL:-}" ]; then
	scripts/bench-incremental-ad.sh --ci
else
	echo "no Samba AD DC: skipped (the flavor: ad tests above report it)"
fi

step "fuzz (5 s per target; scripts/fuzz.sh SECONDS for longer runs)"
ORGSYNC_FUZZ_SECONDS=5 scripts/fuzz.sh
