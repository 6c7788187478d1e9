#!/usr/bin/env bash
# Benchmark of a whole reconcile as an operator runs it, against the
# ldapsearch dump of the same directory (the floor), on a throwaway slapd:
#
#   scripts/bench-reconcile.sh [USERS] [GROUPS] [MEMBERS]   (default 100000 1000 200)
#
# Every orgsync run is the whole process, `orgsync reconcile --config FILE
# > /dev/null`, timed by /usr/bin/time -v (wall time and peak RSS):
#   - the first reconcile into an empty SQLite store, once per output format:
#     text (the default), json and markdown          (target <= 4x the dump,
#                                                     peak RSS <= 400 MB)
#   - a no-op reconcile right after it (text), which must write no
#     membership rows                                  (target <= 2x the dump)
#   - Diff of 100k members (go test -bench BenchmarkDiff)   (target <= 300 ms)
# Floors: the best of three ldapsearch dumps of the entries the source reads
# (time), and the size of that dump (the bytes of the directory, for RSS).
# Exits 1 when a target is missed. Not part of CI (scripts/test.sh); a
# smaller directory (e.g. 10000 100 200) checks the script itself quickly.
# BENCH_RECONCILE_PORT picks slapd's port (default 20589).
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${1:-100000}
GROUPS_N=${2:-1000}
MEMBERS=${3:-200}
PORT=${BENCH_RECONCILE_PORT:-20589}
SUFFIX="dc=example,dc=org"
URL="ldap://127.0.0.1:$PORT"
WORK=$(mktemp -d /tmp/orgsync-bench-reconcile.XXXXXX)
trap 'scripts/slapd.sh stop "$WORK/slapd" || true; rm -rf "$WORK"' EXIT
. scripts/lib/bench.sh

need sqlite3 sqlite3
need /usr/bin/time time

go build -o "$WORK/ldifgen" ./tools/ldifgen
go build -o "$WORK/orgsync" ./cmd/orgsync
"$WORK/ldifgen" -mode bench -users "$USERS" -groups "$GROUPS_N" -members "$MEMBERS" >"$WORK/bench.ldif"
scripts/slapd.sh start "$WORK/slapd" "$PORT" "$WORK/bench.ldif" >/dev/null
echo "cpus: $(nproc)  go: $(go env GOVERSION)  load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
best_ls=$(best_ldapsearch)
dump_mb=$(ldapsearch_all_bytes | awk '{ printf "%.1f", $1 / 1048576 }')

cat >"$WORK/orgsync.yaml" <<YAML
database: {driver: sqlite, dsn: $WORK/orgsync.db}
log: {level: warn, format: json}
orgs: [{id: acme, name: Acme}]
sources:
  - name: bench-ldap
    org: acme
    type: ldap
    guard: {max_deprovision: 0, max_deprovision_percent: 0}
    ldap:
      url: $URL
      bind_dn: cn=sync,$SUFFIX
      bind_password: sync
      page_size: 1000
      user: {base_dn: "ou=people,$SUFFIX", disabled_filter: "(employeeType=disabled)"}
      group: {base_dn: "ou=groups,$SUFFIX", nested: true}
YAML
chmod 600 "$WORK/orgsync.yaml"

# run NAME [FLAGS...]: one reconcile as an operator runs it, the report to
# /dev/null; sets secs and rss_mb from /usr/bin/time -v.
run() {
	local name=$1
	shift
	/usr/bin/time -v -o "$WORK/$name.time" "$WORK/orgsync" reconcile --config "$WORK/orgsync.yaml" "$@" >/dev/null
	secs=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' "$WORK/$name.time")
	rss_mb=$(awk -F': ' '/Maximum resident set size/ { printf "%d", $2 / 1024 }' "$WORK/$name.time")
}
rows() { sqlite3 "$WORK/orgsync.db" "SELECT (SELECT COUNT(*) FROM members) || ' ' || (SELECT COUNT(*) FROM group_members) || ' ' || (SELECT COUNT(*) FROM events) || ' ' || (SELECT MAX(version) FROM members)"; }
fresh() { rm -f "$WORK"/orgsync.db "$WORK"/orgsync.db-*; }

ok=1
check() { if less "$2" "$1"; then ok=0; echo "  MISSED: $3"; fi; }
printf 'directory: %s users, %s groups x %s members\n' "$USERS" "$GROUPS_N" "$MEMBERS"
printf '%-28s %7.2fs  1.00x  dump %6.1f MB   (floor)\n' "ldapsearch dump" "$best_ls" "$dump_mb"
for format in text json markdown; do
	fresh
	flags=()
	[ "$format" = text ] || flags=(--format "$format")
	run "first-$format" "${flags[@]}"
	r=$(ratio "$secs" "$best_ls") m=$(ratio "$rss_mb" "$dump_mb")
	printf '%-28s %7.2fs  %5.2fx  peak RSS %4d MB = %5.2fx the dump   (target <= 4x, <= 400 MB)\n' "first reconcile ($format)" "$secs" "$r" "$rss_mb" "$m"
	check "$r" 4 "first reconcile ($format) time ratio"
	check "$rss_mb" 400 "first reconcile ($format) peak RSS"
done
before=$(rows)
run noop
r=$(ratio "$secs" "$best_ls") m=$(ratio "$rss_mb" "$dump_mb")
after=$(rows)
printf '%-28s %7.2fs  %5.2fx  peak RSS %4d MB = %5.2fx the dump   (target <= 2x, <= 400 MB)\n' "no-op reconcile (text)" "$secs" "$r" "$rss_mb" "$m"
check "$r" 2 "no-op reconcile time ratio"
check "$rss_mb" 400 "no-op reconcile peak RSS"
if [ "$before" != "$after" ]; then ok=0; echo "  MISSED: the no-op reconcile wrote rows ($before -> $after)"; else echo "no-op reconcile wrote no membership rows (members, group_members, events, max version: $after)"; fi

diff_ms=$(go test -run XXX -bench 'BenchmarkDiff/(initial|noop)' -benchtime 3x ./reconciler/ |
	awk '/BenchmarkDiff/ { for (i = 1; i <= NF; i++) if ($(i+1) == "ns/op") { v = $i / 1e6; if (v > m) m = v } } END { printf "%.0f", m }')
printf '%-28s %7s ms (slowest of initial/no-op; target <= 300 ms)\n' "Diff of 100k members" "$diff_ms"
check "$diff_ms" 300 "Diff time"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) (other processes on the CPUs skew the times, not the RSS)"
[ "$ok" = 1 ] || exit 1
