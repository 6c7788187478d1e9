package main

import "fmt"

// fixture is the directory the sources/ldap integration tests assert on;
// sources/ldap/integration_test.go documents what each entry is for.
func fixture(d *dir) {
	s := d.suffix
	people, groups := "ou=people,"+s, "ou=groups,"+s
	d.add(people, "objectClass", "organizationalUnit", "ou", "people")
	d.add("ou=bulk,"+people, "objectClass", "organizationalUnit", "ou", "bulk")
	d.add("ou=contractors,"+s, "objectClass", "organizationalUnit", "ou", "contractors")
	d.add(groups, "objectClass", "organizationalUnit", "ou", "groups")

	person := func(rdn, uid, given, sn, mail string, extra ...string) string {
		dn := rdn + "," + people
		attrs := []string{"objectClass", "inetOrgPerson", "uid", uid, "cn", given + " " + sn, "givenName", given, "sn", sn}
		if mail != "" {
			attrs = append(attrs, "mail", mail)
		}
		d.add(dn, append(attrs, extra...)...)
		return dn
	}
	// alice and bob carry the enterprise attributes a source can map
	// (title, employeeNumber, departmentNumber, manager).
	alice := person("uid=alice", "alice", "Alice", "Archer", "alice@example.org",
		"title", "Head of Ops", "employeeNumber", "7", "departmentNumber", "Ops")
	bob := person("uid=bob", "bob", "Bob", "Baker", "bob@example.org", "title", "Engineer", "manager", alice)
	carol := person("uid=carol", "carol", "Carol", "Cole", "carol@example.org", "employeeType", "disabled")
	dave := person("uid=dave", "dave", "Dave", "Dunn", "") // no mail: skipped with a warning
	eve := person("uid=eve", "eve", "Eve", "Evans", "dup@example.org")
	eve2 := person("uid=eve2", "eve2", "Eve", "Evans", "DUP@example.org") // same user name, folded
	person("uid=grace", "grace", "Grace", "Green", "grace@example.org")   // in scope only without require_group
	henry := person("uid=henry", "henry", "Henry", "Hill", "henry@example.org")
	person("uid=zoe", "zoe", "Zoë", "Ångström", "zoe@example.org")
	// Non-ASCII DN, referenced below in another case.
	d.add("cn=Jürgen Müller,"+people, "objectClass", "inetOrgPerson", "uid", "juergen", "cn", "Jürgen Müller",
		"givenName", "Jürgen", "sn", "Müller", "mail", "juergen@example.org")
	// A DN that needs escaping: a quote, a comma and a plus in the RDN value.
	d.add(`cn=Pat O\"Brien\, Jr\+x,`+people, "objectClass", "inetOrgPerson", "uid", "pat", "cn", `Pat O"Brien, Jr+x`,
		"givenName", "Pat", "sn", `O"Brien`, "mail", "pat@example.org")
	// Outside user.base_dn, though a member of kms-users.
	frank := "uid=frank,ou=contractors," + s
	d.add(frank, "objectClass", "inetOrgPerson", "uid", "frank", "cn", "Frank Fox", "sn", "Fox", "mail", "frank@example.org")

	bulk := make([]string, 3000)
	for i := range bulk {
		uid := fmt.Sprintf("bulk%04d", i)
		bulk[i] = "uid=" + uid + ",ou=bulk," + people
		d.add(bulk[i], "objectClass", "inetOrgPerson", "uid", uid, "cn", "Bulk "+uid, "sn", uid, "mail", uid+"@example.org")
	}

	group := func(cn string, members ...string) {
		attrs := []string{"objectClass", "groupOfNames", "cn", cn}
		for _, m := range members {
			attrs = append(attrs, "member", m)
		}
		d.add("cn="+cn+","+groups, attrs...)
	}
	group("kms-users", alice, carol, dave, eve, eve2, "uid=ZOE,OU=People,"+s,
		"CN=JÜRGEN MÜLLER,ou=people,"+s, `CN=Pat O\22Brien\2C Jr\2Bx,OU=People,DC=Example,DC=Org`,
		frank, "cn=engineering,"+groups)
	group("engineering", bob, "cn=platform,"+groups)
	group("platform", henry, "cn=engineering,"+groups) // a cycle with engineering
	group("kms-admins", alice)
	group("big", bulk...)
	d.add("cn=uniq,"+groups, "objectClass", "groupOfUniqueNames", "cn", "uniq",
		"uniqueMember", alice+"#'0101'B", "uniqueMember", bob)
	d.add("cn=posix,"+groups, "objectClass", "posixGroup", "cn", "posix", "gidNumber", "5000",
		"memberUid", "alice", "memberUid", "bob", "memberUid", "nosuch")
}
