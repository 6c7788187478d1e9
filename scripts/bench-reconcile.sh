#!/usr/bin/env bash
# Benchmark of a whole reconcile against the ldapsearch dump of the same
# directory (the yardstick of issue 5), on a throwaway slapd:
#
#   scripts/bench-reconcile.sh [USERS] [GROUPS] [MEMBERS]   (default 100000 1000 200)
#
# Prints, each as time and ratio to the ldapsearch dump:
#   - the first full reconcile into an empty SQLite store   (target <= 4x)
#   - a no-op reconcile right after it, which must write no membership rows
#                                                           (target <= 3.5x)
#   - peak RSS of each orgsync run                          (target <= 400 MB)
#   - Diff of 100k members (go test -bench BenchmarkDiff)   (target <= 300 ms)
# Exits 1 when a target is missed.
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

need() { command -v "$1" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null; }; }
need sqlite3 sqlite3
[ -x /usr/bin/time ] || need /usr/bin/time time

go build -o "$WORK/ldifgen" ./tools/ldifgen
go build -o "$WORK/orgsync" ./cmd/orgsync
"$WORK/ldifgen" -mode bench -users "$USERS" -groups "$GROUPS_N" -members "$MEMBERS" >"$WORK/bench.ldif"
scripts/slapd.sh start "$WORK/slapd" "$PORT" "$WORK/bench.ldif" >/dev/null
best_ls=$(best_ldapsearch)

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

# run NAME: one timed reconcile; sets secs and rss_mb.
run() {
	/usr/bin/time -f '%e %M' -o "$WORK/$1.time" "$WORK/orgsync" --config "$WORK/orgsync.yaml" reconcile --format json >"$WORK/$1.json"
	read -r secs rss_kb <"$WORK/$1.time"
	rss_mb=$((rss_kb / 1024))
}
rows() { sqlite3 "$WORK/orgsync.db" "SELECT (SELECT COUNT(*) FROM members) || ' ' || (SELECT COUNT(*) FROM group_members) || ' ' || (SELECT COUNT(*) FROM events) || ' ' || (SELECT MAX(version) FROM members)"; }

run first
first_s=$secs first_rss=$rss_mb
before=$(rows)
run noop
noop_s=$secs noop_rss=$rss_mb
after=$(rows)

diff_ms=$(go test -run XXX -bench 'BenchmarkDiff/(initial|noop)' -benchtime 3x ./reconciler/ |
	awk '/BenchmarkDiff/ { for (i = 1; i <= NF; i++) if ($(i+1) == "ns/op") { v = $i / 1e6; if (v > m) m = v } } END { printf "%.0f", m }')

ok=1
check() { if less "$2" "$1"; then ok=0; echo "  MISSED: $3"; fi; }
printf 'directory: %s users, %s groups x %s members (members rows/events after first run: %s)\n' "$USERS" "$GROUPS_N" "$MEMBERS" "$before"
printf 'ldapsearch dump          %7.2fs\n' "$best_ls"
printf 'first reconcile          %7.2fs  %5.2fx  peak RSS %4d MB   (target <= 4x, <= 400 MB)\n' "$first_s" "$(ratio "$first_s" "$best_ls")" "$first_rss"
printf 'no-op reconcile          %7.2fs  %5.2fx  peak RSS %4d MB   (target <= 3.5x)\n' "$noop_s" "$(ratio "$noop_s" "$best_ls")" "$noop_rss"
printf 'Diff of 100k members     %7s ms (slowest of initial/no-op; target <= 300 ms)\n' "$diff_ms"
check "$(ratio "$first_s" "$best_ls")" 4 "first reconcile ratio"
check "$(ratio "$noop_s" "$best_ls")" 3.5 "no-op reconcile ratio"
check "$first_rss" 400 "first reconcile RSS"
check "$noop_rss" 400 "no-op reconcile RSS"
check "$diff_ms" 300 "Diff time"
if [ "$before" != "$after" ]; then ok=0; echo "  MISSED: the no-op reconcile wrote rows ($before -> $after)"; else echo "no-op reconcile wrote no membership rows ($after)"; fi
[ "$ok" = 1 ] || exit 1
