package storetest

import (
	"errors"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

func testGroups(t *testing.T, s *store.Store) {
	p := provision("ldap", user("k1", "alice@example.org"), user("k2", "bob@example.org"))
	p.Changes = append([]orgsync.Change{{Action: orgsync.ActionGroupCreate, GroupName: "Eng", GroupKey: "g1", Group: &orgsync.Group{DisplayName: "Eng"}}}, p.Changes...)
	// k1 is added twice: a member the plan provisions gets each
	// membership once.
	p.Changes = append(p.Changes,
		orgsync.Change{Action: orgsync.ActionMemberAdd, GroupName: "Eng", GroupKey: "g1", UserName: "alice@example.org", MemberKey: "k1"},
		orgsync.Change{Action: orgsync.ActionMemberAdd, GroupName: "Eng", GroupKey: "g1", UserName: "bob@example.org", MemberKey: "k2"},
		orgsync.Change{Action: orgsync.ActionMemberAdd, GroupName: "Eng", GroupKey: "g1", UserName: "alice@example.org", MemberKey: "k1"})
	if a := mustApply(t, s, p); a.Counts[orgsync.ActionGroupCreate] != 1 || a.Counts[orgsync.ActionMemberAdd] != 2 {
		t.Fatalf("applied %+v", a.Counts)
	}
	byName, snap := mustObserve(t, s)
	if len(snap.Groups) != 1 || len(snap.Groups[0].Members) != 2 || snap.Groups[0].Owner != "ldap" || snap.Groups[0].ExternalID != "g1" {
		t.Fatalf("groups = %+v", snap.Groups)
	}
	evs, err := s.Events(ctx, "acme", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var added []string
	for _, e := range evs {
		if e.Kind == orgsync.EventGroupMemberAdded {
			added = append(added, string(e.After))
		}
	}
	if len(added) != 2 || added[0] != `{"group":"Eng","user_name":"alice@example.org"}` {
		t.Fatalf("member_added events after = %q", added)
	}
	g := snap.Groups[0]
	// A second group whose name differs only in case is a conflict.
	a := mustApply(t, s, orgsync.Plan{Org: "acme", Owner: "other-src", Changes: []orgsync.Change{
		{Action: orgsync.ActionGroupCreate, GroupName: "ENG", GroupKey: "x", Group: &orgsync.Group{DisplayName: "ENG"}}}})
	if a.Counts[orgsync.ActionGroupCreate] != 0 || len(a.Skipped) != 1 {
		t.Fatalf("case-insensitive duplicate group: %+v", a)
	}
	a = mustApply(t, s, orgsync.Plan{Org: "acme", Owner: "ldap", Changes: []orgsync.Change{
		{Action: orgsync.ActionGroupUpdate, GroupID: g.ID, Group: &orgsync.Group{DisplayName: "Engineering"}},
		{Action: orgsync.ActionMemberRemove, GroupID: g.ID, MemberID: byName["bob@example.org"].ID},
	}})
	if a.Counts[orgsync.ActionGroupUpdate] != 1 || a.Counts[orgsync.ActionMemberRemove] != 1 {
		t.Fatalf("applied %+v", a.Counts)
	}
	members, err := s.Members(ctx, "acme", store.MemberFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		want := 0
		if m.UserName == "alice@example.org" {
			want = 1
		}
		if len(m.Groups) != want || (want == 1 && m.Groups[0] != "Engineering") {
			t.Errorf("%s groups = %v", m.UserName, m.Groups)
		}
	}
	a = mustApply(t, s, orgsync.Plan{Org: "acme", Owner: "ldap", Changes: []orgsync.Change{{Action: orgsync.ActionGroupDelete, GroupID: g.ID}}})
	if _, snap = mustObserve(t, s); a.Counts[orgsync.ActionGroupDelete] != 1 || len(snap.Groups) != 0 {
		t.Fatalf("group delete: %+v, groups %+v", a.Counts, snap.Groups)
	}
}

func testOwnership(t *testing.T, s *store.Store) {
	mustApply(t, s, provision(orgsync.OwnerSCIM, user("s1", "carol@example.org")))
	byName, _ := mustObserve(t, s)
	carol := byName["carol@example.org"]
	a := mustApply(t, s, orgsync.Plan{Org: "acme", Owner: "ldap", Changes: []orgsync.Change{
		{Action: orgsync.ActionDeprovision, MemberID: carol.ID, UserName: carol.UserName},
		{Action: orgsync.ActionUpdate, MemberID: carol.ID, UserName: carol.UserName, Member: user("s1", "mallory@example.org")},
	}})
	if a.Total() != 0 || len(a.Skipped) != 2 {
		t.Fatalf("changed a member of another owner: %+v", a)
	}
	byName, _ = mustObserve(t, s)
	if got := byName["carol@example.org"]; got.Status != orgsync.StatusPendingSetup || got.Version != 1 {
		t.Fatalf("carol changed: %+v", got)
	}
}

func testUserNameConflict(t *testing.T, s *store.Store) {
	mustApply(t, s, provision(orgsync.OwnerSCIM, user("s1", "Dave@Example.org")))
	a := mustApply(t, s, provision("ldap", user("k9", "dave@example.ORG")))
	if a.Counts[orgsync.ActionProvision] != 0 || len(a.Skipped) != 1 {
		t.Fatalf("case-insensitive user name clash provisioned: %+v", a)
	}
	if byName, _ := mustObserve(t, s); len(byName) != 1 {
		t.Fatalf("members = %v", byName)
	}
}

func testAtomic(t *testing.T, s *store.Store) {
	p := provision("ldap", user("k1", "alice@example.org"))
	p.Changes = append(p.Changes, orgsync.Change{Action: "explode"})
	if _, err := s.Apply(ctx, p); !errors.Is(err, orgsync.ErrInvalid) {
		t.Fatalf("Apply of a bad plan: %v, want ErrInvalid", err)
	}
	if byName, _ := mustObserve(t, s); len(byName) != 0 {
		t.Fatalf("a failed plan left members behind: %v", byName)
	}
	if evs, _ := s.Events(ctx, "", 0, 10); len(evs) != 0 {
		t.Fatalf("a failed plan left events: %v", evs)
	}
}

func testCompleteSetup(t *testing.T, s *store.Store) {
	mustApply(t, s, provision("ldap", user("k1", "alice@example.org"), user("k2", "bob@example.org")))
	m, err := s.CompleteSetup(ctx, "acme", "ALICE@example.org", "cli")
	if err != nil || m.Status != orgsync.StatusActive || m.SetupCompletedAt == nil {
		t.Fatalf("CompleteSetup = %+v, %v", m, err)
	}
	if again, err := s.CompleteSetup(ctx, "acme", m.ID, "cli"); err != nil || again.Version != m.Version {
		t.Fatalf("second CompleteSetup changed the member: %+v, %v", again, err)
	}
	if _, err := s.CompleteSetup(ctx, "acme", "nobody@example.org", "cli"); !errors.Is(err, orgsync.ErrNotFound) {
		t.Fatalf("unknown member: %v", err)
	}
	if _, err := s.CompleteSetup(ctx, "other", "alice@example.org", "cli"); !errors.Is(err, orgsync.ErrNotFound) {
		t.Fatalf("member of another org: %v", err)
	}
	byName, _ := mustObserve(t, s)
	mustApply(t, s, orgsync.Plan{Org: "acme", Owner: "ldap", Changes: []orgsync.Change{
		{Action: orgsync.ActionDeprovision, MemberID: byName["bob@example.org"].ID}}})
	if _, err := s.CompleteSetup(ctx, "acme", "bob@example.org", "cli"); !errors.Is(err, orgsync.ErrInvalid) {
		t.Fatalf("deprovisioned member: %v", err)
	}
}

func testPurge(t *testing.T, s *store.Store) {
	admin := user("k1", "root@example.org")
	admin.Role = orgsync.RoleAdmin
	mustApply(t, s, provision("ldap", admin, user("k2", "bob@example.org"), user("k3", "live@example.org")))
	byName, _ := mustObserve(t, s)
	mustApply(t, s, orgsync.Plan{Org: "acme", Owner: "ldap", Changes: []orgsync.Change{
		{Action: orgsync.ActionDeprovision, MemberID: byName["root@example.org"].ID},
		{Action: orgsync.ActionDeprovision, MemberID: byName["bob@example.org"].ID}}})
	a := mustApply(t, s, orgsync.Plan{Org: "acme", Changes: []orgsync.Change{
		{Action: orgsync.ActionPurge, MemberID: byName["root@example.org"].ID},
		{Action: orgsync.ActionPurge, MemberID: byName["bob@example.org"].ID},
		{Action: orgsync.ActionPurge, MemberID: byName["live@example.org"].ID}}})
	if a.Counts[orgsync.ActionPurge] != 1 || len(a.Skipped) != 2 {
		t.Fatalf("purge applied %+v", a)
	}
	byName, _ = mustObserve(t, s)
	if _, ok := byName["bob@example.org"]; ok || len(byName) != 2 {
		t.Fatalf("after purge: %v", byName)
	}
}
