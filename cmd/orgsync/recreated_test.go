package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
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

// withRecreated adds a recreated_entries block to the source of config cfg.
func withRecreated(t *testing.T, cfg, block string) {
	t.Helper()
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "    guard: {}\n", "    guard: {}\n    recreated_entries: "+block+"\n", 1)
	if s == string(b) {
		t.Fatal("no guard line to add recreated_entries after")
	}
	if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func eventsOf(t *testing.T, cfg string) []orgsync.Event {
	t.Helper()
	st := configStore(t, cfg)
	defer st.Close()
	es, err := st.Events(context.Background(), "acme", 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestRecreatedEntryRekeyedByTheSource: with recreated_entries on, a run
// moves the member of an entry deleted and re-added in a real slapd to the
// new entryUUID, as a rekey change of its own (planned, counted, applied,
// recorded), when email and display name match; a re-created entry whose
// display name differs stays a conflict, and once it matches again the
// member, deprovisioned meanwhile, is rekeyed and reactivated.
func TestRecreatedEntryRekeyedByTheSource(t *testing.T) {
	ldap := startSlapd(t, "testdata/e2e.ldif")
	cfg := ldapConfig(t, ldap.url, "{}")
	withRecreated(t, cfg, "{rekey: true, match: [email, display_name]}")
	if code, _, errOut := cli(t, cfg, "reconcile"); code != 0 {
		t.Fatalf("first reconcile: %d %s", code, errOut)
	}
	if code, _, errOut := cli(t, cfg, "members", "complete-setup", "--org", "acme", "eli@example.org"); code != 0 {
		t.Fatal(errOut)
	}
	before := members(t, cfg)["eli@example.org"]

	recreate(t, ldap, "")
	code, out, _ := cli(t, cfg, "plan", "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, "rekey") || !strings.Contains(out, `external_id "`+before.ExternalID+`" → `) ||
		!strings.Contains(out, "re-created entry: the same user name, email, display_name; the old key is gone from the source") {
		t.Fatalf("plan of a re-created entry with the rule on: exit %d (want 2, changes)\n%s", code, out)
	}
	code, out, errOut := cli(t, cfg, "reconcile", "--format", "json")
	if code != 0 {
		t.Fatalf("reconcile: %d %s", code, errOut)
	}
	if r := parseReport(t, out); r.Runs[0].Summary["rekey"] != 1 || strings.Join(changeSet(r), ",") != "rekey eli@example.org" {
		t.Fatalf("reconcile summary %v, changes %v", r.Runs[0].Summary, changeSet(r))
	}
	after := members(t, cfg)["eli@example.org"]
	if after.ID != before.ID || after.Status != orgsync.StatusActive || after.ExternalID == before.ExternalID ||
		strings.Join(after.Groups, ",") != strings.Join(before.Groups, ",") {
		t.Errorf("after the rekey: %+v, before %+v", after, before)
	}
	es := eventsOf(t, cfg)
	last := es[len(es)-1]
	if last.Kind != orgsync.EventMemberUpdated || last.Actor != "corp-ldap" || last.MemberID != before.ID ||
		!strings.Contains(string(last.Before), before.ExternalID) || !strings.Contains(string(last.After), after.ExternalID) {
		t.Errorf("the rekey's event: %+v", last)
	}
	if code, out, _ := cli(t, cfg, "plan", "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan after the rekey: exit %d, want 0\n%s", code, out)
	}

	// Re-created with another display name: not the same evidence.
	recreate(t, ldap, "")
	ldap.modify(t, "dn: "+eliDN+"\nchangetype: modify\nreplace: cn\ncn: Eli Other\n")
	code, out, _ = cli(t, cfg, "plan", "--detailed-exitcode")
	if code != 4 || !strings.Contains(out, "not re-keyed (recreated_entries): display_name differs") || strings.Contains(out, "rekey eli") {
		t.Fatalf("plan of a re-created entry that does not match: exit %d (want 4)\n%s", code, out)
	}
	// 1 of 10 is within the limits: the old member is deprovisioned.
	if code, _, errOut := cli(t, cfg, "reconcile"); code != 0 {
		t.Fatal(errOut)
	}
	if m := members(t, cfg)["eli@example.org"]; m.Status != orgsync.StatusDeprovisioned || m.ExternalID != after.ExternalID {
		t.Fatalf("eli after a non-matching re-creation: %+v", m)
	}
	ldap.modify(t, "dn: "+eliDN+"\nchangetype: modify\nreplace: cn\ncn: Eli Tester\n")
	code, out, _ = cli(t, cfg, "plan")
	if code != 0 || !strings.Contains(out, "rekey") || !strings.Contains(out, "→ active") {
		t.Fatalf("plan once the entry matches: %d\n%s", code, out)
	}
	if code, _, errOut := cli(t, cfg, "reconcile"); code != 0 {
		t.Fatal(errOut)
	}
	if m := members(t, cfg)["eli@example.org"]; m.ID != before.ID || m.Status != orgsync.StatusActive || m.ExternalID == after.ExternalID {
		t.Errorf("eli after rekey and reactivation: %+v", m)
	}
}

// TestRecreatedEntriesConfig: the rule is checked with the config.
func TestRecreatedEntriesConfig(t *testing.T) {
	cfg := ldapConfig(t, "ldap://127.0.0.1:1", "{}")
	withRecreated(t, cfg, "{rekey: true, match: [employee_number]}")
	if code, _, errOut := cli(t, cfg, "config", "validate"); code != 1 || !strings.Contains(errOut, "recreated_entries.match") {
		t.Errorf("config validate: %d %s", code, errOut)
	}
}
