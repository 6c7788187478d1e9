#!/usr/bin/env bash
# Throwaway OpenLDAP server for tests and benchmarks. Never touches the
# system slapd: its own config, database, pid file and loopback ports.
#
#   scripts/slapd.sh start DIR PORT [LDIF...]
#       installs slapd + ldap-utils if missing, writes DIR/slapd.conf, loads
#       the base entries and the LDIF files with slapadd, starts slapd on
#       ldap://127.0.0.1:PORT and ldaps://127.0.0.1:PORT+1 (throwaway CA in
#       DIR/tls/ca.pem, server cert for IP 127.0.0.1 only), waits until it
#       answers, and writes DIR/env (shell assignments for the test vars).
#   scripts/slapd.sh stop DIR
#
# Directory: suffix dc=example,dc=org; rootdn cn=admin,dc=example,dc=org /
# admin; read-only service account cn=sync,dc=example,dc=org / sync without
# size limit; cn=reader,dc=example,dc=org / reader with the default size
# limit of 500 entries; cn=nocsn,dc=example,dc=org / nocsn, which cannot read
# entryCSN and contextCSN. The syncprov overlay keeps contextCSN current.
#
# Environment: SLAPD_SYNCPROV=0 leaves the syncprov overlay out (the
# contextCSN slapadd writes then never moves, and RFC 4533 sync requests
# are refused); SLAPD_SESSIONLOG=N sizes its session log (default 200000,
# enough for the 100k benchmarks; 0 turns it off: a refresh with a cookie
# then names every entry present).
set -euo pipefail

SUFFIX="dc=example,dc=org"
MODULEPATH=/usr/lib/ldap
SCHEMA=/etc/ldap/schema

die() { echo "slapd.sh: $*" >&2; exit 1; }

install_slapd() {
	if command -v slapd >/dev/null 2>&1 || [ -x /usr/sbin/slapd ]; then
		if command -v ldapsearch >/dev/null 2>&1 && command -v slapadd >/dev/null 2>&1; then
			return
		fi
	fi
	echo "slapd.sh: installing slapd and ldap-utils" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends slapd ldap-utils >/dev/null
	# On a host with systemd or without a policy-rc.d the postinst starts the
	# system slapd on :389; ours does not need it.
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl stop slapd >/dev/null 2>&1 || true
		systemctl disable slapd >/dev/null 2>&1 || true
	elif [ -x /etc/init.d/slapd ]; then
		/etc/init.d/slapd stop >/dev/null 2>&1 || true
	fi
}

