#!/usr/bin/env bash
# The long variants of the hardening tests (SECURITY.md): what CI runs in
# seconds, run for as long as you can give it. Starts its own throwaway
# PostgreSQL and slapd (like scripts/test.sh), runs under CI=true so that no
# test skips, and stops everything at the end.
#
#   scripts/hardening.sh                   defaults below (about an hour)
#   FUZZ_SECONDS=30 HOSTILE_REQUESTS=20000 CRASH_USERS=20000 CRASH_ROUNDS=5 \
#     CONCURRENCY_COUNT=2 scripts/hardening.sh        a quick pass
#
# Steps (each prints its figures with go test -v):
#   1. every fuzz target for FUZZ_SECONDS (default 300) — scripts/fuzz.sh
#   2. hostile SCIM traffic: HOSTILE_REQUESTS (default 100000) requests
#      against a real serve, rows compared before/after; slowloris clients
#   3. auth, org isolation and secrets tests
#   4. 50 concurrent writers + reconcile, CONCURRENCY_COUNT times (default 10)
#      on SQLite and PostgreSQL, with -race
#   5. source faults (LDAP TLS/silent/cut/killed, SCIM 500/truncated/slow)
#   6. SIGKILL of serve during SCIM writes and a CRASH_USERS-user reconcile
#      (default 100000), CRASH_ROUNDS kills (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
export CI=true

FUZZ_SECONDS=${FUZZ_SECONDS:-300}
HOSTILE_REQUESTS=${HOSTILE_REQUESTS:-100000}
CONCURRENCY_COUNT=${CONCURRENCY_COUNT:-10}
CRASH_USERS=${CRASH_USERS:-100000}
CRASH_ROUNDS=${CRASH_ROUNDS:-20}

. scripts/lib/servers.sh hardening

step "C toolchain (cgo: the SQLite driver and the race detector need it)"
need_cc

step "PostgreSQL and slapd (throwaway)"
start_postgres 35432
start_slapd 33389

step "1. fuzz: ${FUZZ_SECONDS}s per target"
scripts/fuzz.sh "$FUZZ_SECONDS"

step "2. hostile SCIM traffic: $HOSTILE_REQUESTS requests; slow clients"
ORGSYNC_HOSTILE_REQUESTS=$HOSTILE_REQUESTS go test -count=1 -v -timeout 120m \
	-run 'TestHostileSCIMTraffic|TestServeCutsOffSlowClients' ./cmd/orgsync | grep -E '^(---|ok|FAIL|PASS)|_test.go'

step "3. auth, org isolation, secrets"
go test -count=1 -v -run 'TestTokens|TestTokenComparisons|TestFailedAuth|TestExpiredAndRevoked|TestAdminAndSCIM|TestOrgIsolation|TestSecretsNeverLeak' \
	./cmd/orgsync | grep -E '^(---|ok|FAIL|PASS)|_test.go'

step "4. concurrency, $CONCURRENCY_COUNT rounds per backend (-race)"
go test -race -count="$CONCURRENCY_COUNT" -v -timeout 120m -run TestConcurrentWritersAndReconcile ./internal/hardening | grep -E '^(---|ok|FAIL|PASS)|_test.go'

step "5. source faults"
go test -count=1 -v -run 'SourceFaultsDeprovisionNothing' ./cmd/orgsync | grep -E '^(---|ok|FAIL|PASS)|_test.go'

step "6. SIGKILL serve: $CRASH_USERS users, $CRASH_ROUNDS kills"
ORGSYNC_CRASH_USERS=$CRASH_USERS ORGSYNC_CRASH_ROUNDS=$CRASH_ROUNDS go test -count=1 -v -timeout 180m \
	-run TestServeKilledDuringWritesAndReconcile ./cmd/orgsync | grep -E '^(---|ok|FAIL|PASS)|_test.go'

step "hardening: all long variants passed"
