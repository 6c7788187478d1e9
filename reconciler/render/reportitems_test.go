package render

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
)

// TestReportItems: provisions name the role they give, a report counts
// the users read and disabled at the source, markdown names its run, time
// and build, and a purge with nothing to do says so in its own words.
func TestReportItems(t *testing.T) {
	plan := orgsync.Plan{Org: "acme", Owner: src, Read: 3, Disabled: 1, Changes: []orgsync.Change{
		{Action: orgsync.ActionProvision, UserName: "ada@example.org", Member: &orgsync.Member{Role: "admin"}},
	}}
	applied := reconciler.Report{Org: "acme", Source: src, Plan: plan, RunID: 7}
	purge := reconciler.Report{Org: "acme", Source: orgsync.OwnerPurge, Plan: orgsync.Plan{Org: "acme", Owner: orgsync.OwnerPurge}}
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		format string
		report reconciler.Report
		want   []string
	}{
		{"text provision", "text", applied, []string{"+ ada@example.org as admin", "3 users read from the source, 1 disabled there"}},
		{"markdown provision", "markdown", applied, []string{"- `ada@example.org` as `admin`", "_run #7 · 2026-12-02T10:00:00Z · orgsync v1.2.3_",
			"3 users read from the source, 1 disabled there."}},
		{"json counts", "json", applied, []string{`"users_read": 3`, `"users_disabled_at_source": 1`}},
		{"text purge", "text", purge, []string{"nothing to purge: no member has been deprovisioned for longer than the org's purge_after"}},
		{"markdown purge", "markdown", purge, []string{"Nothing to purge: no member", "_dry run · 2026-12-02T10:00:00Z · orgsync v1.2.3_"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Reports(&b, []reconciler.Report{tt.report}, Options{Format: tt.format, Generated: at, Version: "v1.2.3"}); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("lacks %q:\n%s", w, b.String())
				}
			}
			if strings.Contains(b.String(), "already matches the source") && tt.report.Source == orgsync.OwnerPurge {
				t.Errorf("a purge speaks of a source:\n%s", b.String())
			}
		})
	}
}
