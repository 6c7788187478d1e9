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
	if g.MaxGroupDelete != 10 || g.MaxGroupDeletePercent != 25 || g.MaxMemberRemove != 100 ||
		g.MaxMemberRemovePercent != 25 || g.MaxAdminDemotions != 1 {
		t.Errorf("defaults of the group, membership and admin guards = %+v", g)
	}
	allOff := GuardConfig{MaxGroupDelete: -1, MaxGroupDeletePercent: -1, MaxMemberRemove: -1, MaxMemberRemovePercent: -1, MaxAdminDemotions: -1}
	allOff.SetDefaults()
	if allOff.MaxGroupDelete != -1 || allOff.MaxGroupDeletePercent != -1 || allOff.MaxMemberRemove != -1 ||
		allOff.MaxMemberRemovePercent != -1 || allOff.MaxAdminDemotions != -1 {
		t.Errorf("SetDefaults overwrote disabled limits: %+v", allOff)
	}
	// Every bad percentage is listed, not just the first.
	err := (&GuardConfig{MaxDeprovisionPercent: 200, MaxGroupDeletePercent: math.NaN(), MaxMemberRemovePercent: 101}).Validate()
	for _, key := range []string{"guard.max_deprovision_percent: 200", "guard.max_group_delete_percent: NaN", "guard.max_member_remove_percent: 101"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("err = %v, lacks %q", err, key)
		}
	}
}

// changes returns n changes of action a, each with fields f.
func changes(a orgsync.Action, n int, f map[string]orgsync.FieldChange) []orgsync.Change {
	out := make([]orgsync.Change, n)
	for i := range out {
		out[i] = orgsync.Change{Action: a, MemberID: fmt.Sprint(i), Fields: f}
	}
	return out
}

func TestCheckGuardsGroupsMembershipsAdmins(t *testing.T) {
	defaults := GuardConfig{}
	defaults.SetDefaults()
	demote := map[string]orgsync.FieldChange{"role": {From: "admin", To: "member"}}
	promote := map[string]orgsync.FieldChange{"role": {From: "member", To: "admin"}}
	base := func(groups, memberships int, cs ...[]orgsync.Change) orgsync.Plan {
		p := orgsync.Plan{Owner: src, Owned: 1000, OwnedGroups: groups, OwnedMemberships: memberships}
		for _, c := range cs {
			p.Changes = append(p.Changes, c...)
		}
		return p
	}
	tests := []struct {
		name   string
		plan   orgsync.Plan
		guard  GuardConfig
		reason []string // substrings; none: allowed
	}{
		{name: "within every default", plan: base(100, 1000,
			changes(orgsync.ActionGroupDelete, 10, nil), changes(orgsync.ActionMemberRemove, 100, nil),
			changes(orgsync.ActionUpdate, 1, demote), changes(orgsync.ActionUpdate, 5, promote)), guard: defaults},
		{name: "mass group deletion", plan: base(100, 1000, changes(orgsync.ActionGroupDelete, 11, nil)), guard: defaults,
			reason: []string{"11 group deletions exceed guard.max_group_delete (10)"}},
		{name: "group deletion share", plan: base(16, 1000, changes(orgsync.ActionGroupDelete, 6, nil)), guard: defaults,
			reason: []string{"6 group deletions are 37.5% of the 16 owned groups, above guard.max_group_delete_percent (25%)"}},
		{name: "mass membership removal", plan: base(100, 10000, changes(orgsync.ActionMemberRemove, 101, nil)), guard: defaults,
			reason: []string{"101 membership removals exceed guard.max_member_remove (100)"}},
		{name: "membership removal share", plan: base(100, 40, changes(orgsync.ActionMemberRemove, 11, nil)), guard: defaults,
			reason: []string{"11 membership removals are 27.5% of the 40 memberships of owned groups, above guard.max_member_remove_percent (25%)"}},
		{name: "admins demoted by updates, adoptions and reactivations", plan: base(100, 1000,
			changes(orgsync.ActionUpdate, 1, demote), changes(orgsync.ActionReactivate, 1, demote),
			changes(orgsync.ActionAdopt, 1, map[string]orgsync.FieldChange{"role": {From: " Admin", To: "viewer"}})), guard: defaults,
			reason: []string{"3 admin demotions exceed guard.max_admin_demotions (1)", "--force"}},
		{name: "every guard disabled", plan: base(1, 1,
			changes(orgsync.ActionGroupDelete, 50, nil), changes(orgsync.ActionMemberRemove, 500, nil), changes(orgsync.ActionUpdate, 9, demote)),
			guard: GuardConfig{MaxDeprovision: -1, MaxDeprovisionPercent: -1, MaxGroupDelete: -1, MaxGroupDeletePercent: -1,
				MaxMemberRemove: -1, MaxMemberRemovePercent: -1, MaxAdminDemotions: -1}},
		{name: "every exceeded guard is named", plan: base(10, 10,
			changes(orgsync.ActionGroupDelete, 11, nil), changes(orgsync.ActionMemberRemove, 101, nil), changes(orgsync.ActionUpdate, 2, demote)),
			guard: defaults, reason: []string{"guard.max_group_delete (10)", "guard.max_group_delete_percent (25%)",
				"guard.max_member_remove (100)", "guard.max_member_remove_percent (25%)", "guard.max_admin_demotions (1)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := CheckGuards(tt.plan, 1000, tt.guard)
			if d.Blocked != (len(tt.reason) > 0) {
				t.Fatalf("blocked = %v (%s), want %v", d.Blocked, d.Reason, len(tt.reason) > 0)
			}
			for _, s := range tt.reason {
				if !strings.Contains(d.Reason, s) {
					t.Errorf("reason %q lacks %q", d.Reason, s)
				}
			}
		})
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
	if d.Blocked || p.Owner != orgsync.OwnerPurge || p.Org != "acme" {
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
