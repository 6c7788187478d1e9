package reconciler

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
)

// planWith returns a plan of owner src with owned members and n deprovisions.
func planWith(owned, n int) orgsync.Plan {
	p := orgsync.Plan{Owner: src, Owned: owned}
	for i := range n {
		p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionDeprovision, MemberID: fmt.Sprint(i)})
	}
	p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionProvision, MemberKey: "x"})
	return p
}

func TestCheckGuards(t *testing.T) {
	defaults := GuardConfig{}
	defaults.SetDefaults()
	tests := []struct {
		name    string
		plan    orgsync.Plan
		desired int
		guard   GuardConfig
		blocked bool
		reason  []string // substrings of the reason
	}{
		{name: "within both limits", plan: planWith(1000, 25), desired: 975, guard: defaults},
		{name: "exactly the percentage", plan: planWith(100, 10), desired: 90, guard: defaults},
		{name: "above max_deprovision", plan: planWith(1000, 26), desired: 974, guard: defaults, blocked: true,
			reason: []string{"26 deprovisions exceed guard.max_deprovision (25)", "--force"}},
		{name: "above max_deprovision_percent", plan: planWith(100, 11), desired: 89, guard: defaults, blocked: true,
			reason: []string{"11 deprovisions are 11.0% of the 100 active owned members, above guard.max_deprovision_percent (10%)"}},
		{name: "empty source while members are owned", plan: planWith(5, 0), desired: 0, guard: GuardConfig{MaxDeprovision: -1, MaxDeprovisionPercent: -1},
			blocked: true, reason: []string{"the source returned 0 users while 5 members", "guard.allow_empty: true"}},
		{name: "empty source allowed, limits disabled", plan: planWith(5, 5), desired: 0,
			guard: GuardConfig{AllowEmpty: true, MaxDeprovision: -1, MaxDeprovisionPercent: -1}},
		{name: "empty source allowed, limits still apply", plan: planWith(5, 5), desired: 0,
			guard: GuardConfig{AllowEmpty: true, MaxDeprovision: 25, MaxDeprovisionPercent: 10}, blocked: true,
			reason: []string{"100.0%"}},
		{name: "empty source and empty org", plan: planWith(0, 0), desired: 0, guard: defaults},
		{name: "both limits named", plan: planWith(100, 30), desired: 70, guard: defaults, blocked: true,
			reason: []string{"guard.max_deprovision (25)", "guard.max_deprovision_percent (10%)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := CheckGuards(tt.plan, tt.desired, tt.guard)
			if d.Blocked != tt.blocked {
				t.Fatalf("blocked = %v (%s), want %v", d.Blocked, d.Reason, tt.blocked)
			}
			if !tt.blocked && d.Reason != "" {
				t.Errorf("reason %q on an allowed plan", d.Reason)
			}
			for _, s := range tt.reason {
				if !strings.Contains(d.Reason, s) {
					t.Errorf("reason %q lacks %q", d.Reason, s)
				}
			}
		})
	}
}

func TestGuardConfig(t *testing.T) {
	var g GuardConfig
	g.SetDefaults()
	if g.MaxDeprovision != 25 || g.MaxDeprovisionPercent != 10 || g.AllowEmpty {
		t.Errorf("defaults = %+v", g)
	}
	off := GuardConfig{MaxDeprovision: -1, MaxDeprovisionPercent: -1}
	off.SetDefaults()
	if off.MaxDeprovision != -1 || off.MaxDeprovisionPercent != -1 {
		t.Errorf("SetDefaults overwrote disabled limits: %+v", off)
	}
	if err := g.Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
	for _, bad := range []float64{101, math.NaN(), math.Inf(1)} {
		err := (&GuardConfig{MaxDeprovisionPercent: bad}).Validate()
		if err == nil || !strings.HasPrefix(err.Error(), "guard.max_deprovision_percent: ") || !errors.Is(err, orgsync.ErrInvalid) {
			t.Errorf("percent %v: err = %v", bad, err)
		}
	}
}

func TestPurgePlan(t *testing.T) {
	now := t0.Add(40 * 24 * time.Hour)
	old, recent := t0, now.Add(-time.Hour)
	deprovisionedAt := func(v time.Time) func(*orgsync.Member) { return func(m *orgsync.Member) { m.DeprovisionedAt = &v } }
	deletedAt := func(v time.Time) func(*orgsync.Member) { return func(m *orgsync.Member) { m.DeletedAt = &v } }
	observed := orgsync.Snapshot{Members: []orgsync.Member{
		member("m1", src, "k1", "old@x", deprov, deprovisionedAt(old)),
		member("m2", src, "k2", "recent@x", deprov, deprovisionedAt(recent)),
		member("m3", src, "k3", "admin@x", deprov, deprovisionedAt(old), role(orgsync.RoleAdmin)),
		member("m4", orgsync.OwnerSCIM, "e4", "deleted@x", deprov, deprovisionedAt(recent), deletedAt(old)),
		member("m5", src, "k5", "active@x", active, deprovisionedAt(old)),
		member("m6", orgsync.OwnerSCIM, "e6", "just-deleted@x", deprov, func(m *orgsync.Member) { m.DeprovisionedAt = nil }, deletedAt(recent)),
	}}
	before := deepCopy(t, observed)
	p, d := PurgePlan(observed, "acme", now, 30*24*time.Hour, 0)
	want := []string{
		"purge deleted@x id=m4",
		"purge old@x id=m1",
		"conflict k3 admin@x: deprovisioned since 2026-11-01 but has role admin: never purged automatically",
	}
	if got := planLines(p); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("plan:\n got %q\nwant %q", got, want)
	}
	if d.Blocked || p.Owner != PurgeSource || p.Org != "acme" {
		t.Errorf("decision %+v owner %q org %q", d, p.Owner, p.Org)
	}
	if deepCopy(t, observed) != before {
		t.Error("PurgePlan modified its input")
	}
	if _, d := PurgePlan(observed, "acme", now, 30*24*time.Hour, 1); !d.Blocked || !strings.Contains(d.Reason, "2 purges exceed the purge limit (1)") {
		t.Errorf("limit 1: %+v", d)
	}
	if _, d := PurgePlan(observed, "acme", now, 30*24*time.Hour, -1); d.Blocked {
		t.Errorf("no limit: %+v", d)
	}
	if p, _ := PurgePlan(observed, "acme", now, 0, 0); len(p.Changes) != 0 {
		t.Errorf("purge_after 0 planned %q", planLines(p))
	}
}
