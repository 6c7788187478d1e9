package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
)

var updatePlanGolden = flag.Bool("update-planfile", false, "rewrite testdata/planfile/*.golden.json")

// samplePlanReport is a report whose plan has every kind of change a file
// must carry whole: a provision (with the member it sets), a group create
// (with its group), a membership, a deprovision and a conflict with a DN.
func samplePlanReport() reconciler.Report {
	desired := orgsync.Snapshot{
		Members: []orgsync.Member{
			{ExternalID: "k1", UserName: "ann@example.org", Emails: []orgsync.Email{{Value: "ann@example.org", Primary: true}}, DisplayName: "Ann", Status: orgsync.StatusActive},
			{ExternalID: "k2", UserName: "bo@example.org", Emails: []orgsync.Email{{Value: "dup@example.org", Primary: true}}, Status: orgsync.StatusActive, DN: "uid=bo,ou=people"},
			{ExternalID: "k3", UserName: "cy@example.org", Emails: []orgsync.Email{{Value: "dup@example.org", Primary: true}}, Status: orgsync.StatusActive, DN: "uid=cy,ou=people"},
		},
		Groups: []orgsync.Group{{ExternalID: "g1", DisplayName: "eng", Members: []string{"k1"}}},
	}
	observed := orgsync.Snapshot{Members: []orgsync.Member{
		{ID: "m9", Org: "acme", UserName: "old@example.org", ExternalID: "k9", Owner: "corp", Status: orgsync.StatusActive, Role: "member", Version: 3},
	}}
	plan := reconciler.Diff(desired, observed, reconciler.Options{Org: "acme", Owner: "corp", DefaultRole: "member"})
	return reconciler.Report{Org: "acme", Source: "corp", Plan: plan, Digest: reconciler.Digests(desired, observed, plan)}
}

// TestPlanFileFormat: the file is the documented version 1 layout
// (golden), it reads back to the same plan and digest, and an edit to its
// changes is caught.
func TestPlanFileFormat(t *testing.T) {
	rep := samplePlanReport()
	two := 2
	f := newPlanFile(rep, planOverrides{MaxDeprovision: &two}, time.Date(2026, 12, 2, 16, 20, 0, 0, time.UTC))
	f.OrgsyncVersion = "test"
	dir := t.TempDir()
	path := filepath.Join(dir, "p.plan")
	if err := writePlanFile(path, f); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	golden := filepath.Join("testdata", "planfile", "sample.golden.json")
	if *updatePlanGolden {
		os.WriteFile(golden, got, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update-planfile)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("plan file differs from %s (run with -update-planfile):\n%s", golden, got)
	}

	back, err := readPlanFile(path)
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if back.Digest != rep.Digest || reconciler.PlanDigest(back.plan()) != rep.Digest.Plan {
		t.Errorf("read back with digest %+v, want %+v", back.Digest, rep.Digest)
	}
	if back.Overrides.maxDeprovision() != 2 || back.Overrides.AllowEmpty {
		t.Errorf("overrides read back as %+v", back.Overrides)
	}

	for name, edit := range map[string]func(string) string{
		"a member's role": func(s string) string { return strings.Replace(s, `"role": "member"`, `"role": "admin"`, 1) },
		"a change gone": func(s string) string {
			return strings.Replace(s, `"action": "deprovision"`, `"action": "update"`, 1)
		},
		"an unknown key": func(s string) string {
			return strings.Replace(s, `"format_version": 1,`, `"format_version": 1, "extra": 1,`, 1)
		},
		"another version": func(s string) string { return strings.Replace(s, `"format_version": 1,`, `"format_version": 2,`, 1) },
	} {
		p := filepath.Join(dir, "edited.plan")
		edited := edit(string(got))
		if edited == string(got) {
			t.Fatalf("%s: the edit changed nothing", name)
		}
		os.WriteFile(p, []byte(edited), 0o600)
		if _, err := readPlanFile(p); err == nil {
			t.Errorf("%s: an edited file was accepted", name)
		}
	}
}
