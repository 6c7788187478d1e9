#!/usr/bin/env bash
# Benchmark of incremental pulls on Active Directory (issue 13) against the
# ldapsearch dump of the same entries, on the throwaway Samba AD DC:
#
#   scripts/bench-incremental-ad.sh [USERS] [GROUPS] [MEMBERS]   (default 10000 100 200)
#   scripts/bench-incremental-ad.sh --ci                         (300 users, 10 groups x 30: correctness, not targets)
#
# The entries go under OU=Bench,DC=example,DC=org (removed again at the
# end). With ORGSYNC_TEST_AD_URL and ORGSYNC_TEST_AD_CA set (a DC that
# scripts/samba-ad.sh started, as scripts/test.sh does) that DC is used;
# otherwise the script starts its own (fixed ports 389/636, root).
#
# Prints, each as time and ratio to the ldapsearch dump measured in the
# same run (users: the attributes the source asks for; groups: objectGUID,
# cn, member):
#   - the first (full) reconcile into an empty SQLite store
#   - an incremental reconcile with nothing changed          (target <= 0.1x)
#   - an incremental reconcile after 1% of the users changed (target <= 0.25x),
#     which must write only the changed rows (one update event each)
#   - an incremental reconcile after 0.1% of the users were deleted (no target)
#   - the keys-only deletion listing on its own (ldapsearch, objectGUID only:
#     what the source falls back to), and the source's own check instead (the
#     Deleted Objects container and the naming context's changed keys)
#   - peak RSS of each run                                  (target <= 150 MB
#     for the incremental runs)
# Exits 1 when a target is missed (with --ci: when a run is not incremental,
# not through the deleted objects, or writes other than the changed rows).
set -euo pipefail
cd "$(dirname "$0")/.."

CI_MODE=
if [ "${1:-}" = --ci ]; then
	CI_MODE=1
	shift
	set -- 300 10 30
fi
USERS=${1:-10000}
GROUPS_N=${2:-100}
MEMBERS=${3:-200}
BASE="DC=example,DC=org"
BENCH="OU=Bench,$BASE"
ADMIN_DN="CN=Administrator,CN=Users,$BASE"
ADMIN_PW='Orgsync-Test-1!'
WORK=$(mktemp -d /tmp/orgsync-bench-ad.XXXXXX)
. scripts/lib/bench.sh
need /usr/bin/time time
need sqlite3 sqlite3

own_dc=
cleanup() {
	if [ -z "$own_dc" ] && [ -n "${URL:-}" ]; then
		ad ldapdelete -r "$BENCH" >/dev/null 2>&1 || true
	fi
	[ -z "$own_dc" ] || scripts/samba-ad.sh stop "$WORK/ad" || true
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
if [ -z "${ORGSYNC_TEST_AD_URL:-}" ]; then
	scripts/samba-ad.sh start "$WORK/ad" >/dev/null
	own_dc=1
	set -a; . "$WORK/ad/env"; set +a
fi
URL=$ORGSYNC_TEST_AD_URL
CA=$ORGSYNC_TEST_AD_CA
export LDAPTLS_CACERT=$CA
ad() { "$1" -x -H "$URL" -D "$ADMIN_DN" -w "$ADMIN_PW" "${@:2}"; }
ad_search() { ad ldapsearch -LLL -E pr=1000/noprompt "$@" >/dev/null; }

# The directory: USERS users (a tenth without a displayName, one in fifty
# disabled), GROUPS groups of MEMBERS consecutive users each (wrapping
# round: with the defaults every user is in two groups), one group in five
# nesting the one before it.
ad ldapdelete -r "$BENCH" >/dev/null 2>&1 || true
awk -v n="$USERS" -v g="$GROUPS_N" -v m="$MEMBERS" -v b="$BENCH" 'BEGIN {
	printf "dn: %s\nobjectClass: organizationalUnit\n\n", b
	printf "dn: OU=Users,%s\nobjectClass: organizationalUnit\n\ndn: OU=Groups,%s\nobjectClass: organizationalUnit\n\n", b, b
	for (i = 1; i <= n; i++) {
		u = sprintf("user%06d", i)
		printf "dn: CN=%s,OU=Users,%s\nobjectClass: user\nsAMAccountName: %s\nuserPrincipalName: %s@example.org\nmail: %s@example.org\n", u, b, u, u, u
		printf "givenName: Given%d\nsn: Family%d\nuserAccountControl: %d\n", i, i, (i % 50 == 0) ? 546 : 544
		if (i % 10) printf "displayName: User %d\n", i
		printf "\n"
	}
	for (j = 0; j < g; j++) {
		printf "dn: CN=group%04d,OU=Groups,%s\nobjectClass: group\n", j, b
		for (k = 0; k < m && k < n; k++) printf "member: CN=user%06d,OU=Users,%s\n", ((j * m + k) % n) + 1, b
		if (j % 5 == 1) printf "member: CN=group%04d,OU=Groups,%s\n", j - 1, b
		printf "\n"
	}
}' >"$WORK/bench.ldif"
a=$(now)
ad ldapadd -f "$WORK/bench.ldif" >/dev/null
load_s=$(elapsed "$a" "$(now)")
# One deleted object the bind user can see: the source uses the Deleted
# Objects container only once it sees one.
ad ldapmodify >/dev/null <<EOF
dn: CN=tombstone,$BENCH
changetype: add
objectClass: user
sAMAccountName: bench-tombstone

