# Throwaway test servers for scripts/test.sh and scripts/hardening.sh:
# each started in a dir under $work on a free loopback port, its test
# variables exported, and all stopped again on exit. Source it after
# `cd` to the repository root; it sets work and the exit trap.

export PATH="$PATH:/usr/local/go/bin"
work=$(mktemp -d "/tmp/orgsync-${1:-test}.XXXXXX")
chmod 755 "$work" # the PostgreSQL server runs as the postgres user
started=()

stop_servers() {
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
trap stop_servers EXIT INT TERM

step() { printf '\n==> %s\n' "$*"; }

# need_cc installs a C compiler when there is none: the SQLite driver is
# cgo, and so is go test -race.
need_cc() {
	if command -v "$(go env CC)" >/dev/null 2>&1; then
		echo "$(go env CC) found"
		return
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null
}

# free_port BASE: the first port from BASE on that nothing listens on.
free_port() {
	local p=$1
	while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
	echo "$p"
}

# start_postgres BASE_PORT: exports ORGSYNC_TEST_POSTGRES_DSN.
start_postgres() {
	local port
	port=$(free_port "$1")
	ORGSYNC_TEST_POSTGRES_DSN=$(scripts/postgres.sh start "$work/pg" "$port")
	started+=(postgres)
	export ORGSYNC_TEST_POSTGRES_DSN
	echo "PostgreSQL listening on 127.0.0.1:$port"
}

# start_slapd BASE_PORT: the fixture directory; exports ORGSYNC_TEST_LDAP_*.
start_slapd() {
	local port
	port=$(free_port "$1")
	# slapd also takes PORT+1 (LDAPS)
	while (exec 3<>"/dev/tcp/127.0.0.1/$((port + 1))") 2>/dev/null; do port=$(free_port $((port + 2))); done
	scripts/slapd.sh start "$work/ldap" "$port" sources/ldap/testdata/*.ldif
	started+=(slapd)
	set -a; . "$work/ldap/env"; set +a
}

# start_samba: the Samba AD DC (fixed ports 389/636); exports ORGSYNC_TEST_AD_*.
# When it cannot start, the flavor: ad tests report it (they fail under CI).
start_samba() {
	started+=(samba)
	if scripts/samba-ad.sh start "$work/ad"; then
		set -a; . "$work/ad/env"; set +a
	else
		echo "Samba AD could not start: the flavor: ad integration tests will report it" >&2
	fi
}