make_certs() {
	local tls=$1
	mkdir -p "$tls"
	if ! command -v openssl >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl >/dev/null
	fi
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=orgsync test CA" -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-subj "/CN=127.0.0.1" -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
	# Only the IP: connecting to "localhost" is a real name mismatch.
	printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$tls/ext.cnf"
	openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
		-days 2 -extfile "$tls/ext.cnf" -out "$tls/server.pem" 2>/dev/null
	chmod 600 "$tls"/*.key
}

write_conf() {
	local dir=$1
	cat >"$dir/slapd.conf" <<EOF
modulepath $MODULEPATH
moduleload back_mdb
moduleload memberof
moduleload refint
moduleload syncprov

include $SCHEMA/core.schema
include $SCHEMA/cosine.schema
include $SCHEMA/inetorgperson.schema
include $SCHEMA/nis.schema

pidfile $dir/slapd.pid
argsfile $dir/slapd.args
sizelimit 500
tool-threads 2

TLSCACertificateFile $dir/tls/ca.pem
TLSCertificateFile $dir/tls/server.pem
TLSCertificateKeyFile $dir/tls/server.key

database mdb
suffix "$SUFFIX"
rootdn "cn=admin,$SUFFIX"
rootpw admin
directory $dir/db
maxsize 8589934592
dbnosync
multival member 500,100
index objectClass eq
index uid,mail eq
index member,uniqueMember eq
index entryCSN,entryUUID eq
limits dn.exact="cn=sync,$SUFFIX" size=unlimited time=unlimited
limits dn.exact="cn=nocsn,$SUFFIX" size=unlimited time=unlimited

access to attrs=userPassword
	by anonymous auth
	by * none
access to attrs=entryCSN,contextCSN
	by dn.exact="cn=nocsn,$SUFFIX" none
	by dn.exact="cn=sync,$SUFFIX" read
	by users read
	by * none
access to *
	by dn.exact="cn=sync,$SUFFIX" read
	by users read
	by * none

overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE

overlay refint
refint_attributes member uniqueMember

EOF
	if [ "${SLAPD_SYNCPROV:-1}" = 1 ]; then
		cat >>"$dir/slapd.conf" <<EOF

# syncprov keeps the suffix's contextCSN current: incremental reads ask
# for what changed since it (entryCSN >= the stored contextCSN). Its
# session log lets an RFC 4533 refresh with a cookie name the entries
# deleted since (a syncIdSet) instead of every entry still present.
overlay syncprov
syncprov-checkpoint 100 5
EOF
		if [ "${SLAPD_SESSIONLOG:-200000}" != 0 ]; then
			echo "syncprov-sessionlog ${SLAPD_SESSIONLOG:-200000}" >>"$dir/slapd.conf"
		fi
	fi
}

write_base() {
	cat >"$1" <<EOF
dn: $SUFFIX
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: cn=sync,$SUFFIX
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: sync
userPassword: sync
description: read-only sync service account, no size limit

dn: cn=reader,$SUFFIX
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: reader
description: ordinary account with the default size limit (500)

dn: cn=nocsn,$SUFFIX
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: nocsn
userPassword: nocsn
description: account that cannot read entryCSN or contextCSN

EOF
}

start() {
	local dir=$1 port=$2
	shift 2
	[[ $port =~ ^[0-9]+$ ]] && ((port >= 1024 && port < 65535)) || die "PORT must be a high port, got $port"
	install_slapd
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[ -f "$dir/slapd.pid" ] && die "$dir/slapd.pid exists: stop it first (scripts/slapd.sh stop $dir)"
	rm -rf "$dir/db" && mkdir -p "$dir/db"
	[ -f "$dir/tls/server.pem" ] || make_certs "$dir/tls"
	write_conf "$dir"
	write_base "$dir/base.ldif"
	/usr/sbin/slapadd -q -w -f "$dir/slapd.conf" -l "$dir/base.ldif"
	local f
	for f in "$@"; do
		[ -r "$f" ] || die "cannot read LDIF $f"
		/usr/sbin/slapadd -q -w -f "$dir/slapd.conf" -l "$f"
	done
	local tlsport=$((port + 1))
	# slapd sizes its descriptor table from the limit; containers may report ~1e9.
	(
		ulimit -n 65536 2>/dev/null || true
		exec /usr/sbin/slapd -f "$dir/slapd.conf" -h "ldap://127.0.0.1:$port/ ldaps://127.0.0.1:$tlsport/"
	)
	local i
	for i in $(seq 1 100); do
		if ldapsearch -x -LLL -H "ldap://127.0.0.1:$port" -D "cn=sync,$SUFFIX" -w sync \
			-b "$SUFFIX" -s base 1.1 >/dev/null 2>&1; then
			break
		fi
		((i == 100)) && die "slapd did not answer on 127.0.0.1:$port"
		sleep 0.1
	done
	cat >"$dir/env" <<EOF
ORGSYNC_TEST_LDAP_URL=ldap://127.0.0.1:$port
ORGSYNC_TEST_LDAP_DIR=$dir
EOF
	echo "slapd: ldap://127.0.0.1:$port ldaps://127.0.0.1:$tlsport (CA $dir/tls/ca.pem)"
}

stop() {
	local dir=$1 pid i
	[ -f "$dir/slapd.pid" ] || return 0
	pid=$(cat "$dir/slapd.pid")
	kill "$pid" 2>/dev/null || true
	# slapd removes its pid file after closing the database; a daemonised
	# slapd may linger as a zombie that still passes kill -0.
	for i in $(seq 1 100); do
		[ -f "$dir/slapd.pid" ] || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$dir/slapd.pid"
}

case "${1:-}" in
start)
	[ $# -ge 3 ] || die "usage: $0 start DIR PORT [LDIF...]"
	shift
	start "$@"
	;;
stop)
	[ $# -eq 2 ] || die "usage: $0 stop DIR"
	stop "$2"
	;;
*) die "usage: $0 start DIR PORT [LDIF...] | stop DIR" ;;
esac
