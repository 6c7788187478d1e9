package storetest

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// Open returns a new, empty, migrated store for one subtest.
type Open func(t *testing.T) *store.Store

// Run runs the conformance suite.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *store.Store)
	}{
		{"Orgs", testOrgs},
		{"ProvisionAndObserve", testProvision},
		{"ApplyIsIdempotent", testIdempotent},
		{"MemberLifecycle", testLifecycle},
		{"Groups", testGroups},
		{"OwnershipRespected", testOwnership},
		{"UserNameUniqueCaseInsensitive", testUserNameConflict},
		{"ApplyIsAtomic", testAtomic},
		{"CompleteSetup", testCompleteSetup},
		{"PurgeNeverAdmins", testPurge},
		{"Tokens", testTokens},
		{"EventsOrderedWithCursor", testEvents},
		{"Runs", testRuns},
		{"TryLock", testTryLock},
		{"ClaimOnce", testClaim},
		{"TextRoundTrips", testTextRoundTrip},
		{"LargePlanInBatches", testLargePlan},
		{"MembersListAndCounts", testMembersList},
		{"SCIMDeleteDropsMemberships", testSCIMDeleteDropsMemberships},
		{"SCIMRecreateOtherIdentity", testSCIMRecreateOtherIdentity},
		{"SCIMRecreateExternalIDChanges", testSCIMRecreateExternalIDChanges},
		{"SCIMReviveSameIdentity", testSCIMReviveSameIdentity},
		{"SCIMRecreateOverSuspended", testSCIMRecreateOverSuspended},
		{"SCIMRenameOntoTombstone", testSCIMRenameOntoTombstone},
		{"PurgeNeverAdminsHoweverSpelled", testPurgeNeverAdminsHoweverSpelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			if err := s.EnsureOrgs(context.Background(), []orgsync.Org{
				{ID: "acme", Name: "Acme", DefaultRole: orgsync.RoleMember, PurgeAfter: 720 * time.Hour},
				{ID: "other", Name: "Other", DefaultRole: "viewer", PurgeAfter: time.Hour},
			}); err != nil {
				t.Fatalf("EnsureOrgs: %v", err)
			}
			tt.fn(t, s)
		})
	}
}

var ctx = context.Background()

func user(key, name string) *orgsync.Member {
	return &orgsync.Member{UserName: name, ExternalID: key, GivenName: "G" + key, FamilyName: "F" + key,
		DisplayName: "D " + key, Emails: []orgsync.Email{{Value: name, Type: "work", Primary: true}}}
}

func provision(owner string, ms ...*orgsync.Member) orgsync.Plan {
	p := orgsync.Plan{Org: "acme", Owner: owner}
	for _, m := range ms {
		p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionProvision, UserName: m.UserName, MemberKey: m.ExternalID, Member: m})
	}
	return p
}

func mustApply(t *testing.T, s *store.Store, p orgsync.Plan) orgsync.Applied {
	t.Helper()
	a, err := s.Apply(ctx, p)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return a
}

func mustObserve(t *testing.T, s *store.Store) (map[string]orgsync.Member, orgsync.Snapshot) {
	t.Helper()
	snap, err := s.Observed(ctx, "acme")
	if err != nil {
		t.Fatalf("Observed: %v", err)
	}
	byName := map[string]orgsync.Member{}
	for _, m := range snap.Members {
		byName[m.UserName] = m
	}
	return byName, snap
}

func testOrgs(t *testing.T, s *store.Store) {
	o, err := s.Org(ctx, "other")
	if err != nil || o.DefaultRole != "viewer" || o.PurgeAfter != time.Hour {
		t.Fatalf("Org = %+v, %v", o, err)
	}
	if _, err := s.Org(ctx, "nope"); !errors.Is(err, orgsync.ErrNotFound) {
		t.Fatalf("unknown org: %v, want ErrNotFound", err)
	}
	if err := s.EnsureOrgs(ctx, []orgsync.Org{{ID: "other", Name: "Renamed", DefaultRole: "member"}}); err != nil {
		t.Fatal(err)
	}
	if o, _ := s.Org(ctx, "other"); o.Name != "Renamed" || o.DefaultRole != "member" {
		t.Fatalf("EnsureOrgs did not update: %+v", o)
	}
}

