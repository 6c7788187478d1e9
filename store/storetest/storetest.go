package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
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

func testTokens(t *testing.T, s *store.Store) {
	tok, rec, err := s.CreateToken(ctx, "acme", "jumpcloud", 0)
	if err != nil || len(tok) < 40 || rec.Org != "acme" {
		t.Fatalf("CreateToken = %q, %+v, %v", tok, rec, err)
	}
	if _, _, err := s.CreateToken(ctx, "nope", "", 0); !errors.Is(err, orgsync.ErrNotFound) {
		t.Fatalf("token for unknown org: %v", err)
	}
	got, err := s.Authenticate(ctx, tok)
	if err != nil || got.ID != rec.ID || got.Org != "acme" || got.LastUsedAt == nil {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "Bearer " + tok, tok + "x", tok[:len(tok)-1], "osk_" + string(make([]byte, 300))} {
		if _, err := s.Authenticate(ctx, bad); !errors.Is(err, orgsync.ErrUnauthorized) {
			t.Errorf("Authenticate(%.12q) = %v, want ErrUnauthorized", bad, err)
		}
	}
	// Only a hash is stored.
	var rows []map[string]any
	if err := s.DB().Raw(`SELECT * FROM scim_tokens`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		for col, v := range r {
			if str, ok := v.(string); ok && str == tok {
				t.Fatalf("column %s holds the token in clear", col)
			}
		}
	}
	short, _, _ := s.CreateToken(ctx, "acme", "short", time.Minute)
	now := s.Now
	s.Now = func() time.Time { return now().Add(2 * time.Minute) }
	if _, err := s.Authenticate(ctx, short); !errors.Is(err, orgsync.ErrUnauthorized) {
		t.Fatalf("expired token: %v", err)
	}
	s.Now = now
	if _, err := s.RevokeToken(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, orgsync.ErrUnauthorized) {
		t.Fatalf("revoked token: %v", err)
	}
	if _, err := s.RevokeToken(ctx, "nope"); !errors.Is(err, orgsync.ErrNotFound) {
		t.Fatalf("revoke unknown: %v", err)
	}
	list, err := s.Tokens(ctx, "acme")
	if err != nil || len(list) != 2 || list[0].RevokedAt == nil {
		t.Fatalf("Tokens = %+v, %v", list, err)
	}
}

