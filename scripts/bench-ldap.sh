#!/usr/bin/env bash
# Benchmark of the LDAP source against ldapsearch on the same throwaway slapd.
#
#   scripts/bench-ldap.sh [USERS] [GROUPS] [MEMBERS]     (default 100000 1000 200)
#
# Generates the LDIF with tools/ldifgen, loads it with slapadd into a slapd
# in a temp dir (scripts/slapd.sh, port $BENCH_LDAP_PORT or 20489), times
# `ldapsearch -E pr=1000/noprompt` dumping the users and groups with the
# attributes the source asks for to /dev/null, then times tools/ldapbench
# (the source's Snapshot), prints both, the ratio and the source's peak RSS,
# and stops slapd. Exits 1 when the ratio is above 3 or the RSS above 300 MB.
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${1:-100000}
GROUPS_N=${2:-1000}
MEMBERS=${3:-200}
PORT=${BENCH_LDAP_PORT:-20489}
SUFFIX="dc=example,dc=org"
WORK=$(mktemp -d /tmp/orgsync-bench-ldap.XXXXXX)
trap 'scripts/slapd.sh stop "$WORK/slapd" || true; rm -rf "$WORK"' EXIT

. scripts/lib/bench.sh

go build -o "$WORK/ldifgen" ./tools/ldifgen
go build -o "$WORK/ldapbench" ./tools/ldapbench
t0=$(now)
"$WORK/ldifgen" -mode bench -users "$USERS" -groups "$GROUPS_N" -members "$MEMBERS" >"$WORK/bench.ldif"
t1=$(now)
scripts/slapd.sh start "$WORK/slapd" "$PORT" "$WORK/bench.ldif" >/dev/null
t2=$(now)
printf 'generated %s users, %s groups x %s members in %.2fs; slapadd + start %.2fs\n' \
	"$USERS" "$GROUPS_N" "$MEMBERS" "$(elapsed "$t0" "$t1")" "$(elapsed "$t1" "$t2")"

URL="ldap://127.0.0.1:$PORT"
best_ls=$(best_ldapsearch)

best_go= rss=
for _ in 1 2 3; do
	out=$("$WORK/ldapbench" -url "$URL" -suffix "$SUFFIX" -page-size 1000)
	t=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$out")
	r=$(sed -n 's/.*peak_rss_mb=\([0-9]*\).*/\1/p' <<<"$out")
	if [ -z "$best_go" ] || less "$t" "$best_go"; then best_go=$t; fi
	if [ -z "$rss" ] || ((r > rss)); then rss=$r; fi
done
echo "source: $out"
ratio=$(ratio "$best_go" "$best_ls")
printf 'ldapsearch %.3fs  source %.3fs  ratio %.2fx  source peak RSS %d MB  (best of 3; target <= 3x, <= 300 MB)\n' \
	"$best_ls" "$best_go" "$ratio" "$rss"
if less 3 "$ratio" || ((rss > 300)); then
	echo "bench-ldap: over target" >&2
	exit 1
fi
