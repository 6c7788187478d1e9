#!/usr/bin/env bash
# Store write cost of a first full apply (issue 13, item 5), each against a
# floor measured in the same run:
#   - SQLite: orgsync's apply of USERS members, GROUPS groups and
#     USERS memberships (and the events it writes) against the sqlite3 CLI
#     inserting the very same rows into the same schema in one transaction
#     (printed with and without the events);
#   - PostgreSQL: the same apply against psql COPY of the same rows into a
#     copy of the schema (its indexes, defaults and foreign keys; printed
#     without the foreign keys too), then a no-op run and a run with 1 % of
#     the users changed against the ldapsearch dump of the directory.
# The apply's time is the run's duration less the source read (both from
# orgsync's log). Measures only: it sets no target and exits 0.
#
#   scripts/bench-store.sh [USERS] [GROUPS]     (default 100000 1000)
# BENCH_STORE_PORT and BENCH_STORE_PGPORT pick slapd's and PostgreSQL's ports;
# BENCH_STORE_ROUNDS (3) how many times the PostgreSQL first apply and its
# floor run (the best of each counts);
# BENCH_PROFILE=DIR writes the CPU profile of the PostgreSQL first apply to
# DIR/pg-cpu.prof (read it with go tool pprof and DIR/orgsync).
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${1:-100000}
GROUPS_N=${2:-1000}
MEMBERS=$((USERS / GROUPS_N))
PORT=${BENCH_STORE_PORT:-20789}
PGPORT=${BENCH_STORE_PGPORT:-20799}
ROUNDS=${BENCH_STORE_ROUNDS:-3} # PostgreSQL first applies and COPY floors
SUFFIX="dc=example,dc=org"
URL="ldap://127.0.0.1:$PORT"
WORK=$(mktemp -d /tmp/orgsync-bench-store.XXXXXX)
chmod 755 "$WORK"
trap 'scripts/slapd.sh stop "$WORK/slapd" || true; scripts/postgres.sh stop "$WORK/pg" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
. scripts/lib/bench.sh
need sqlite3 sqlite3

go build -o "$WORK/ldifgen" ./tools/ldifgen
go build -o "$WORK/orgsync" ./cmd/orgsync
"$WORK/ldifgen" -mode bench -users "$USERS" -groups "$GROUPS_N" -members "$MEMBERS" >"$WORK/bench.ldif"
scripts/slapd.sh start "$WORK/slapd" "$PORT" "$WORK/bench.ldif" >/dev/null
best_ls=$(best_ldapsearch)
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

# PostgreSQL: orgsync's apply, then psql COPY of the same rows into copies
# of the schema: with its foreign keys (floor) and without them (floor_nofk).
config "$WORK/pg.yaml" postgres "$DSN"
if [ -n "${BENCH_PROFILE:-}" ]; then
	mkdir -p "$BENCH_PROFILE"
	cp "$WORK/orgsync" "$BENCH_PROFILE/orgsync"
	ORGSYNC_CPUPROFILE=$BENCH_PROFILE/pg-cpu.prof "$WORK/orgsync" --config "$WORK/pg.yaml" reconcile --format json >/dev/null 2>"$WORK/pg.log"
else
	"$WORK/orgsync" --config "$WORK/pg.yaml" reconcile --format json >/dev/null 2>"$WORK/pg.log"
fi
pg_apply=$(apply_secs "$WORK/pg.log")
pg_applies=$pg_apply
# More rounds of the first apply, each into a database of its own; the
# best counts, as for the floor below (this machine is noisy).
for round in $(seq 2 "$ROUNDS"); do
	psql -q "$DSN" -c "CREATE DATABASE bench_r$round" >/dev/null
	config "$WORK/pg-r.yaml" postgres "${DSN/\/postgres\?//bench_r$round?}"
	"$WORK/orgsync" --config "$WORK/pg-r.yaml" reconcile --format json >/dev/null 2>"$WORK/pg-r.log"
	a=$(apply_secs "$WORK/pg-r.log")
	pg_applies="$pg_applies $a"
	pg_apply=$(awk -v x="$pg_apply" -v y="$a" 'BEGIN { print (y < x ? y : x) }')
	psql -q "$DSN" -c "DROP DATABASE bench_r$round" >/dev/null
