#!/usr/bin/env bash
# The whole test suite, on a fresh machine as on a developer's:
#   - installs what the integration tests need when it is missing
#     (OpenLDAP slapd + ldap-utils, Samba AD DC, PostgreSQL server binaries),
#   - starts a throwaway PostgreSQL, slapd and Samba AD on loopback, in a
#     temp dir, never touching system services,
#   - runs go vet and go test -race over every package (under CI=true a
#     test whose server is missing fails instead of skipping),
#   - stops everything again, whatever happened.
# Usage: scripts/test.sh [go test flags...]   e.g. scripts/test.sh -run TestConformance
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$PATH:/usr/local/go/bin"
work=$(mktemp -d /tmp/orgsync-test.XXXXXX)
chmod 755 "$work" # the PostgreSQL server runs as the postgres user
started=()

cleanup() {
	local rc=$?
	for s in "${started[@]}"; do
		case $s in
		postgres) scripts/postgres.sh stop "$work/pg" || true ;;
		slapd) scripts/slapd.sh stop "$work/ldap" || true ;;
		samba) scripts/samba-ad.sh stop "$work/ad" || true ;;
		esac
	done
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT INT TERM

# free_port BASE: the first port from BASE on that nothing listens on.
free_port() {
	local p=$1
	while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
	echo "$p"
}

step() { printf '\n==> %s\n' "$*"; }

step "PostgreSQL (throwaway cluster)"
pg_port=$(free_port 25432)
ORGSYNC_TEST_POSTGRES_DSN=$(scripts/postgres.sh start "$work/pg" "$pg_port")
started+=(postgres)
export ORGSYNC_TEST_POSTGRES_DSN
echo "listening on 127.0.0.1:$pg_port"

step "OpenLDAP slapd (throwaway directory)"
ldap_port=$(free_port 23389)
while (exec 3<>"/dev/tcp/127.0.0.1/$((ldap_port + 1))") 2>/dev/null; do ldap_port=$(free_port $((ldap_port + 2))); done # slapd also takes PORT+1 (LDAPS)
scripts/slapd.sh start "$work/ldap" "$ldap_port" sources/ldap/testdata/*.ldif
started+=(slapd)
set -a; . "$work/ldap/env"; set +a

step "Samba AD DC (throwaway domain)"
if scripts/samba-ad.sh start "$work/ad"; then
	started+=(samba)
	set -a; . "$work/ad/env"; set +a
else
	echo "Samba AD could not start: the flavor: ad integration tests will report it" >&2
	started+=(samba)
fi

step "go vet"
go vet ./...

step "go test -race"
go test -race -count=1 -timeout 15m "$@" ./...

step "fuzz (5 s per target; scripts/fuzz.sh SECONDS for longer runs)"
ORGSYNC_FUZZ_SECONDS=5 scripts/fuzz.sh