dn: CN=tombstone,$BENCH
changetype: delete
EOF

USER_ATTRS="objectGUID userPrincipalName mail givenName sn displayName sAMAccountName userAccountControl accountExpires"
dump() {
	ad_search -b "OU=Users,$BENCH" '(&(objectCategory=person)(objectClass=user))' $USER_ATTRS
	ad_search -b "OU=Groups,$BENCH" '(objectClass=group)' objectGUID cn member
}
best_of() { # best of three timed runs of "$@", after a warm-up
	local best= a t
	"$@"
	for _ in 1 2 3; do
		a=$(now)
		"$@"
		t=$(elapsed "$a" "$(now)")
		if [ -z "$best" ] || less "$t" "$best"; then best=$t; fi
	done
	echo "$best"
}
# The keys-only listing the source falls back to.
keys_only() {
	ad_search -b "OU=Users,$BENCH" '(&(objectCategory=person)(objectClass=user))' objectGUID
	ad_search -b "OU=Groups,$BENCH" '(objectClass=group)' objectGUID
}
USN=$(ad ldapsearch -LLL -s base -b "" highestCommittedUSN | awk '/^highestCommittedUSN:/ { print $2 }')
# What the source does instead: deleted objects and changed keys since
# the cursor (here: nothing since the load).
deleted_check() {
	ad_search -E '!1.2.840.113556.1.4.417' -b "CN=Deleted Objects,$BASE" "(&(isDeleted=TRUE)(uSNChanged>=$USN))" objectGUID
	ad_search -b "$BASE" "(uSNChanged>=$USN)" objectGUID
}
dump_s=$(best_of dump)
keys_s=$(best_of keys_only)
deleted_s=$(best_of deleted_check)

cat >"$WORK/orgsync.yaml" <<YAML
database: {driver: sqlite, dsn: $WORK/orgsync.db}
log: {level: info, format: json}
orgs: [{id: acme, name: Acme}]
sources:
  - name: bench-ad
    org: acme
    type: ldap
    full_every: 24h
    guard: {max_deprovision: 0, max_deprovision_percent: 0}
    ldap:
      flavor: ad
      url: $URL
      ca_file: $CA
      bind_dn: "$ADMIN_DN"
      bind_password: "$ADMIN_PW"
      page_size: 1000
      user: {base_dn: "OU=Users,$BENCH"}
      group: {base_dn: "OU=Groups,$BENCH", nested: true}
YAML
chmod 600 "$WORK/orgsync.yaml"
go build -o "$WORK/orgsync" ./cmd/orgsync

# run NAME: one timed reconcile; sets secs, rss_mb, kind (the run record's
# read kind and reason) and read_s (the source's own read time).
run() {
	/usr/bin/time -f '%e %M' -o "$WORK/$1.time" "$WORK/orgsync" --config "$WORK/orgsync.yaml" reconcile --format json >"$WORK/$1.json" 2>"$WORK/$1.log"
	read -r secs rss_kb <"$WORK/$1.time"
	rss_mb=$((rss_kb / 1024))
	kind=$(sqlite3 "$WORK/orgsync.db" "SELECT read_kind || ': ' || read_reason FROM runs ORDER BY id DESC LIMIT 1")
	read_s=$(grep -o '"took":"[^"]*"' "$WORK/$1.log" | tail -1 | cut -d'"' -f4)
}
events() { sqlite3 "$WORK/orgsync.db" "SELECT COUNT(*) FROM events"; }

run first
first_s=$secs first_rss=$rss_mb first_kind=$kind
run noop
noop_s=$secs noop_rss=$rss_mb noop_kind=$kind noop_read=$read_s

