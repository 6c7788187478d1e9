# Shared by the benchmark scripts: timing helpers and the ldapsearch dump
# that is the yardstick of every LDAP figure. Source it; set URL and SUFFIX.

# need COMMAND PACKAGE installs Debian's PACKAGE when COMMAND is missing.
need() { command -v "$1" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null; }; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
less() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

ldap_search() {
	ldapsearch -x -LLL -H "$URL" -D "cn=sync,$SUFFIX" -w sync -E pr=1000/noprompt "$@" >/dev/null
}

# ldapsearch_all dumps the users and groups with the attributes the LDAP
# source asks for, to /dev/null.
ldapsearch_all() {
	ldap_search -b "ou=people,$SUFFIX" '(&(objectClass=inetOrgPerson)(employeeType=disabled))' 1.1
	ldap_search -b "ou=people,$SUFFIX" '(objectClass=inetOrgPerson)' entryUUID mail givenName sn cn uid
	ldap_search -b "ou=groups,$SUFFIX" '(objectClass=groupOfNames)' entryUUID cn member
}

# best_ldapsearch prints the best of three timed dumps (after a warm-up).
best_ldapsearch() {
	local best= a t
	ldapsearch_all
	for _ in 1 2 3; do
		a=$(now)
		ldapsearch_all
		t=$(elapsed "$a" "$(now)")
		if [ -z "$best" ] || less "$t" "$best"; then best=$t; fi
	done
	echo "$best"
}

# ldapsearch_all_bytes prints the size in bytes of one ldapsearch_all dump.
ldapsearch_all_bytes() {
	{
		ldapsearch -x -LLL -H "$URL" -D "cn=sync,$SUFFIX" -w sync -E pr=1000/noprompt -b "ou=people,$SUFFIX" '(&(objectClass=inetOrgPerson)(employeeType=disabled))' 1.1
		ldapsearch -x -LLL -H "$URL" -D "cn=sync,$SUFFIX" -w sync -E pr=1000/noprompt -b "ou=people,$SUFFIX" '(objectClass=inetOrgPerson)' entryUUID mail givenName sn cn uid
		ldapsearch -x -LLL -H "$URL" -D "cn=sync,$SUFFIX" -w sync -E pr=1000/noprompt -b "ou=groups,$SUFFIX" '(objectClass=groupOfNames)' entryUUID cn member
	} | wc -c
}
