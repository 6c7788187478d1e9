package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/testenv"
	"github.com/orgsync/orgsync/reconciler"
)

// renameInConfig rewrites source name from to to in the config file cfg.
func renameInConfig(t *testing.T, cfg, from, to string) {
	t.Helper()
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "name: "+from+"\n", "name: "+to+"\n", 1)
	if s == string(b) {
		t.Fatalf("no source %s in %s", from, b)
	}
	if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

type orphanReport struct {
	Runs []struct {
		Source    string            `json:"source"`
		Summary   map[string]int    `json:"summary"`
		Conflicts []json.RawMessage `json:"conflicts"`
	} `json:"runs"`
	Orphans []reconciler.Orphan `json:"orphans"`
}

// TestRenamedLDAPSourceKeepsItsMembers: a source renamed in the config
// orphans its members. Until they are handed over, plan lists the orphaned
// owner and says what happens to them (nothing: no run deprovisions or
// duplicates them); after `sources rename`, the source's next run against
// the real slapd changes nothing: no member is deprovisioned, none is
// provisioned a second time, and they keep their ids.
func TestRenamedLDAPSourceKeepsItsMembers(t *testing.T) {
	ldap := startSlapd(t, "testdata/e2e.ldif")
	cfg := ldapConfig(t, ldap.url, "{max_deprovision: 2, max_deprovision_percent: 25}")
	if code, out, errOut := cli(t, cfg, "reconcile", "--format", "json"); code != 0 {
		t.Fatalf("first reconcile: %d\n%s\n%s", code, out, errOut)
	}
	before := members(t, cfg)
	if len(before) != 10 {
		t.Fatalf("%d members after the first reconcile", len(before))
	}

	renameInConfig(t, cfg, "corp-ldap", "dir-ldap")

	// plan names the orphaned owner, in JSON beside the runs and in text.
	code, out, errOut := cli(t, cfg, "plan", "--format", "json")
	var rep orphanReport
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || len(rep.Runs) != 1 {
		t.Fatalf("plan: %d %s %s", code, out, errOut)
	}
	want := reconciler.Orphan{Org: "acme", Owner: "corp-ldap", Members: 10, Live: 10, Groups: 2, Successor: "dir-ldap"}
	if len(rep.Orphans) != 1 || rep.Orphans[0] != want {
		t.Errorf("orphans = %+v, want [%+v]", rep.Orphans, want)
	}
	// The new name's plan changes nothing: each user name belongs to a
	// member (and each group name to a group) of another owner: conflicts
	// it skips.
	if s := rep.Runs[0].Summary; s["deprovision"] != 0 || s["provision"] != 0 || len(rep.Runs[0].Conflicts) != 12 {
		t.Errorf("the renamed source plans %v with %d conflicts", s, len(rep.Runs[0].Conflicts))
	}
	code, out, _ = cli(t, cfg, "plan")
	for _, w := range []string{"orphaned owners (1)", "corp-ldap in org acme: 10 members (10 with access), 2 groups",
		"keep their access", "no run deprovisions", "renamed to `dir-ldap`", "orgsync sources rename corp-ldap dir-ldap --org acme"} {
		if !strings.Contains(out, w) {
			t.Errorf("text plan lacks %q:\n%s", w, out)
		}
	}
	// Its conflicts need a person (4); the orphans themselves change no
	// exit code.
	if code, _, _ := cli(t, cfg, "plan", "--detailed-exitcode"); code != 4 {
		t.Errorf("plan --detailed-exitcode: %d, want 4 (conflicts, no changes)", code)
	}
	// serve warns about them when it starts (its scheduled runs show no plan).
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(b), "log: {level: error", "log: {level: warn", 1)), 0o600)
	_, _, logs, stop := startServeLogged(t, cfg)
	stop()
	if !strings.Contains(logs.String(), `owner \"corp-ldap\" is no source of org \"acme\" in the config`) {
		t.Errorf("serve did not warn about the orphaned owner:\n%s", logs)
	}
	code, out, _ = cli(t, cfg, "sources", "list")
	if code != 0 || !strings.Contains(out, "corp-ldap") || !strings.Contains(out, "orphaned") || !strings.Contains(out, "dir-ldap") {
		t.Errorf("sources list: %d\n%s", code, out)
	}

	// Without the rename, a run of the new name duplicates and
	// deprovisions nobody: the store refuses the taken user names.
	if code, out, errOut := cli(t, cfg, "reconcile", "--format", "json"); code != 0 {
		t.Fatalf("reconcile before the rename: %d\n%s\n%s", code, out, errOut)
	}
	mid := members(t, cfg)
	for name, m := range before {
		if got := mid[name]; got.ID != m.ID || got.Status != m.Status || got.Owner != "corp-ldap" {
			t.Errorf("%s before the rename: %+v", name, got)
		}
	}
	if len(mid) != len(before) {
		t.Errorf("%d members, want %d", len(mid), len(before))
	}

	code, out, errOut = cli(t, cfg, "sources", "rename", "corp-ldap", "dir-ldap")
	if code != 0 || !strings.Contains(out, `moved 10 members and 2 groups of org "acme" from "corp-ldap" to "dir-ldap"`) {
		t.Fatalf("sources rename: %d %q %q", code, out, errOut)
	}

	code, out, errOut = cli(t, cfg, "reconcile", "--format", "json")
	rep = orphanReport{}
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatalf("reconcile after the rename: %d %s %s", code, out, errOut)
	}
	for action, n := range rep.Runs[0].Summary {
		if n != 0 {
			t.Errorf("reconcile after the rename plans %d %s", n, action)
		}
	}
	if len(rep.Orphans) != 0 {
		t.Errorf("orphans after the rename: %+v", rep.Orphans)
	}
	after := members(t, cfg)
	if len(after) != len(before) {
		t.Errorf("%d members after the rename, want %d", len(after), len(before))
	}
	for name, m := range before {
		got := after[name]
		if got.ID != m.ID || got.Status != m.Status || got.Owner != "dir-ldap" || got.ExternalID != m.ExternalID || len(got.Groups) != len(m.Groups) {
			t.Errorf("%s after the rename: %+v, was %+v", name, got, m)
		}
	}

	// The directory goes on being reconciled under the new name.
	ldap.modify(t, "dn: uid=ben,ou=people,dc=example,dc=org\nchangetype: modify\nreplace: employeeType\nemployeeType: disabled\n")
	if code, out, errOut := cli(t, cfg, "reconcile", "--format", "json"); code != 0 {
		t.Fatalf("reconcile: %d\n%s\n%s", code, out, errOut)
	}
	if m := members(t, cfg)["ben@example.org"]; m.Status != orgsync.StatusDeprovisioned || m.ID != before["ben@example.org"].ID {
		t.Errorf("ben, disabled in the directory: %+v", m)
	}
}

