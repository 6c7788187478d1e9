#!/usr/bin/env bash
# Throwaway Samba Active Directory DC for the flavor: ad tests.
#
#   scripts/samba-ad.sh start DIR    provision a domain in DIR, start samba,
#                                    add the fixture, write DIR/env
#   scripts/samba-ad.sh stop DIR
#
# Samba's LDAP listens on the fixed ports 389 and 636 (loopback only), so
# this needs root and those ports free. Simple binds need TLS: use
# ldaps://127.0.0.1:636. The certificate is our own (DIR/tls/ca.pem signs a
# server cert for IP 127.0.0.1): Samba's auto-generated one sometimes has a
# negative serial number, which Go's crypto/x509 refuses to parse.
#
# Domain EXAMPLE.ORG (DC=example,DC=org); bind as
# CN=Administrator,CN=Users,DC=example,DC=org / Orgsync-Test-1!
# Fixture under OU=KMS,DC=example,DC=org (see write_fixture).
set -euo pipefail

BASE="DC=example,DC=org"
ADMIN_DN="CN=Administrator,CN=Users,$BASE"
ADMIN_PW='Orgsync-Test-1!'
URL=ldaps://127.0.0.1:636

die() { echo "samba-ad.sh: $*" >&2; exit 1; }

install_samba() {
	local missing=()
	command -v samba >/dev/null 2>&1 || missing+=(samba-ad-dc)
	[ -d /usr/share/samba/setup ] || missing+=(samba-ad-provision)
	command -v ldapadd >/dev/null 2>&1 || missing+=(ldap-utils)
	((${#missing[@]} == 0)) && return
	echo "samba-ad.sh: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	# A host with systemd may have started the packaged services.
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		for s in samba-ad-dc smbd nmbd winbind; do
			systemctl stop "$s" >/dev/null 2>&1 || true
			systemctl disable "$s" >/dev/null 2>&1 || true
		done
	fi
}

make_certs() {
	local tls=$1
	mkdir -p "$tls"
	if ! command -v openssl >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl >/dev/null
	fi
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=orgsync test AD CA" \
		-keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$tls/key.pem" -out "$tls/cert.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$tls/ext.cnf"
	openssl x509 -req -in "$tls/cert.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
		-days 2 -extfile "$tls/ext.cnf" -out "$tls/cert.pem" 2>/dev/null
	chmod 600 "$tls"/*.key "$tls/key.pem"
}

ldap() {
	LDAPTLS_REQCERT=never "$@" -x -H "$URL" -D "$ADMIN_DN" -w "$ADMIN_PW"
}

# userAccountControl: 544 = NORMAL_ACCOUNT|PASSWD_NOTREQD (enabled, no
# password needed for the fixture), 546 = that and ACCOUNTDISABLE, 514 =
# NORMAL_ACCOUNT|ACCOUNTDISABLE. accountExpires 130000000000000000 is in 2012.
write_fixture() {
	local u="OU=Users,OU=KMS,$BASE" g="OU=Groups,OU=KMS,$BASE"
	cat <<EOF
dn: OU=KMS,$BASE
objectClass: organizationalUnit

dn: $u
objectClass: organizationalUnit

dn: $g
objectClass: organizationalUnit

dn: OU=Elsewhere,$BASE
objectClass: organizationalUnit

EOF
	user() { # cn sam uac [extra lines]
		local cn=$1 sam=$2 uac=$3
		shift 3
		printf 'dn: CN=%s,%s\nobjectClass: user\nsAMAccountName: %s\nuserPrincipalName: %s@example.org\nmail: %s@example.org\nuserAccountControl: %s\n' \
			"$cn" "$u" "$sam" "$sam" "$sam" "$uac"
		local l
		for l in "$@"; do printf '%s\n' "$l"; done
		printf '\n'
	}
	user "Alice Archer" alice 544 "givenName: Alice" "sn: Archer" "displayName: Alice Archer"
	user "Bob Baker" bob 544 "givenName: Bob" "sn: Baker" "displayName: Bob Baker"
	user "Carol Cole" carol 546 "displayName: Carol Cole"
	user "Dave Dunn" dave 544 "accountExpires: 130000000000000000"
	user "Erin Eck" erin 544
	user "Frank Fox" frank 514
	# Zoë Ångström, base64 because it is not ASCII.
	user "Zoe" zoe 544 "displayName:: $(printf 'Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m' | base64)"
	printf 'dn: CN=Olga,OU=Elsewhere,%s\nobjectClass: user\nsAMAccountName: olga\nuserPrincipalName: olga@example.org\nuserAccountControl: 544\n\n' "$BASE"
	cat <<EOF
dn: CN=kms-platform,$g
objectClass: group

dn: CN=kms-eng,$g
objectClass: group
member: CN=Bob Baker,$u
member: CN=kms-platform,$g

dn: CN=kms-users,$g
objectClass: group
member: CN=Alice Archer,$u
member: CN=Carol Cole,$u
member: CN=Dave Dunn,$u
member: CN=Frank Fox,$u
member: CN=Zoe,$u
member: CN=Olga,OU=Elsewhere,$BASE
member: CN=kms-eng,$g

dn: CN=kms-admins,$g
objectClass: group
member: CN=Alice Archer,$u

EOF
}

start() {
	local dir=$1
	install_samba
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[ -f "$dir/samba.pid" ] && die "$dir/samba.pid exists: stop it first (scripts/samba-ad.sh stop $dir)"
	local port
	for port in 389 636; do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			die "port $port is in use on 127.0.0.1"
		fi
	done
	rm -rf "$dir/dc"
	samba-tool domain provision --targetdir="$dir/dc" --realm=EXAMPLE.ORG --domain=EXAMPLE \
		--server-role=dc --dns-backend=NONE --use-rfc2307 --adminpass="$ADMIN_PW" \
		--option="interfaces=lo" --option="bind interfaces only=yes" \
		--option="server services=ldap cldap" --option="log file=$dir/dc/log.%m" >"$dir/provision.log" 2>&1 ||
		{ tail -20 "$dir/provision.log" >&2; die "provision failed (log: $dir/provision.log)"; }
	make_certs "$dir/tls"
	# Our certificate instead of the auto-generated one.
	sed -i "/^\[global\]/a\\
	tls enabled = yes\\
	tls keyfile = $dir/tls/key.pem\\
	tls certfile = $dir/tls/cert.pem\\
	tls cafile = $dir/tls/ca.pem" "$dir/dc/etc/smb.conf"
	setsid samba -i -M single -s "$dir/dc/etc/smb.conf" >"$dir/samba.log" 2>&1 </dev/null &
	echo $! >"$dir/samba.pid"
	local i
	for i in $(seq 1 120); do
		if ldap ldapsearch -LLL -b "$BASE" -s base 1.1 >/dev/null 2>&1; then
			break
		fi
		if ! kill -0 "$(cat "$dir/samba.pid")" 2>/dev/null; then
			tail -20 "$dir/samba.log" >&2
			rm -f "$dir/samba.pid"
			die "samba exited"
		fi
		((i == 120)) && die "samba did not answer on $URL (log: $dir/samba.log)"
		sleep 0.5
	done
	write_fixture >"$dir/fixture.ldif"
	ldap ldapadd -f "$dir/fixture.ldif" >/dev/null
	# The cycle closes after both groups exist.
	ldap ldapmodify >/dev/null <<EOF
dn: CN=kms-platform,OU=Groups,OU=KMS,$BASE
changetype: modify
add: member
member: CN=kms-eng,OU=Groups,OU=KMS,$BASE
EOF
	printf 'ORGSYNC_TEST_AD_URL=%s\nORGSYNC_TEST_AD_CA=%s\n' "$URL" "$dir/tls/ca.pem" >"$dir/env"
	echo "samba AD: $URL, bind $ADMIN_DN"
}

stop() {
	local dir=$1 pid i
	[ -f "$dir/samba.pid" ] || return 0
	pid=$(cat "$dir/samba.pid")
	kill "$pid" 2>/dev/null || true
	# Gone, or a zombie waiting for PID 1 to reap it: either way it is done.
	for i in $(seq 1 100); do
		if [ ! -d "/proc/$pid" ] || grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	if [ -d "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$dir/samba.pid"
}

case "${1:-}" in
start)
	[ $# -eq 2 ] || die "usage: $0 start DIR"
	start "$2"
	;;
stop)
	[ $# -eq 2 ] || die "usage: $0 stop DIR"
	stop "$2"
	;;
*) die "usage: $0 start DIR | stop DIR" ;;
esac