changed=$((USERS / 100))
awk -v n="$USERS" -v c="$changed" -v b="$BENCH" 'BEGIN {
	for (i = 0; i < c; i++) {
		u = sprintf("user%06d", int(i * n / c) + 1)
		printf "dn: CN=%s,OU=Users,%s\nchangetype: modify\nreplace: sn\nsn: changed-%s\n\n", u, b, u
	}
}' >"$WORK/changes.ldif"
ad ldapmodify -f "$WORK/changes.ldif" >/dev/null
ev_before=$(events)
run changed
inc_s=$secs inc_rss=$rss_mb inc_kind=$kind inc_read=$read_s
written=$(($(events) - ev_before))

deleted=$((USERS / 1000))
deleted=$((deleted < 3 ? 3 : deleted))
for i in $(seq 1 "$deleted"); do
	printf 'CN=user%06d,OU=Users,%s\n' $((i * USERS / deleted - 1)) "$BENCH"
done >"$WORK/deletes.txt"
ad ldapdelete -f "$WORK/deletes.txt"
run deleted
del_s=$secs del_rss=$rss_mb del_kind=$kind del_read=$read_s
gone=$(sqlite3 "$WORK/orgsync.db" "SELECT COUNT(*) FROM members WHERE status = 'deprovisioned' AND user_name IN ($(sed 's/^CN=\(user[0-9]*\),.*/'"'"'\1@example.org'"'"'/' "$WORK/deletes.txt" | paste -sd,))")

ok=1
check() { if less "$2" "$1"; then ok=0; echo "  MISSED: $3"; fi; }
printf 'directory: %s users, %s groups x %s members (every fifth group nesting the one before); %s users changed, %s deleted; loaded in %ss\n' \
	"$USERS" "$GROUPS_N" "$MEMBERS" "$changed" "$deleted" "$load_s"
printf 'ldapsearch dump            %7.2fs\n' "$dump_s"
printf 'keys-only listing          %7.2fs  %5.2fx  (ldapsearch: objectGUID of users and groups; the fallback)\n' "$keys_s" "$(ratio "$keys_s" "$dump_s")"
printf 'deleted objects + changed  %7.2fs  %5.2fx  (ldapsearch: Show Deleted container and changed keys of the domain; what the source does instead)\n' "$deleted_s" "$(ratio "$deleted_s" "$dump_s")"
printf 'first reconcile (full)     %7.2fs  %5.2fx  peak RSS %4d MB   [%s]\n' "$first_s" "$(ratio "$first_s" "$dump_s")" "$first_rss" "$first_kind"
printf 'nothing changed            %7.2fs  %5.2fx  peak RSS %4d MB   source read %s   (target <= 0.1x, <= 150 MB) [%s]\n' "$noop_s" "$(ratio "$noop_s" "$dump_s")" "$noop_rss" "$noop_read" "$noop_kind"
printf '1%% changed                 %7.2fs  %5.2fx  peak RSS %4d MB   source read %s   (target <= 0.25x, <= 150 MB) [%s]\n' "$inc_s" "$(ratio "$inc_s" "$dump_s")" "$inc_rss" "$inc_read" "$inc_kind"
printf '0.1%% deleted               %7.2fs  %5.2fx  peak RSS %4d MB   source read %s   [%s]\n' "$del_s" "$(ratio "$del_s" "$dump_s")" "$del_rss" "$del_read" "$del_kind"
printf '1%% changed wrote %d events (want %d: one update per changed user); %d of %d deleted users deprovisioned\n' "$written" "$changed" "$gone" "$deleted"
if [ -z "$CI_MODE" ]; then
	check "$(ratio "$noop_s" "$dump_s")" 0.1 "nothing-changed ratio"
	check "$(ratio "$inc_s" "$dump_s")" 0.25 "1% changed ratio"
	check "$noop_rss" 150 "nothing-changed RSS"
	check "$inc_rss" 150 "1% changed RSS"
fi
case $noop_kind in incremental*) ;; *) ok=0; echo "  MISSED: the nothing-changed run was not incremental" ;; esac
for k in "$inc_kind" "$del_kind"; do
	case $k in *"AD deleted objects, no keys listing"*) ;; *) ok=0; echo "  MISSED: not incremental through the deleted objects: $k" ;; esac
done
[ "$written" = "$changed" ] || { ok=0; echo "  MISSED: the 1% changed run wrote $written events, not $changed"; }
[ "$gone" = "$deleted" ] || { ok=0; echo "  MISSED: $gone of $deleted deleted users deprovisioned"; }
[ "$ok" = 1 ] || exit 1