// TestSourcesRenameCommand runs `sources rename` and `sources list` against
// both store backends: what it moves, what it prints, what it refuses.
func TestSourcesRenameCommand(t *testing.T) {
	for _, b := range []struct {
		name string
		cfg  func(t *testing.T, sources string) string
	}{
		{"sqlite", writeConfig},
		{"postgres", func(t *testing.T, sources string) string {
			dsn := testenv.PostgresDatabase(t)
			path := filepath.Join(t.TempDir(), "orgsync.yaml")
			os.WriteFile(path, []byte(`database: {driver: postgres, dsn: "`+dsn+`"}
log: {level: error, format: json}
orgs:
  - {id: acme, name: Acme}
  - {id: beta, name: Beta}
`+sources), 0o600)
			return path
		}},
	} {
		t.Run(b.name, func(t *testing.T) { testSourcesRename(t, b.cfg) })
	}
}

func testSourcesRename(t *testing.T, config func(t *testing.T, sources string) string) {
	cfg := config(t, `sources:
  - name: new-scim
    org: acme
    type: scim
    scim: {base_url: "http://127.0.0.1:1/scim/v2", token: x}
  - name: still-here
    org: acme
    type: scim
    scim: {base_url: "http://127.0.0.1:1/scim/v2", token: x}
`)
	ctx := context.Background()
	st := configStore(t, cfg)
	seed := func(org, owner string, names ...string) {
		p := orgsync.Plan{Org: org, Owner: owner}
		for _, n := range names {
			p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionProvision, UserName: n, MemberKey: "k-" + n, Member: &orgsync.Member{UserName: n}})
		}
		if _, err := st.Apply(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	seed("acme", "old-scim", "a@example.org", "b@example.org")
	seed("acme", "still-here", "c@example.org")
	seed("beta", "old-scim", "d@example.org")
	seed("acme", "busy", "e@example.org")
	st.Close()

	code, out, _ := cli(t, cfg, "sources", "list", "--format", "json")
	var rows []sourceRow
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil {
		t.Fatalf("sources list: %d %s", code, out)
	}
	got := map[string]sourceRow{}
	for _, r := range rows {
		got[r.Org+"/"+r.Name] = r
	}
	for k, w := range map[string]sourceRow{
		"acme/new-scim":   {Org: "acme", Name: "new-scim", Type: "scim", Configured: true, State: "configured"},
		"acme/still-here": {Org: "acme", Name: "still-here", Type: "scim", Configured: true, State: "configured", Members: 1, Live: 1},
		"acme/old-scim":   {Org: "acme", Name: "old-scim", Type: "-", State: "orphaned", Members: 2, Live: 2},
		"beta/old-scim":   {Org: "beta", Name: "old-scim", Type: "-", State: "orphaned", Members: 1, Live: 1},
		"acme/busy":       {Org: "acme", Name: "busy", Type: "-", State: "orphaned", Members: 1, Live: 1},
	} {
		if got[k] != w {
			t.Errorf("sources list %s = %+v, want %+v", k, got[k], w)
		}
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"nobody", "new-scim"}, "owns no member"},
		{[]string{"still-here", "new-scim"}, "still in the config"},
		{[]string{"old-scim", "still-here"}, "already owns 1 members"},
		{[]string{"old-scim", "scim"}, "reserved"},
		{[]string{"scim", "new-scim"}, "reserved"},
		{[]string{"old-scim", "Bad Name"}, "a source name is"},
		{[]string{"old-scim", "new-scim", "--org", "beta"}, `reconciles org "acme", not "beta"`},
		{[]string{"old-scim", "elsewhere"}, "--org is required"},
		{[]string{"old-scim", "new-scim", "--org", "gamma"}, "not in the config"},
	} {
		code, out, errOut := cli(t, cfg, append([]string{"sources", "rename"}, tc.args...)...)
		if code != 1 || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("sources rename %v: %d %q %q, want exit 1 with %q", tc.args, code, out, errOut, tc.want)
		}
	}

	code, out, errOut := cli(t, cfg, "sources", "rename", "old-scim", "new-scim")
	if code != 0 || !strings.Contains(out, `moved 2 members and 0 groups of org "acme" from "old-scim" to "new-scim"`) ||
		!strings.Contains(out, `the next run of "new-scim" reconciles them`) {
		t.Fatalf("sources rename: %d %q %q", code, out, errOut)
	}
	// Again: old-scim owns nothing in acme any more.
	if code, _, errOut := cli(t, cfg, "sources", "rename", "old-scim", "new-scim"); code != 1 || !strings.Contains(errOut, "owns no member") {
		t.Errorf("second rename: %d %q", code, errOut)
	}
	// --merge hands over onto an owner that has members of its own.
	if code, out, errOut := cli(t, cfg, "sources", "rename", "busy", "new-scim", "--merge"); code != 0 || !strings.Contains(out, "moved 1 member and 0 groups") {
		t.Errorf("rename --merge: %d %q %q", code, out, errOut)
	}
	// A name not in the config: done, with a note.
	if code, out, errOut := cli(t, cfg, "sources", "rename", "old-scim", "parked", "--org", "beta"); code != 0 || !strings.Contains(out, "moved 1 member") ||
		!strings.Contains(errOut, "stay unreconciled") {
		t.Errorf("rename to a name not in the config: %d %q %q", code, out, errOut)
	}

	st = configStore(t, cfg)
	defer st.Close()
	a, err := st.Member(ctx, "acme", "a@example.org")
	if err != nil || a.Owner != "new-scim" {
		t.Errorf("a@example.org after the rename: %+v %v", a, err)
	}
	if d, _ := st.Member(ctx, "beta", "d@example.org"); d.Owner != "parked" {
		t.Errorf("d@example.org of beta: owner %q", d.Owner)
	}
	evs, err := st.Events(ctx, "", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	renames := 0
	for _, e := range evs {
		if e.Kind == orgsync.EventSourceRenamed {
			renames++
		}
	}
	if renames != 3 {
		t.Errorf("%d source.renamed events, want 3", renames)
	}
}