func testEvents(t *testing.T, s *store.Store) {
	for i := 0; i < 5; i++ {
		k := string(rune('a' + i))
		mustApply(t, s, provision("ldap", user(k, k+"@example.org")))
	}
	all, err := s.Events(ctx, "acme", 0, 100)
	if err != nil || len(all) != 5 {
		t.Fatalf("events = %d, %v", len(all), err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq {
			t.Fatalf("events out of order: %d then %d", all[i-1].Seq, all[i].Seq)
		}
	}
	rest, err := s.Events(ctx, "acme", all[2].Seq, 100)
	if err != nil || len(rest) != 2 || rest[0].Seq != all[3].Seq {
		t.Fatalf("events after %d = %+v", all[2].Seq, rest)
	}
	if other, _ := s.Events(ctx, "other", 0, 100); len(other) != 0 {
		t.Fatalf("org filter leaked %d events", len(other))
	}
	// The after state is the member as the feed needs it, without the
	// bookkeeping timestamps (the event's time is the change's).
	var after map[string]any
	if err := json.Unmarshal(all[0].After, &after); err != nil {
		t.Fatalf("created event after state %q: %v", all[0].After, err)
	}
	if after["user_name"] != "a@example.org" || after["status"] != string(orgsync.StatusPendingSetup) || after["owner"] != "ldap" ||
		all[0].MemberID == "" || after["id"] != all[0].MemberID || after["org"] != "acme" {
		t.Fatalf("created event of member %q: after %s", all[0].MemberID, all[0].After)
	}
	for _, k := range []string{"created_at", "updated_at"} {
		if _, ok := after[k]; ok {
			t.Fatalf("created event after state repeats %q: %s", k, all[0].After)
		}
	}
}

func testRuns(t *testing.T, s *store.Store) {
	start := time.Now().UTC().Truncate(time.Millisecond)
	plan := provision("ldap", user("k1", "alice@example.org"))
	id, err := s.RecordRun(ctx, orgsync.Run{Org: "acme", Source: "ldap", StartedAt: start, FinishedAt: start.Add(time.Second),
		Result: orgsync.RunBlocked, Guard: orgsync.Decision{Blocked: true, Reason: "too many"}, Summary: plan.Summary(), Plan: &plan})
	if err != nil || id == 0 {
		t.Fatalf("RecordRun = %d, %v", id, err)
	}
	id2, _ := s.RecordRun(ctx, orgsync.Run{Org: "acme", Source: "other", StartedAt: start, FinishedAt: start, Result: orgsync.RunFailed, Error: "boom"})
	runs, err := s.Runs(ctx, store.RunFilter{WithPlan: true})
	if err != nil || len(runs) != 2 || runs[0].ID != id2 || runs[1].ID != id {
		t.Fatalf("Runs = %+v, %v", runs, err)
	}
	r := runs[1]
	if !r.Guard.Blocked || r.Guard.Reason != "too many" || r.Result != orgsync.RunBlocked || r.Summary[orgsync.ActionProvision] != 1 ||
		r.Plan == nil || len(r.Plan.Changes) != 1 || r.Duration() != time.Second {
		t.Fatalf("run = %+v", r)
	}
	if only, _ := s.Runs(ctx, store.RunFilter{Source: "other"}); len(only) != 1 || only[0].Error != "boom" {
		t.Fatalf("source filter: %+v", only)
	}
	huge := orgsync.Plan{Org: "acme", Owner: "ldap"}
	for i := 0; i < 10050; i++ {
		huge.Changes = append(huge.Changes, orgsync.Change{Action: orgsync.ActionDeprovision, MemberID: fmt.Sprint(i)})
	}
	s.RecordRun(ctx, orgsync.Run{Org: "acme", Source: "big", StartedAt: start, FinishedAt: start, Result: orgsync.RunApplied, Summary: huge.Summary(), Plan: &huge})
	big, _ := s.Runs(ctx, store.RunFilter{Source: "big", WithPlan: true})
	if len(big) != 1 || len(big[0].Plan.Changes) != 10000 || len(big[0].Plan.Warnings) != 1 || big[0].Summary[orgsync.ActionDeprovision] != 10050 {
		t.Fatalf("recorded huge plan: %d changes, warnings %v", len(big[0].Plan.Changes), big[0].Plan.Warnings)
	}
}

func testTryLock(t *testing.T, s *store.Store) {
	release, ok, err := s.TryLock(ctx, "source/corp")
	if err != nil || !ok {
		t.Fatalf("first TryLock = %v, %v", ok, err)
	}
	if _, ok2, err := s.TryLock(ctx, "source/corp"); err != nil || ok2 {
		t.Fatalf("second TryLock while held = %v, %v", ok2, err)
	}
	if r, ok3, err := s.TryLock(ctx, "source/other"); err != nil || !ok3 {
		t.Fatalf("other key = %v, %v", ok3, err)
	} else {
		r()
	}
	release()
	r, ok4, err := s.TryLock(ctx, "source/corp")
	if err != nil || !ok4 {
		t.Fatalf("TryLock after release = %v, %v", ok4, err)
	}
	r()
}

func testMembersList(t *testing.T, s *store.Store) {
	mustApply(t, s, provision("ldap", user("k1", "b@example.org"), user("k2", "a@example.org")))
	if _, err := s.CompleteSetup(ctx, "acme", "b@example.org", "cli"); err != nil {
		t.Fatal(err)
	}
	all, err := s.Members(ctx, "acme", store.MemberFilter{})
	if err != nil || len(all) != 2 || all[0].UserName != "a@example.org" {
		t.Fatalf("Members = %+v, %v", all, err)
	}
	pending, _ := s.Members(ctx, "acme", store.MemberFilter{Status: orgsync.StatusPendingSetup})
	if len(pending) != 1 || pending[0].UserName != "a@example.org" {
		t.Fatalf("pending = %+v", pending)
	}
	if _, err := s.Members(ctx, "nope", store.MemberFilter{}); !errors.Is(err, orgsync.ErrNotFound) {
		t.Fatalf("unknown org: %v", err)
	}
	counts, err := s.StatusCounts(ctx)
	if err != nil || counts["acme"][orgsync.StatusActive] != 1 || counts["acme"][orgsync.StatusPendingSetup] != 1 {
		t.Fatalf("StatusCounts = %v, %v", counts, err)
	}
}

func testClaim(t *testing.T, s *store.Store) {
	slot := time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)
	if took, err := s.Claim(ctx, "source:corp", slot); err != nil || !took {
		t.Fatalf("first Claim = %v, %v", took, err)
	}
	if took, err := s.Claim(ctx, "source:corp", slot); err != nil || took {
		t.Fatalf("second Claim of the same slot = %v, %v", took, err)
	}
	if took, _ := s.Claim(ctx, "source:corp", slot.Add(time.Minute)); !took {
		t.Fatal("the next slot was not claimable")
	}
	if took, _ := s.Claim(ctx, "source:other", slot); !took {
		t.Fatal("another job's slot was not claimable")
	}
}

