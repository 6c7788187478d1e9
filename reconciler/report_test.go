package reconciler

import (
	"slices"
	"testing"

	"github.com/orgsync/orgsync"
)

// reportOf is a report of plan, its guard decision and whether it was
// forced.
func reportOf(p orgsync.Plan, blocked, forced bool) Report {
	return Report{Org: "acme", Source: src, Plan: p, Guard: orgsync.Decision{Blocked: blocked, Forced: forced}}
}

func TestDetailedExitCode(t *testing.T) {
	none := orgsync.Plan{Changes: []orgsync.Change{}}
	some := orgsync.Plan{Changes: []orgsync.Change{{Action: orgsync.ActionProvision, UserName: "alice@x"}}}
	r := []Report{reportOf(some, false, false), reportOf(some, false, false), reportOf(some, true, true), reportOf(some, true, false),
		reportOf(none, false, false), reportOf(none, false, false)}
	held := orgsync.Plan{Changes: []orgsync.Change{}, Conflicts: []orgsync.Conflict{{UserName: "eli@x", Reason: "user name belongs to another member"}}}
	conflicted := reportOf(held, false, false)
	for _, tt := range []struct {
		name    string
		reports []Report
		want    int
	}{
		{"no changes", []Report{r[5]}, 0},
		{"changes", []Report{r[5], r[1]}, 2},
		{"a guard would block", []Report{r[1], r[3], r[5]}, 3},
		{"forced is not blocked", []Report{r[2]}, 2},
		{"conflicts", []Report{r[5], conflicted}, 4},
		{"conflicts beat changes, whatever the order", []Report{conflicted, r[1]}, 4},
		{"a guard beats conflicts", []Report{conflicted, r[3]}, 3},
	} {
		if got := DetailedExitCode(tt.reports); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
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
