package main

import (
	"encoding/json"
	"strings"
	"testing"
)

const eliDN = "uid=eli,ou=people,dc=example,dc=org"

// recreate deletes eli's entry and adds it again: a new entryUUID, the same
// person, back in the group the deletion dropped it from.
func recreate(t *testing.T, ldap *slapdServer, extra string) {
	t.Helper()
	ldap.modify(t, "dn: "+eliDN+"\nchangetype: delete\n")
	ldap.modify(t, "dn: "+eliDN+`
changetype: add
objectClass: inetOrgPerson
uid: eli
cn: Eli Tester
givenName: Eli
sn: Tester
mail: eli@example.org
`+extra)
	ldap.modify(t, "dn: cn=engineering,ou=groups,dc=example,dc=org\nchangetype: modify\nadd: member\nmember: "+eliDN+"\n")
}

// TestConflictsNameTheDN: a conflict names the directory entry involved,
// in the text, markdown and JSON reports.
func TestConflictsNameTheDN(t *testing.T) {
	ldap := startSlapd(t, "testdata/e2e.ldif")
	cfg := ldapConfig(t, ldap.url, "{}")
	if code, _, errOut := cli(t, cfg, "reconcile"); code != 0 {
		t.Fatalf("first reconcile: %d %s", code, errOut)
	}
	recreate(t, ldap, "")
	code, out, _ := cli(t, cfg, "plan", "--format", "json")
	var rep struct {
		Runs []struct {
			Conflicts []struct {
				UserName string `json:"user_name"`
				DN       string `json:"dn"`
			} `json:"conflicts"`
		} `json:"runs"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || len(rep.Runs) != 1 || len(rep.Runs[0].Conflicts) != 1 {
		t.Fatalf("plan --format json: %d\n%s", code, out)
	}
	if c := rep.Runs[0].Conflicts[0]; c.UserName != "eli@example.org" || c.DN != eliDN {
		t.Errorf("conflict = %+v, want eli's DN %s", c, eliDN)
	}
	if _, out, _ := cli(t, cfg, "plan"); !strings.Contains(out, "eli@example.org (key ") || !strings.Contains(out, " at "+eliDN+": ") {
		t.Errorf("text plan does not name the DN:\n%s", out)
	}
	if _, out, _ := cli(t, cfg, "plan", "--format", "markdown"); !strings.Contains(out, "at `"+eliDN+"`") {
		t.Errorf("markdown plan does not name the DN:\n%s", out)
	}
}
