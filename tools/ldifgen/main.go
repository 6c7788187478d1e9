// Command ldifgen writes the LDIF that the LDAP tests and the benchmark load
// into a throwaway slapd with slapadd.
//
//	ldifgen -mode fixture > sources/ldap/testdata/fixture.ldif
//	ldifgen -mode bench -users 100000 -groups 1000 -members 200 > bench.ldif
//
// The output has no suffix entry (scripts/slapd.sh writes it with the
// service accounts) and carries memberOf values, because slapadd bypasses the
// memberof overlay. It is deterministic: the same flags give the same bytes.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
)

func main() {
	mode := flag.String("mode", "fixture", "fixture (the integration-test directory) or bench (N generated users)")
	users := flag.Int("users", 100000, "bench: number of users")
	groups := flag.Int("groups", 1000, "bench: number of groups")
	members := flag.Int("members", 200, "bench: members per group")
	suffix := flag.String("suffix", "dc=example,dc=org", "the directory suffix")
	flag.Parse()

	d := newDir(*suffix)
	switch *mode {
	case "fixture":
		fixture(d)
	case "bench":
		if *users < 1 || *groups < 0 || *members < 0 {
			fmt.Fprintln(os.Stderr, "ldifgen: -users must be positive, -groups and -members not negative")
			os.Exit(2)
		}
		bench(d, *users, *groups, *members)
	default:
		fmt.Fprintf(os.Stderr, "ldifgen: unknown -mode %q (fixture or bench)\n", *mode)
		os.Exit(2)
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	if err := d.write(w); err == nil {
		err = w.Flush()
	} else {
		fmt.Fprintln(os.Stderr, "ldifgen:", err)
		os.Exit(1)
	}
}

// bench is n users under ou=people and g groups of m members each, the
// members of group i starting at user i*n/g so that every user is in about
// g*m/n groups.
func bench(d *dir, n, g, m int) {
	d.add("ou=people,"+d.suffix, "objectClass", "organizationalUnit", "ou", "people")
	d.add("ou=groups,"+d.suffix, "objectClass", "organizationalUnit", "ou", "groups")
	dns := make([]string, n)
	for i := range n {
		uid := fmt.Sprintf("user%06d", i)
		dns[i] = "uid=" + uid + ",ou=people," + d.suffix
		attrs := []string{
			"objectClass", "inetOrgPerson", "uid", uid, "cn", fmt.Sprintf("User %06d", i),
			"givenName", "User", "sn", fmt.Sprintf("N%06d", i), "mail", uid + "@example.org",
		}
		if i%50 == 0 {
			attrs = append(attrs, "employeeType", "disabled")
		}
		d.add(dns[i], attrs...)
	}
	for j := range g {
		cn := fmt.Sprintf("group%04d", j)
		attrs := []string{"objectClass", "groupOfNames", "cn", cn}
		start := j * n / max(g, 1)
		for k := range min(m, n) {
			attrs = append(attrs, "member", dns[(start+k)%n])
		}
		d.add("cn="+cn+",ou=groups,"+d.suffix, attrs...)
	}
}
