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

// TestReconcileMaxDeprovision: --max-deprovision N lets N deprovisions of
// one run through, no more, and leaves the config's limits for the next.
func TestReconcileMaxDeprovision(t *testing.T) {
	ldap := startSlapd(t, "testdata/e2e.ldif")
	cfg := ldapConfig(t, ldap.url, "{}")
	if code, _, errOut := cli(t, cfg, "reconcile"); code != 0 {
		t.Fatalf("first reconcile: %d %s", code, errOut)
	}
	for _, u := range []string{"eli", "dee"} {
		ldap.modify(t, "dn: uid="+u+",ou=people,dc=example,dc=org\nchangetype: delete\n")
	}
	// 2 of 10 is 20 %, above the default 10 %.
	if code, _, errOut := cli(t, cfg, "reconcile"); code != 3 {
		t.Fatalf("reconcile of 20%% deprovisions: exit %d, want 3\n%s", code, errOut)
	}
	if code, _, errOut := cli(t, cfg, "reconcile", "--max-deprovision", "1"); code != 3 || !strings.Contains(errOut, "max_deprovision (1)") {
		t.Fatalf("--max-deprovision 1 with 2 due: exit %d, want 3\n%s", code, errOut)
	}
	if code, _, errOut := cli(t, cfg, "reconcile", "--max-deprovision", "-2"); code != 1 {
		t.Fatalf("--max-deprovision -2: exit %d, want 1\n%s", code, errOut)
	}
	if code, out, errOut := cli(t, cfg, "reconcile", "--max-deprovision", "2"); code != 0 || !strings.Contains(out, "deprovision 2") {
		t.Fatalf("--max-deprovision 2: exit %d\n%s\n%s", code, out, errOut)
	}
	ms := members(t, cfg)
	if ms["eli@example.org"].Status != orgsync.StatusDeprovisioned || ms["dee@example.org"].Status != orgsync.StatusDeprovisioned {
		t.Errorf("after --max-deprovision 2: eli %s, dee %s", ms["eli@example.org"].Status, ms["dee@example.org"].Status)
	}
}