func testProvision(t *testing.T, s *store.Store) {
	multi := user("k3", "multi@example.org")
	multi.Emails = []orgsync.Email{{Value: "z@example.org", Type: "home"}, {Value: "multi@example.org", Type: "work", Primary: true}, {Value: "a@example.org", Type: "other"}}
	a := mustApply(t, s, provision("ldap", user("k1", "alice@example.org"), user("k2", "bob@example.org"), multi))
	if a.Counts[orgsync.ActionProvision] != 3 || len(a.Provisioned) != 3 {
		t.Fatalf("Applied = %+v", a)
	}
	byName, _ := mustObserve(t, s)
	m, ok := byName["alice@example.org"]
	if !ok {
		t.Fatalf("alice missing: %v", byName)
	}
	if m.Status != orgsync.StatusPendingSetup || m.Owner != "ldap" || m.ExternalID != "k1" || m.Role != orgsync.RoleMember ||
		m.Email() != "alice@example.org" || m.GivenName != "Gk1" || m.Version != 1 || m.ID == "" {
		t.Fatalf("provisioned member = %+v", m)
	}
	if got := byName["multi@example.org"].Emails; len(got) != 3 || got[0].Value != "z@example.org" || got[1] != multi.Emails[1] || got[2].Type != "other" {
		t.Fatalf("emails lost their order: %+v", got)
	}
	evs, err := s.Events(ctx, "acme", 0, 100)
	if err != nil || len(evs) != 3 || evs[0].Kind != orgsync.EventMemberCreated || evs[0].Actor != "ldap" {
		t.Fatalf("events = %+v, %v", evs, err)
	}
}

func testIdempotent(t *testing.T, s *store.Store) {
	p := provision("ldap", user("k1", "alice@example.org"))
	p.Changes = append(p.Changes,
		orgsync.Change{Action: orgsync.ActionGroupCreate, GroupName: "eng", GroupKey: "g1", Group: &orgsync.Group{DisplayName: "eng"}},
		orgsync.Change{Action: orgsync.ActionMemberAdd, GroupName: "eng", GroupKey: "g1", UserName: "alice@example.org", MemberKey: "k1"})
	sortPlan(&p)
	first := mustApply(t, s, p)
	if first.Total() != 3 {
		t.Fatalf("first apply = %+v", first.Counts)
	}
	second := mustApply(t, s, p)
	if second.Total() != 0 {
		t.Fatalf("second apply changed %+v", second.Counts)
	}
	evs, _ := s.Events(ctx, "", 0, 100)
	if len(evs) != 3 {
		t.Fatalf("events after two applies = %d, want 3", len(evs))
	}
}

func sortPlan(p *orgsync.Plan) {
	sort.SliceStable(p.Changes, func(i, j int) bool { return p.Changes[i].Action.Rank() < p.Changes[j].Action.Rank() })
}

func testLifecycle(t *testing.T, s *store.Store) {
	mustApply(t, s, provision("ldap", user("k1", "alice@example.org"), user("k2", "bob@example.org")))
	byName, _ := mustObserve(t, s)
	alice, bob := byName["alice@example.org"], byName["bob@example.org"]
	if _, err := s.CompleteSetup(ctx, "acme", alice.ID, "kms"); err != nil {
		t.Fatal(err)
	}
	upd := *user("k2", "robert@example.org")
	upd.Role = orgsync.RoleAdmin
	a := mustApply(t, s, orgsync.Plan{Org: "acme", Owner: "ldap", Changes: []orgsync.Change{
		{Action: orgsync.ActionUpdate, MemberID: bob.ID, UserName: "robert@example.org", Member: &upd},
		{Action: orgsync.ActionDeprovision, MemberID: alice.ID, UserName: alice.UserName},
		{Action: orgsync.ActionDeprovision, MemberID: bob.ID, UserName: "robert@example.org"},
	}})
	if a.Counts[orgsync.ActionUpdate] != 1 || a.Counts[orgsync.ActionDeprovision] != 2 {
		t.Fatalf("applied %+v", a.Counts)
	}
	byName, _ = mustObserve(t, s)
	rob := byName["robert@example.org"]
	if rob.Role != orgsync.RoleAdmin || rob.Email() != "robert@example.org" || rob.Status != orgsync.StatusDeprovisioned || rob.DeprovisionedAt == nil {
		t.Fatalf("bob after update+deprovision = %+v", rob)
	}
	a = mustApply(t, s, orgsync.Plan{Org: "acme", Owner: "ldap", Changes: []orgsync.Change{
		{Action: orgsync.ActionReactivate, MemberID: alice.ID, UserName: alice.UserName},
		{Action: orgsync.ActionReactivate, MemberID: bob.ID, UserName: "robert@example.org"},
	}})
	if a.Counts[orgsync.ActionReactivate] != 2 {
		t.Fatalf("reactivate applied %+v", a.Counts)
	}
	byName, _ = mustObserve(t, s)
	if got := byName["alice@example.org"].Status; got != orgsync.StatusActive {
		t.Errorf("alice (setup completed) reactivated to %s, want active", got)
	}
	if got := byName["robert@example.org"]; got.Status != orgsync.StatusPendingSetup || got.DeprovisionedAt != nil {
		t.Errorf("bob (never set up) reactivated to %s, want pending_setup", got.Status)
	}
}
