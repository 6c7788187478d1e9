package storetest

import (
	"context"
	"errors"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/admin"
	"github.com/orgsync/orgsync/receiver"
	"github.com/orgsync/orgsync/reconciler"
)

// Store is what every store under test is: what the reconciler's runs
// need of it.
type Store = reconciler.Store

// A Capability is a consumer's view of the store beyond Store. A backend
// declares the capabilities it has; the subtests that need one it lacks are
// skipped, saying which.
type Capability string

// The capabilities.
const (
	// SCIM is the SCIM receiver's view (receiver.OwnerView), given by
	// Backend.SCIM.
	SCIM Capability = "scim"
	// Admin is the admin API's view (admin.Store): members, setup
	// completion, runs and the event feed.
	Admin Capability = "admin"
	// Claims makes each occurrence of a scheduled job run once
	// (reconciler.Claimer).
	Claims Capability = "claims"
	// Operator is what orgsync's commands use directly (OperatorStore).
	Operator Capability = "operator"
)

// OperatorStore is what orgsync's commands use of the store directly,
// besides the consumers' views: the orgs of the config, a member by ID or
// name, the status counts, and SCIM tokens.
type OperatorStore interface {
	EnsureOrgs(ctx context.Context, orgs []orgsync.Org) error
	Org(ctx context.Context, id string) (orgsync.Org, error)
	Member(ctx context.Context, org, idOrUserName string) (orgsync.Member, error)
	StatusCounts(ctx context.Context) (map[string]map[orgsync.Status]int, error)
	CreateToken(ctx context.Context, org, description string, ttl time.Duration) (string, orgsync.Token, error)
	Tokens(ctx context.Context, org string) ([]orgsync.Token, error)
	RevokeToken(ctx context.Context, id string) (orgsync.Token, error)
	Authenticate(ctx context.Context, token string) (orgsync.Token, error)
}

// implements says whether s, of backend b, has the view c names.
func implements(b Backend, s Store, c Capability) bool {
	var ok bool
	switch c {
	case SCIM:
		ok = b.SCIM != nil
	case Admin:
		_, ok = s.(admin.Store)
	case Claims:
		_, ok = s.(reconciler.Claimer)
	case Operator:
		_, ok = s.(OperatorStore)
	}
	return ok
}

// Backend is one store implementation under test.
type Backend struct {
	// Open returns a new, empty store for one subtest holding the org
	// acme (default role member, purge after 30 days) and, when it has
	// several orgs, the org other (default role viewer, purge after an
	// hour). The store is closed by Open's own cleanup, if it needs it.
	Open func(t *testing.T) Store
	// Has declares the capabilities of the store: Run fails when the
	// store lacks a declared one.
	Has []Capability
	// SCIM returns the SCIM receiver's view of a store Open returned (the
	// view serve gives the receiver); nil when the store has none.
	SCIM func(s Store) receiver.OwnerView
}

// target is the store of one subtest with its declared capabilities.
type target struct {
	Store
	has  []Capability
	view func(Store) receiver.OwnerView
}

// need skips t, saying why, unless the store has every one of caps.
func (s target) need(t *testing.T, caps ...Capability) {
	t.Helper()
	for _, c := range caps {
		if !slices.Contains(s.has, c) {
			t.Skipf("the store under test does not declare the %s capability", c)
		}
	}
}

// sub runs fn as the subtest name of t when the store has caps, and
// skips that subtest, saying why, when not.
func (s target) sub(t *testing.T, name string, fn func(t *testing.T), caps ...Capability) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		s.need(t, caps...)
		fn(t)
	})
}

func (s target) scim() receiver.OwnerView   { return s.view(s.Store) }
func (s target) admin() admin.Store         { return s.Store.(admin.Store) }
func (s target) claims() reconciler.Claimer { return s.Store.(reconciler.Claimer) }
func (s target) operator() OperatorStore    { return s.Store.(OperatorStore) }

