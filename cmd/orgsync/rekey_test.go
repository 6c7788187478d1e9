package main

import (
	"context"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
)

// TestRecreatedEntryRekey: an LDAP entry deleted and added again (a new
// entryUUID, the same person) is a conflict that plan --detailed-exitcode
// reports (4) with how to resolve it; `members rekey` moves the member to
// the new key, and the next plan has nothing to do: same id, setup state
// and groups.
func TestRecreatedEntryRekey(t *testing.T) {
	ldap := startSlapd(t, "testdata/e2e.ldif")
	cfg := ldapConfig(t, ldap.url, "{}")
	if code, _, errOut := cli(t, cfg, "reconcile"); code != 0 {
		t.Fatalf("first reconcile: %d %s", code, errOut)
	}
	if code, _, errOut := cli(t, cfg, "members", "complete-setup", "--org", "acme", "eli@example.org"); code != 0 {
		t.Fatal(errOut)
	}
	before := members(t, cfg)["eli@example.org"]

	ldap.modify(t, "dn: uid=eli,ou=people,dc=example,dc=org\nchangetype: delete\n")
	ldap.modify(t, `dn: uid=eli,ou=people,dc=example,dc=org
changetype: add
objectClass: inetOrgPerson
uid: eli
cn: Eli Tester
givenName: Eli
sn: Tester
mail: eli@example.org
`)
	// The directory dropped the deleted entry from its group: put it back,
	// as an administrator re-creating the person would.
	ldap.modify(t, "dn: cn=engineering,ou=groups,dc=example,dc=org\nchangetype: modify\nadd: member\nmember: uid=eli,ou=people,dc=example,dc=org\n")
	code, out, _ := cli(t, cfg, "plan", "--detailed-exitcode")
	if code != 4 {
		t.Fatalf("plan of a re-created entry: exit %d, want 4 (conflicts)\n%s", code, out)
	}
	if !strings.Contains(out, "orgsync members rekey --org acme eli@example.org --source corp-ldap") {
		t.Errorf("the plan does not say how to resolve the conflict:\n%s", out)
	}

	// Refusals first: not the member's source, no such member.
	if code, _, errOut := cli(t, cfg, "members", "rekey", "--org", "acme", "eli@example.org"); code != 1 || !strings.Contains(errOut, "--source is required") {
		t.Errorf("rekey without --source: %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, cfg, "members", "rekey", "--org", "acme", "nobody@example.org", "--source", "corp-ldap"); code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("rekey of an unknown member: %d %q", code, errOut)
	}
	// ada's entry is still in the directory: nothing to rekey.
	if code, _, errOut := cli(t, cfg, "members", "rekey", "--org", "acme", "ada@example.org", "--source", "corp-ldap"); code != 1 || !strings.Contains(errOut, "was not re-created") {
		t.Errorf("rekey of a member whose entry is there: %d %q", code, errOut)
	}

	code, out, errOut := cli(t, cfg, "members", "rekey", "--org", "acme", "eli@example.org", "--source", "corp-ldap")
	if code != 0 || !strings.Contains(out, "eli@example.org: key") {
		t.Fatalf("rekey: %d %s %s", code, out, errOut)
	}
	if code, out, _ := cli(t, cfg, "plan", "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan after the rekey: exit %d, want 0\n%s", code, out)
	}
	after := members(t, cfg)["eli@example.org"]
	if after.ID != before.ID || after.Status != orgsync.StatusActive || after.ExternalID == before.ExternalID ||
		strings.Join(after.Groups, ",") != strings.Join(before.Groups, ",") {
		t.Errorf("after the rekey: %+v, before %+v", after, before)
	}
	st := configStore(t, cfg)
	defer st.Close()
	events, _ := st.Events(context.Background(), "acme", 0, 10000)
	last := events[len(events)-1]
	if last.Kind != orgsync.EventMemberUpdated || last.Actor != "cli" || !strings.Contains(string(last.After), after.ExternalID) {
		t.Errorf("the rekey's event: %+v", last)
	}
}
