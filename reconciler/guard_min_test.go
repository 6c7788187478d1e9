package reconciler

import (
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
)

// A percentage limit weighs a plan against the source's size only from
// guard.percent_min_count up: a small org losing one member is not blocked
// by the share alone, while the absolute limits always apply.
func TestCheckGuardsPercentMinCount(t *testing.T) {
	defaults := GuardConfig{}
	defaults.SetDefaults()
	if defaults.PercentMinCount != DefaultPercentMinCount || defaults.MaxRekey != DefaultMaxRekey {
		t.Fatalf("defaults = %+v", defaults)
	}
	with := func(f func(*GuardConfig)) GuardConfig {
		g := defaults
		f(&g)
		return g
	}
	groups := func(owned, deleted int) orgsync.Plan {
		return orgsync.Plan{Owner: src, Owned: 1000, OwnedGroups: owned, Changes: changes(orgsync.ActionGroupDelete, deleted, nil)}
	}
	memberships := func(owned, removed int) orgsync.Plan {
		return orgsync.Plan{Owner: src, Owned: 1000, OwnedMemberships: owned, Changes: changes(orgsync.ActionMemberRemove, removed, nil)}
	}
	rekeys := func(n int) orgsync.Plan {
		return orgsync.Plan{Owner: src, Owned: 1000, Changes: changes(orgsync.ActionRekey, n, nil)}
	}
	tests := []struct {
		name   string
		plan   orgsync.Plan
		guard  GuardConfig
		reason string // "" : allowed
	}{
		{name: "3 members losing 1 is 33% of a small org", plan: planWith(3, 1), guard: defaults},
		{name: "9 members losing 5", plan: planWith(9, 5), guard: defaults},
		{name: "the minimum itself is weighed", plan: planWith(10, 2), guard: defaults,
			reason: "2 deprovisions are 20.0% of the 10 active owned members"},
		{name: "a small org still meets the absolute limit", plan: planWith(3, 3), guard: with(func(g *GuardConfig) { g.MaxDeprovision = 2 }),
			reason: "3 deprovisions exceed guard.max_deprovision (2)"},
		{name: "negative: percentages always apply", plan: planWith(3, 1), guard: with(func(g *GuardConfig) { g.PercentMinCount = -1 }),
			reason: "1 deprovisions are 33.3% of the 3 active owned members"},
		{name: "a raised minimum", plan: planWith(40, 10), guard: with(func(g *GuardConfig) { g.PercentMinCount = 50 })},
		{name: "small group count", plan: groups(4, 2), guard: defaults},
		{name: "group share above the minimum", plan: groups(12, 4), guard: defaults,
			reason: "4 group deletions are 33.3% of the 12 owned groups"},
		{name: "few memberships", plan: memberships(6, 3), guard: defaults},
		{name: "membership share above the minimum", plan: memberships(20, 6), guard: defaults,
			reason: "6 membership removals are 30.0% of the 20 memberships"},
		{name: "rekeys within max_rekey", plan: rekeys(10), guard: defaults},
		{name: "rekeys above max_rekey", plan: rekeys(11), guard: defaults,
			reason: "11 rekeys of re-created entries exceed guard.max_rekey (10)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := CheckGuards(tt.plan, 1000, tt.guard)
			if d.Blocked != (tt.reason != "") {
				t.Fatalf("blocked = %v (%s), want %v", d.Blocked, d.Reason, tt.reason != "")
			}
			if !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("reason %q lacks %q", d.Reason, tt.reason)
			}
		})
	}
}
