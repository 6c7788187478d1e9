package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/orgsync/orgsync"
)

// testUnknownOrg: a plan for an org the store does not hold is ErrNotFound
// and changes nothing; reading such an org is an empty snapshot.
func testUnknownOrg(t *testing.T, s target) {
	if _, err := s.Apply(ctx, provision("ldap", user("k1", "alice@example.org"))); err != nil {
		t.Fatal(err)
	}
	p := provision("ldap", user("k2", "bob@example.org"))
	p.Org = "nope"
	if _, err := s.Apply(ctx, p); !errors.Is(err, orgsync.ErrNotFound) {
		t.Fatalf("Apply to an unknown org: %v, want ErrNotFound", err)
	}
	snap, err := s.Observed(ctx, "nope")
	if err != nil || len(snap.Members) != 0 || len(snap.Groups) != 0 {
		t.Fatalf("Observed(unknown org) = %d members, %d groups, %v", len(snap.Members), len(snap.Groups), err)
	}
	if byName, _ := mustObserve(t, s); len(byName) != 1 {
		t.Fatalf("acme after a plan for another org: %v", byName)
	}
}

// testSkipsWhatVanished: a change of a member or group that no longer
// exists, or one whose new group name is taken, is skipped (named in
// Skipped), never an error that would fail the whole plan; deleting or
// leaving a group that is gone already changes nothing.
func testSkipsWhatVanished(t *testing.T, s target) {
	p := provision("ldap", user("k1", "alice@example.org"))
	p.Changes = append(p.Changes,
		orgsync.Change{Action: orgsync.ActionGroupCreate, GroupName: "eng", GroupKey: "g1", Group: &orgsync.Group{DisplayName: "eng"}},
		orgsync.Change{Action: orgsync.ActionGroupCreate, GroupName: "ops", GroupKey: "g2", Group: &orgsync.Group{DisplayName: "ops"}})
	sortPlan(&p)
	mustApply(t, s, p)
	_, snap := mustObserve(t, s)
	var eng string
	for _, g := range snap.Groups {
		if g.DisplayName == "eng" {
			eng = g.ID
		}
	}
	a, err := s.Apply(ctx, orgsync.Plan{Org: "acme", Owner: "ldap", Changes: []orgsync.Change{
		{Action: orgsync.ActionGroupUpdate, GroupID: eng, GroupName: "eng", Group: &orgsync.Group{DisplayName: "OPS"}},
		{Action: orgsync.ActionGroupUpdate, GroupID: "gone", GroupName: "gone", Group: &orgsync.Group{DisplayName: "gone"}},
		{Action: orgsync.ActionGroupDelete, GroupID: "gone-too", GroupName: "gone-too"},
		{Action: orgsync.ActionDeprovision, MemberID: "vanished", UserName: "vanished@example.org"},
		{Action: orgsync.ActionMemberAdd, GroupKey: "no-such-group", GroupName: "nosuch", MemberKey: "k1", UserName: "alice@example.org"},
		{Action: orgsync.ActionMemberRemove, GroupID: "gone", MemberID: "vanished", UserName: "vanished@example.org"},
	}})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := []string{"group_update eng", "group_update gone", "deprovision vanished@example.org", "member_add alice@example.org"}
	var got []string
	for _, sk := range a.Skipped {
		for _, w := range want {
			if len(sk) > len(w) && sk[:len(w)+1] == w+":" {
				got = append(got, w)
			}
		}
	}
	if a.Total() != 0 || !slices.Equal(got, want) {
		t.Fatalf("applied %v, skipped %q; want the skips %q", a.Counts, a.Skipped, want)
	}
}

// testVersions: a member starts at version 1 and every applied change of
// it counts one more; a change that already holds counts none. Groups
// likewise.
func testVersions(t *testing.T, s target) {
	p := provision("ldap", user("k1", "alice@example.org"))
	p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionGroupCreate, GroupName: "eng", GroupKey: "g1", Group: &orgsync.Group{DisplayName: "eng"}})
	sortPlan(&p)
	mustApply(t, s, p)
	byName, snap := mustObserve(t, s)
	alice := byName["alice@example.org"]
	if alice.Version != 1 || len(snap.Groups) != 1 || snap.Groups[0].Version != 1 {
		t.Fatalf("new member version %d, groups %+v", alice.Version, snap.Groups)
	}
	renamed := *user("k1", "alice@example.org")
	renamed.DisplayName = "Alice"
	change := orgsync.Plan{Org: "acme", Owner: "ldap", Changes: []orgsync.Change{
		{Action: orgsync.ActionGroupUpdate, GroupID: snap.Groups[0].ID, GroupName: "eng", Group: &orgsync.Group{DisplayName: "Engineering"}},
		{Action: orgsync.ActionUpdate, MemberID: alice.ID, UserName: alice.UserName, Member: &renamed},
		{Action: orgsync.ActionDeprovision, MemberID: alice.ID, UserName: alice.UserName},
	}}
	for range 2 { // the second time, every change already holds
		mustApply(t, s, change)
		byName, snap = mustObserve(t, s)
		if got := byName["alice@example.org"].Version; got != 3 {
			t.Fatalf("member version after an update and a deprovision = %d, want 3", got)
		}
		if got := snap.Groups[0].Version; got != 2 {
			t.Fatalf("group version after a rename = %d, want 2", got)
		}
	}
}
