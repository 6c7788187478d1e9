package reconciler

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// sampleReports covers every action and every way a run ends.
func sampleReports() []Report {
	desired := orgsync.Snapshot{
		Members: []orgsync.Member{
			desiredUser("k1", "alice@example.org"),
			desiredUser("k2", "bob@example.org", displayName("Bob Builder"), role("admin")),
			desiredUser("k3", "carol@example.org"),
			desiredUser("k4", "dan@example.org", disabled),
			desiredUser("k6", "frank@example.org"),
			desiredUser("k7", "grace@example.org", email("dup@example.org")),
			desiredUser("k8", "heidi@example.org", email("DUP@example.org")),
			desiredUser("k9", "ivan@example.org"),
		},
		Groups: []orgsync.Group{
			group("g1", "engineering", []string{"k1", "k2"}, "g3"),
			group("g2", "platform-team", []string{"k3"}),
			group("g3", "sre", []string{"k9"}),
		},
		Warnings: []string{`entry "uid=zed,ou=people": no mail attribute, skipped`},
	}
	observed := orgsync.Snapshot{
		Members: []orgsync.Member{
			member("m2", src, "k2", "bob@example.org", active),
			member("m3", src, "k3", "carol@example.org", deprov, setupDone),
			member("m4", src, "k4", "dan@example.org", active),
			member("m5", src, "k5", "erin@example.org", pending),
			member("m6", "", "", "frank.old", active, email("frank@example.org")),
			member("s1", orgsync.OwnerSCIM, "e1", "ivan@example.org", pending),
		},
		Groups: []orgsync.Group{
			ownedGroup("G1", src, "g1", "engineering", "m2", "m5"),
			ownedGroup("G2", src, "g2", "platform", "m4", "m2"),
			ownedGroup("G4", src, "g4", "legacy"),
		},
	}
	plan := Diff(desired, observed, Options{Org: "acme", Owner: src})
	dry := Report{
		Org: "acme", Source: src, Plan: plan, Guard: CheckGuards(plan, len(desired.Members), GuardConfig{MaxDeprovision: 25, MaxDeprovisionPercent: 50}),
		DryRun: true, PendingSetup: pendingAfter(observed, &plan, true), ProvisionedPending: plannedProvisions(&plan),
	}

	small := Diff(orgsync.Snapshot{Members: []orgsync.Member{desiredUser("k1", "alice@example.org")}},
		orgsync.Snapshot{Members: []orgsync.Member{member("m9", src, "k9", "old@example.org", active)}},
		Options{Org: "acme", Owner: src})
	counts := small.Summary()
	applied := Report{
		Org: "acme", Source: src, Plan: small, RunID: 42,
		Applied:      &orgsync.Applied{Counts: counts, Provisioned: []string{"alice@example.org"}},
		PendingSetup: []string{"alice@example.org", "zoe@example.org"}, ProvisionedPending: []string{"alice@example.org"},
	}
	forced := applied
	forced.Applied = &orgsync.Applied{Counts: counts, Provisioned: []string{"alice@example.org"},
		Skipped: []string{`update bob@example.org: new user name is taken by a member owned by "scim"`}}
	forced.Guard = orgsync.Decision{Blocked: true, Forced: true, Reason: "1 deprovisions are 100.0% of the 1 active owned members, above guard.max_deprovision_percent (10%)"}
	blocked := Report{
		Org: "acme", Source: src, Plan: small, RunID: 43,
		Guard:        CheckGuards(small, 1, GuardConfig{MaxDeprovision: 0, MaxDeprovisionPercent: 10}),
		Error:        "reconciler: corp: refused by guard: ...",
		PendingSetup: []string{"zoe@example.org"}, ProvisionedPending: []string{},
	}
	failed := Report{Org: "acme", Source: "idp-scim", Plan: orgsync.Plan{Org: "acme", Owner: "idp-scim", Changes: []orgsync.Change{}},
		RunID: 44, Error: "reconciler: idp-scim: read source: scim: GET /Users page 3: 503 Service Unavailable"}
	inSync := Report{Org: "beta", Source: "beta-ldap", Plan: orgsync.Plan{Org: "beta", Owner: "beta-ldap", Changes: []orgsync.Change{}},
		Applied: &orgsync.Applied{Counts: orgsync.Plan{}.Summary()}, PendingSetup: []string{}, ProvisionedPending: []string{}}
	return []Report{dry, applied, forced, blocked, failed, inSync}
}

func TestRenderGolden(t *testing.T) {
	reports := sampleReports()
	for _, tt := range []struct {
		file, format string
		color        bool
	}{
		{"reports.txt", "text", false},
		{"reports.color.txt", "text", true},
		{"reports.md", "markdown", false},
		{"reports.json", "json", false},
	} {
		t.Run(tt.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := Render(&b, reports, tt.format, tt.color); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.file, b.Bytes())
			if !tt.color && strings.Contains(b.String(), "\x1b[") {
				t.Error("ANSI escapes without color")
			}
		})
	}
}

func TestRenderEndsWithPendingSetup(t *testing.T) {
	for _, format := range []string{"text", "markdown"} {
		for _, r := range sampleReports() {
			var b bytes.Buffer
			if err := Render(&b, []Report{r}, format, false); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(b.String()), "\n")
			if last := lines[len(lines)-1]; !strings.Contains(last, "Awaiting master-key creation") {
				t.Errorf("%s report of %s ends with %q", format, r.Source, last)
			}
		}
	}
}