// testTextRoundTrip stores awkward text through the bulk path and reads it
// back byte for byte.
func testTextRoundTrip(t *testing.T, s *store.Store) {
	names := []string{
		`quote " and back\\slash`, "new\nline\ttab\r", "ünïcödé 😀 \u202eRTL", "ctrl \x01\x1f\x7f", "K\u212a Kelvin", `{"json":[1,2]}`, "'; DROP TABLE members; --",
	}
	var ms []*orgsync.Member
	for i, n := range names {
		m := user(fmt.Sprintf("k%d", i), fmt.Sprintf("u%d@example.org", i))
		m.DisplayName, m.GivenName = n, n
		ms = append(ms, m)
	}
	mustApply(t, s, provision("ldap", ms...))
	byName, _ := mustObserve(t, s)
	for i, n := range names {
		got := byName[fmt.Sprintf("u%d@example.org", i)]
		if got.DisplayName != n || got.GivenName != n {
			t.Errorf("stored %q, read back %q", n, got.DisplayName)
		}
	}
	// NUL cannot be stored (PostgreSQL text refuses it): such a change is
	// skipped and named, never half-applied.
	nul := user("knul", "nul@example.org")
	nul.DisplayName = "nul\x00byte"
	a := mustApply(t, s, provision("ldap", nul))
	if a.Counts[orgsync.ActionProvision] != 0 || len(a.Skipped) != 1 || !strings.Contains(a.Skipped[0], "NUL") {
		t.Fatalf("NUL value applied: %+v", a)
	}
	evs, _ := s.Events(ctx, "acme", 0, 100)
	if len(evs) != len(names) || !json.Valid(evs[0].After) {
		t.Fatalf("events: %d, valid JSON %v", len(evs), len(evs) > 0 && json.Valid(evs[0].After))
	}
}

// testLargePlan applies a plan larger than one apply batch: every change
// lands once, events follow the plan's order, and a second apply is a no-op.
func testLargePlan(t *testing.T, s *store.Store) {
	const n = 4500
	p := orgsync.Plan{Org: "acme", Owner: "ldap", Changes: []orgsync.Change{
		{Action: orgsync.ActionGroupCreate, GroupName: "all", GroupKey: "g", Group: &orgsync.Group{DisplayName: "all"}}}}
	for i := 0; i < n; i++ {
		m := user(fmt.Sprintf("k%05d", i), fmt.Sprintf("u%05d@example.org", i))
		p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionProvision, UserName: m.UserName, MemberKey: m.ExternalID, Member: m})
	}
	for i := 0; i < n; i++ {
		p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionMemberAdd, GroupKey: "g", MemberKey: fmt.Sprintf("k%05d", i)})
	}
	a := mustApply(t, s, p)
	if a.Counts[orgsync.ActionProvision] != n || a.Counts[orgsync.ActionMemberAdd] != n {
		t.Fatalf("applied %v", a.Counts)
	}
	evs, err := s.Events(ctx, "acme", 0, 10000)
	if err != nil || len(evs) != 1+2*n {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	if evs[0].Kind != orgsync.EventGroupCreated || evs[1].Kind != orgsync.EventMemberCreated || evs[n+1].Kind != orgsync.EventGroupMemberAdded {
		t.Fatalf("events out of plan order: %s %s %s", evs[0].Kind, evs[1].Kind, evs[n+1].Kind)
	}
	if again := mustApply(t, s, p); again.Total() != 0 {
		t.Fatalf("second apply changed %v", again.Counts)
	}
	_, snap := mustObserve(t, s)
	if len(snap.Groups) != 1 || len(snap.Groups[0].Members) != n {
		t.Fatalf("group has %d members", len(snap.Groups[0].Members))
	}
}