// Run runs the conformance suite against b.
func Run(t *testing.T, b Backend) {
	tests := []struct {
		name  string
		fn    func(t *testing.T, s target)
		needs []Capability
	}{
		{"Orgs", testOrgs, []Capability{Operator}},
		{"ProvisionAndObserve", testProvision, nil},
		{"ApplyIsIdempotent", testIdempotent, nil},
		{"MemberLifecycle", testLifecycle, []Capability{Admin}},
		{"Groups", testGroups, nil},
		{"OwnershipRespected", testOwnership, nil},
		{"UserNameUniqueCaseInsensitive", testUserNameConflict, nil},
		{"ApplyIsAtomic", testAtomic, nil},
		{"CompleteSetup", testCompleteSetup, []Capability{Admin}},
		{"PurgeNeverAdmins", testPurge, nil},
		{"Tokens", testTokens, []Capability{Operator}},
		{"EventsOrderedWithCursor", testEvents, []Capability{Admin}},
		{"Runs", testRuns, []Capability{Admin}},
		{"ClaimOnce", testClaim, []Capability{Claims}},
		{"TextRoundTrips", testTextRoundTrip, nil},
		{"LargePlanInBatches", testLargePlan, nil},
		{"MembersListAndCounts", testMembersList, []Capability{Admin, Operator}},
		{"SCIMDeleteDropsMemberships", testSCIMDeleteDropsMemberships, []Capability{SCIM, Admin, Operator}},
		{"SCIMRecreateOtherIdentity", testSCIMRecreateOtherIdentity, []Capability{SCIM, Admin, Operator}},
		{"SCIMRecreateExternalIDChanges", testSCIMRecreateExternalIDChanges, []Capability{SCIM, Admin, Operator}},
		{"SCIMReviveSameIdentity", testSCIMReviveSameIdentity, []Capability{SCIM, Admin, Operator}},
		{"SCIMRecreateOverSuspended", testSCIMRecreateOverSuspended, []Capability{SCIM}},
		{"SCIMRenameOntoTombstone", testSCIMRenameOntoTombstone, []Capability{SCIM, Admin, Operator}},
		{"PurgeNeverAdminsHoweverSpelled", testPurgeNeverAdminsHoweverSpelled, nil},
		{"UnknownOrg", testUnknownOrg, nil},
		{"SkipsWhatVanished", testSkipsWhatVanished, nil},
		{"Versions", testVersions, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := target{Store: b.Open(t), has: b.Has, view: b.SCIM}
			for _, c := range b.Has {
				if !implements(b, s.Store, c) {
					t.Fatalf("the store declares the %s capability but does not implement it", c)
				}
			}
			s.need(t, tt.needs...)
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

func mustApply(t *testing.T, s Store, p orgsync.Plan) orgsync.Applied {
	t.Helper()
	a, err := s.Apply(ctx, p)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return a
}

func mustObserve(t *testing.T, s Store) (map[string]orgsync.Member, orgsync.Snapshot) {
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

func testOrgs(t *testing.T, s target) {
	o, err := s.operator().Org(ctx, "other")
	if err != nil || o.DefaultRole != "viewer" || o.PurgeAfter != time.Hour {
		t.Fatalf("Org = %+v, %v", o, err)
	}
	if _, err := s.operator().Org(ctx, "nope"); !errors.Is(err, orgsync.ErrNotFound) {
		t.Fatalf("unknown org: %v, want ErrNotFound", err)
	}
	if err := s.operator().EnsureOrgs(ctx, []orgsync.Org{{ID: "other", Name: "Renamed", DefaultRole: "member"}}); err != nil {
		t.Fatal(err)
	}
	if o, _ := s.operator().Org(ctx, "other"); o.Name != "Renamed" || o.DefaultRole != "member" {
		t.Fatalf("EnsureOrgs did not update: %+v", o)
	}
}

func testProvision(t *testing.T, s target) {
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
	s.sub(t, "Events", func(t *testing.T) {
		evs, err := s.admin().Events(ctx, "acme", 0, 100)
		if err != nil || len(evs) != 3 || evs[0].Kind != orgsync.EventMemberCreated || evs[0].Actor != "ldap" {
			t.Fatalf("events = %+v, %v", evs, err)
		}
	}, Admin)
}

func testIdempotent(t *testing.T, s target) {
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
	s.sub(t, "Events", func(t *testing.T) {
		if evs, _ := s.admin().Events(ctx, "", 0, 100); len(evs) != 3 {
			t.Fatalf("events after two applies = %d, want 3", len(evs))
		}
	}, Admin)
}

func sortPlan(p *orgsync.Plan) {
	sort.SliceStable(p.Changes, func(i, j int) bool { return p.Changes[i].Action.Rank() < p.Changes[j].Action.Rank() })
}

func testLifecycle(t *testing.T, s target) {
	mustApply(t, s, provision("ldap", user("k1", "alice@example.org"), user("k2", "bob@example.org")))
	byName, _ := mustObserve(t, s)
	alice, bob := byName["alice@example.org"], byName["bob@example.org"]
	if _, err := s.admin().CompleteSetup(ctx, "acme", alice.ID, "kms"); err != nil {
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