func TestDetailedExitCode(t *testing.T) {
	r := sampleReports()
	for _, tt := range []struct {
		name    string
		reports []Report
		want    int
	}{
		{"no changes", []Report{r[5]}, 0},
		{"changes", []Report{r[5], r[1]}, 2},
		{"a guard would block", []Report{r[1], r[3], r[5]}, 3},
		{"forced is not blocked", []Report{r[2]}, 2},
	} {
		if got := DetailedExitCode(tt.reports); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestRenderUnknownFormat(t *testing.T) {
	if err := Render(&bytes.Buffer{}, nil, "yaml", false); !errors.Is(err, orgsync.ErrInvalid) {
		t.Errorf("err = %v, want ErrInvalid", err)
	}
}

// TestJSONContract checks the shape docs/formats.md promises for
// `plan --format json`, independently of the golden file.
func TestJSONContract(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, sampleReports()[:2], "json", false); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Runs []map[string]json.RawMessage `json:"runs"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Runs) != 2 {
		t.Fatalf("%d runs", len(doc.Runs))
	}
	run := doc.Runs[0]
	for _, k := range []string{"org", "source", "summary", "changes", "guard", "applied"} {
		if _, ok := run[k]; !ok {
			t.Errorf("run lacks %q", k)
		}
	}
	var summary map[string]int
	mustUnmarshal(t, run["summary"], &summary)
	for _, k := range []string{"provision", "update", "deprovision", "reactivate", "group_create", "group_update", "group_delete", "member_add", "member_remove"} {
		if _, ok := summary[k]; !ok {
			t.Errorf("summary lacks %q", k)
		}
	}
	var guard map[string]any
	mustUnmarshal(t, run["guard"], &guard)
	if _, ok := guard["blocked"].(bool); !ok {
		t.Errorf("guard.blocked = %v", guard["blocked"])
	}
	if _, ok := guard["reason"].(string); !ok {
		t.Errorf("guard.reason = %v", guard["reason"])
	}
	var applied [2]bool
	mustUnmarshal(t, run["applied"], &applied[0])
	mustUnmarshal(t, doc.Runs[1]["applied"], &applied[1])
	if applied != [2]bool{false, true} {
		t.Errorf("applied = %v, want dry run false, applied run true", applied)
	}
	var changes []map[string]json.RawMessage
	mustUnmarshal(t, run["changes"], &changes)
	seen := map[string]bool{}
	for _, c := range changes {
		var action string
		mustUnmarshal(t, c["action"], &action)
		seen[action] = true
		_, hasFields := c["fields"]
		_, hasGroup := c["group"]
		_, hasUser := c["user_name"]
		switch action {
		case "provision":
			if string(c["fields"]) != "{}" || !hasUser {
				t.Errorf("provision change %s: want user_name and fields {}", c)
			}
		case "member_add", "member_remove":
			if hasFields || !hasGroup || !hasUser {
				t.Errorf("%s change: want group and user_name, no fields: %s", action, c)
			}
		}
	}
	for _, a := range []string{"provision", "update", "deprovision", "reactivate", "adopt", "group_create", "group_update", "group_delete", "member_add", "member_remove"} {
		if !seen[a] {
			t.Errorf("sample plan has no %s change", a)
		}
	}
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
}

func TestPendingLineIsCapped(t *testing.T) {
	r := Report{Org: "acme", Source: src, Plan: orgsync.Plan{Changes: []orgsync.Change{}}, PendingSetup: []string{}, Applied: &orgsync.Applied{}}
	for i := range 60 {
		r.ProvisionedPending = append(r.ProvisionedPending, fmt.Sprintf("u%02d@x", i))
	}
	r.PendingSetup = r.ProvisionedPending
	var text, js bytes.Buffer
	if err := Render(&text, []Report{r}, "text", false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "60 members; this run provisioned 60: u00@x,") || !strings.Contains(text.String(), "u49@x and 10 more.") {
		t.Errorf("text:\n%s", text.String())
	}
	if err := Render(&js, []Report{r}, "json", false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"u59@x"`) {
		t.Error("the JSON report does not list every provisioned member")
	}
}

// After an apply, the members awaiting setup are those the store really
// provisioned, not all the plan meant to: a provision it skipped (the name
// was taken meanwhile) is not pending.
func TestPendingAfterApplyCountsWhatWasProvisioned(t *testing.T) {
	observed := orgsync.Snapshot{Members: []orgsync.Member{
		member("m1", src, "k1", "carol@x", pending),
		member("m2", src, "k2", "dan@x", pending),
		member("m3", src, "k3", "erin@x", active),
	}}
	plan := orgsync.Plan{Changes: []orgsync.Change{
		{Action: orgsync.ActionProvision, UserName: "alice@x", MemberKey: "k4"},
		{Action: orgsync.ActionProvision, UserName: "bob@x", MemberKey: "k5"},
		{Action: orgsync.ActionDeprovision, UserName: "carol@x", MemberID: "m1"},
	}}
	if got, want := pendingAfter(observed, &plan, true), []string{"alice@x", "bob@x", "dan@x"}; !slices.Equal(got, want) {
		t.Errorf("projected: %q, want %q", got, want)
	}
	if got, want := pendingApplied(observed, &plan, []string{"alice@x"}), []string{"alice@x", "dan@x"}; !slices.Equal(got, want) {
		t.Errorf("applied: %q, want %q", got, want)
	}
	for _, none := range [][]string{{}, nil} { // a store reports none as nil
		if got, want := pendingApplied(observed, &plan, none), []string{"dan@x"}; !slices.Equal(got, want) {
			t.Errorf("nothing provisioned (%#v): %q, want %q", none, got, want)
		}
	}
}
