#!/usr/bin/env bash
# Store write cost of a first full apply (issue 13, item 5), each against a
# floor measured in the same run:
#   - SQLite: orgsync's apply of USERS members, GROUPS groups and
#     USERS memberships (and the events it writes) against the sqlite3 CLI
#     inserting the very same rows into the same schema in one transaction
#     (printed with and without the events);
#   - PostgreSQL: the same apply against psql COPY of the same rows.
# The apply's time is the run's duration less the source read (both from
# orgsync's log). Measures only: it sets no target and exits 0.
#
#   scripts/bench-store.sh [USERS] [GROUPS]     (default 100000 1000)
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${1:-100000}
GROUPS_N=${2:-1000}
MEMBERS=$((USERS / GROUPS_N))
PORT=${BENCH_STORE_PORT:-20789}
PGPORT=${BENCH_STORE_PGPORT:-20799}
SUFFIX="dc=example,dc=org"
WORK=$(mktemp -d /tmp/orgsync-bench-store.XXXXXX)
chmod 755 "$WORK"
trap 'scripts/slapd.sh stop "$WORK/slapd" || true; scripts/postgres.sh stop "$WORK/pg" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
. scripts/lib/bench.sh
command -v sqlite3 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends sqlite3 >/dev/null; }

go build -o "$WORK/ldifgen" ./tools/ldifgen
go build -o "$WORK/orgsync" ./cmd/orgsync
"$WORK/ldifgen" -mode bench -users "$USERS" -groups "$GROUPS_N" -members "$MEMBERS" >"$WORK/bench.ldif"
scripts/slapd.sh start "$WORK/slapd" "$PORT" "$WORK/bench.ldif" >/dev/null
DSN=$(scripts/postgres.sh start "$WORK/pg" "$PGPORT")

config() { # config FILE DRIVER DSN
	cat >"$1" <<YAML
database: {driver: $2, dsn: "$3"}
log: {level: info, format: json}
orgs: [{id: acme, name: Acme}]
sources:
  - name: bench-ldap
    org: acme
    type: ldap
    guard: {max_deprovision: 0, max_deprovision_percent: 0}
    ldap:
      url: ldap://127.0.0.1:$PORT
      bind_dn: cn=sync,$SUFFIX
      bind_password: sync
      page_size: 1000
      user: {base_dn: "ou=people,$SUFFIX"}
      group: {base_dn: "ou=groups,$SUFFIX"}
YAML
	chmod 600 "$1"
}

# apply_secs LOG: the run's duration less the source read, in seconds.
apply_secs() {
	local took run
	took=$(grep -o '"took":"[^"]*"' "$1" | head -1 | cut -d'"' -f4)
	run=$(grep -o '"duration":"[^"]*"' "$1" | tail -1 | cut -d'"' -f4)
	awk -v r="$run" -v t="$took" '
		# a Go duration (1h2m3.5s, 3m46.2s, 850ms, 12µs) in seconds
		function s(d,   x) {
			if (d ~ /ns$/) return d / 1e9
			if (d ~ /µs$/) return d / 1e6
			if (d ~ /ms$/) return d / 1000
			x = 0
			if (match(d, /^[0-9.]+h/)) { x += substr(d, 1, RLENGTH - 1) * 3600; d = substr(d, RLENGTH + 1) }
			if (match(d, /^[0-9.]+m/)) { x += substr(d, 1, RLENGTH - 1) * 60; d = substr(d, RLENGTH + 1) }
			return x + d
		}
		BEGIN { printf "%.3f", s(r) - s(t) }'
}

TABLES="members member_emails org_groups group_members events"

config "$WORK/sqlite.yaml" sqlite "$WORK/orgsync.db"
"$WORK/orgsync" --config "$WORK/sqlite.yaml" reconcile --format json >/dev/null 2>"$WORK/sqlite.log"
sq_apply=$(apply_secs "$WORK/sqlite.log")
rows=$(for t in $TABLES; do printf '%s=%s ' "$t" "$(sqlite3 "$WORK/orgsync.db" "SELECT COUNT(*) FROM $t")"; done)

# The floor: the same rows, the same schema, one transaction, sqlite3 CLI.
sqlite3 "$WORK/orgsync.db" .schema | grep -v sqlite_stat >"$WORK/schema.sql"
floor() { # floor TABLES...
	rm -f "$WORK/floor.db"
	sqlite3 "$WORK/floor.db" <"$WORK/schema.sql"
	{
		echo "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; BEGIN;"
		for t in "$@"; do sqlite3 "$WORK/orgsync.db" ".mode insert $t" "SELECT * FROM $t"; done
		echo "COMMIT;"
	} >"$WORK/floor.sql"
	local a
	a=$(now)
	sqlite3 "$WORK/floor.db" <"$WORK/floor.sql" >/dev/null
	elapsed "$a" "$(now)"
}
sq_floor_all=$(floor $TABLES)
sq_floor_state=$(floor members member_emails org_groups group_members)

# PostgreSQL: orgsync's apply, then psql COPY of the same rows into a copy
# of the schema.
config "$WORK/pg.yaml" postgres "$DSN"
"$WORK/orgsync" --config "$WORK/pg.yaml" reconcile --format json >/dev/null 2>"$WORK/pg.log"
pg_apply=$(apply_secs "$WORK/pg.log")
for t in $TABLES; do psql -q "$DSN" -c "\\copy $t TO '$WORK/$t.csv' WITH (FORMAT csv)"; done
psql -q "$DSN" -c "CREATE SCHEMA floor" >/dev/null
for t in $TABLES; do psql -q "$DSN" -c "CREATE TABLE floor.$t (LIKE public.$t INCLUDING ALL)" >/dev/null; done
{
	echo "BEGIN;"
	for t in $TABLES; do echo "\\copy floor.$t FROM '$WORK/$t.csv' WITH (FORMAT csv)"; done
	echo "COMMIT;"
} >"$WORK/copy.sql"
a=$(now)
psql -q "$DSN" -f "$WORK/copy.sql" >/dev/null
pg_floor=$(elapsed "$a" "$(now)")

printf 'rows written by the first full apply: %s\n' "$rows"
for db in sqlite pg; do
	printf '%-6s run %s, of which the source read %s\n' "$db" "$(grep -o '"duration":"[^"]*"' "$WORK/$db.log" | tail -1 | cut -d'"' -f4)" \
		"$(grep -o '"took":"[^"]*"' "$WORK/$db.log" | head -1 | cut -d'"' -f4)"
done
printf 'SQLite      apply %7.2fs   sqlite3 CLI insert of the same rows %6.2fs -> %5.2fx  (without the events: %5.2fs -> %5.2fx)  [issue target <= 1.2x]\n' \
	"$sq_apply" "$sq_floor_all" "$(ratio "$sq_apply" "$sq_floor_all")" "$sq_floor_state" "$(ratio "$sq_apply" "$sq_floor_state")"
printf 'PostgreSQL  apply %7.2fs   psql COPY of the same rows          %6.2fs -> %5.2fx\n' "$pg_apply" "$pg_floor" "$(ratio "$pg_apply" "$pg_floor")"