done
for t in $TABLES; do psql -q "$DSN" -c "\\copy $t TO '$WORK/$t.csv' WITH (FORMAT csv)"; done
# The foreign keys as the schema declares them, unqualified: created with
# the floor schema first on the search path, a reference to a copied table
# goes to its copy and one to orgs to the original.
fks=$(for t in $TABLES; do
	psql -qAt "$DSN" -c "SELECT 'ALTER TABLE $t ADD ' || pg_get_constraintdef(oid) || ';' FROM pg_constraint WHERE conrelid = 'public.$t'::regclass AND contype = 'f'"
done)
pg_copy() { # pg_copy SCHEMA WITH_FKS: seconds to COPY the rows into SCHEMA
	psql -q "$DSN" -c "CREATE SCHEMA $1" >/dev/null
	for t in $TABLES; do psql -q "$DSN" -c "CREATE TABLE $1.$t (LIKE public.$t INCLUDING ALL)" >/dev/null; done
	if [ "$2" = yes ]; then psql -q "$DSN" -c "SET search_path = $1, public; $fks" >/dev/null; fi
	{
		echo "BEGIN;"
		for t in $TABLES; do echo "\\copy $1.$t FROM '$WORK/$t.csv' WITH (FORMAT csv)"; done
		echo "COMMIT;"
	} >"$WORK/copy-$1.sql"
	local a
	a=$(now)
	psql -q "$DSN" -f "$WORK/copy-$1.sql" >/dev/null
	elapsed "$a" "$(now)"
}
pg_floor=
pg_floors=
for round in $(seq 1 "$ROUNDS"); do
	f=$(pg_copy "floor_$round" yes)
	pg_floors="$pg_floors $f"
	pg_floor=$(awk -v x="${pg_floor:-$f}" -v y="$f" 'BEGIN { print (y < x ? y : x) }')
	psql -q "$DSN" -c "DROP SCHEMA floor_$round CASCADE" >/dev/null 2>&1
done
pg_floor_nofk=$(pg_copy floor_nofk no)
psql -q "$DSN" -c "DROP SCHEMA floor_nofk CASCADE" >/dev/null 2>&1

# Steady state on PostgreSQL: a run with nothing changed, then one with 1 %
# of the users changed (their sn), each the whole process.
pg_run() { # pg_run NAME: the process's wall time; its log in $WORK/NAME.log
	local a
	a=$(now)
	"$WORK/orgsync" --config "$WORK/pg.yaml" reconcile --format json >/dev/null 2>"$WORK/$1.log"
	elapsed "$a" "$(now)"
}
pg_noop=$(pg_run pg-noop)
changed=$((USERS / 100))
awk -v n="$USERS" -v c="$changed" -v s="$SUFFIX" 'BEGIN {
	for (i = 0; i < c; i++) {
		u = sprintf("user%06d", int(i * n / c) + 1)
		printf "dn: uid=%s,ou=people,%s\nchangetype: modify\nreplace: sn\nsn: changed-%s\n\n", u, s, u
	}
}' >"$WORK/changes.ldif"
ldapmodify -x -H "$URL" -D "cn=admin,$SUFFIX" -w admin -f "$WORK/changes.ldif" >/dev/null
ev_before=$(psql -qAt "$DSN" -c "SELECT COUNT(*) FROM events")
pg_changed=$(pg_run pg-changed)
written=$(($(psql -qAt "$DSN" -c "SELECT COUNT(*) FROM events") - ev_before))

printf 'rows written by the first full apply: %s\n' "$rows"
for db in sqlite pg; do
	printf '%-6s run %s, of which the source read %s\n' "$db" "$(grep -o '"duration":"[^"]*"' "$WORK/$db.log" | tail -1 | cut -d'"' -f4)" \
		"$(grep -o '"took":"[^"]*"' "$WORK/$db.log" | head -1 | cut -d'"' -f4)"
done
printf 'SQLite      apply %7.2fs   sqlite3 CLI insert of the same rows %6.2fs -> %5.2fx  (without the events: %5.2fs -> %5.2fx)  [issue target <= 1.2x]\n' \
	"$sq_apply" "$sq_floor_all" "$(ratio "$sq_apply" "$sq_floor_all")" "$sq_floor_state" "$(ratio "$sq_apply" "$sq_floor_state")"
printf 'PostgreSQL  first apply, each round:%s s; psql COPY, each round:%s s (the best of each counts)\n' "$pg_applies" "$pg_floors"
printf 'PostgreSQL  apply %7.2fs   psql COPY of the same rows          %6.2fs -> %5.2fx  (without the foreign keys: %5.2fs -> %5.2fx)  [issue target <= 1.2x]\n' \
	"$pg_apply" "$pg_floor" "$(ratio "$pg_apply" "$pg_floor")" "$pg_floor_nofk" "$(ratio "$pg_apply" "$pg_floor_nofk")"
printf 'PostgreSQL  nothing changed %6.2fs, 1%% changed %6.2fs (%d events written, want %d) against the ldapsearch dump %6.2fs -> %5.2fx, %5.2fx\n' \
	"$pg_noop" "$pg_changed" "$written" "$changed" "$best_ls" "$(ratio "$pg_noop" "$best_ls")" "$(ratio "$pg_changed" "$best_ls")"
printf '            their runs (log): nothing changed %s, 1%% changed %s\n' \
	"$(grep -o '"duration":"[^"]*"' "$WORK/pg-noop.log" | tail -1 | cut -d'"' -f4)" "$(grep -o '"duration":"[^"]*"' "$WORK/pg-changed.log" | tail -1 | cut -d'"' -f4)"
