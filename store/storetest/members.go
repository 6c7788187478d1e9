package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

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
