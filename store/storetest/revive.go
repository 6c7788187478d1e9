package storetest

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/orgsync/orgsync"
)

// The SCIM revival rule (issue 14 item 2): a create with the userName of a
// SCIM-deleted member revives it only when the externalId is the same
// (both empty counts as the same); anyone else gets a new member, and
// setup state and group memberships never move to another identity.

func scimMember(name, externalID string) orgsync.Member {
	return orgsync.Member{UserName: name, ExternalID: externalID, DisplayName: "D " + name,
		Emails: []orgsync.Email{{Value: name, Type: "work", Primary: true}}}
}

// setUpDeletedAdmin creates alice (userName name) with externalID,
// completes her setup, puts her in a new SCIM group "admins-"+name and
// SCIM-deletes her.
func setUpDeletedAdmin(t *testing.T, s target, name, externalID string) (alice orgsync.Member, admins orgsync.Group) {
	t.Helper()
	alice, err := s.scim().CreateMember(ctx, "acme", scimMember(name, externalID))
	if err != nil {
		t.Fatalf("create alice: %v", err)
	}
	if alice, err = s.admin().CompleteSetup(ctx, "acme", alice.ID, "kms"); err != nil || alice.SetupCompletedAt == nil {
		t.Fatalf("complete setup: %+v, %v", alice, err)
	}
	if admins, err = s.scim().CreateGroup(ctx, "acme", orgsync.Group{DisplayName: "admins-" + name, Members: []string{alice.ID}}); err != nil {
		t.Fatalf("create admins: %v", err)
	}
	if err := s.scim().DeleteMember(ctx, "acme", alice.ID, 0); err != nil {
		t.Fatalf("delete alice: %v", err)
	}
	return alice, admins
}

// groupMembers is the stored membership of group id (tombstones included).
func groupMembers(t *testing.T, s target, id string) []string {
	t.Helper()
	_, snap := mustObserve(t, s)
	for _, g := range snap.Groups {
		if g.ID == id {
			return g.Members
		}
	}
	t.Fatalf("group %s not in the snapshot", id)
	return nil
}

func eventsOf(t *testing.T, s target, memberID string) []orgsync.Event {
	t.Helper()
	all, err := s.admin().Events(ctx, "acme", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []orgsync.Event
	for _, e := range all {
		if e.MemberID == memberID {
			out = append(out, e)
		}
	}
	return out
}

func hasEvent(evs []orgsync.Event, kind, groupID string) bool {
	for _, e := range evs {
		if e.Kind == kind && e.GroupID == groupID {
			return true
		}
	}
	return false
}

func testSCIMDeleteDropsMemberships(t *testing.T, s target) {
	alice, admins := setUpDeletedAdmin(t, s, "alice@example.org", "X")
	if ms := groupMembers(t, s, admins.ID); len(ms) != 0 {
		t.Fatalf("admins still holds %v after alice's SCIM DELETE", ms)
	}
	if !hasEvent(eventsOf(t, s, alice.ID), orgsync.EventGroupMemberRemoved, admins.ID) {
		t.Fatalf("no %s event for alice leaving admins: %+v", orgsync.EventGroupMemberRemoved, eventsOf(t, s, alice.ID))
	}
	// The tombstone is listed as the deprovisioned member it is.
	dep, err := s.admin().Members(ctx, "acme", orgsync.StatusDeprovisioned)
	if err != nil || len(dep) != 1 || dep[0].ID != alice.ID || dep[0].DeletedAt == nil || len(dep[0].Groups) != 0 {
		t.Fatalf("deprovisioned list = %+v, %v; want alice's tombstone without groups", dep, err)
	}
	if pending, _ := s.admin().Members(ctx, "acme", orgsync.StatusActive); len(pending) != 0 {
		t.Fatalf("active list shows the tombstone: %+v", pending)
	}
}

func testSCIMRecreateOtherIdentity(t *testing.T, s target) {
	old, admins := setUpDeletedAdmin(t, s, "alice@example.org", "X")
	// Somebody else, with alice's userName (differently cased).
	bob, err := s.scim().CreateMember(ctx, "acme", scimMember("Alice@Example.org", "Y"))
	if err != nil {
		t.Fatalf("re-POST with another externalId: %v", err)
	}
	if bob.ID == old.ID || bob.Status != orgsync.StatusPendingSetup || bob.SetupCompletedAt != nil || bob.ExternalID != "Y" || bob.DeletedAt != nil {
		t.Fatalf("newcomer = %+v; want a new pending_setup member (old id %s)", bob, old.ID)
	}
	if ms := groupMembers(t, s, admins.ID); len(ms) != 0 {
		t.Fatalf("admins holds %v; the newcomer must not inherit alice's groups", ms)
	}
	if got, err := s.scim().Member(ctx, "acme", bob.ID); err != nil || got.UserName != "Alice@Example.org" {
		t.Fatalf("newcomer via SCIM = %+v, %v", got, err)
	}
	if _, err := s.scim().Member(ctx, "acme", old.ID); !errors.Is(err, orgsync.ErrNotFound) {
		t.Fatalf("old tombstone visible to SCIM: %v", err)
	}
	// The old member is kept (deprovisioned, its setup record intact)
	// under a retired name, and the rename is in the event log.
	tomb, err := s.operator().Member(ctx, "acme", old.ID)
	if err != nil || tomb.DeletedAt == nil || tomb.Status != orgsync.StatusDeprovisioned || tomb.SetupCompletedAt == nil ||
		tomb.ExternalID != "X" || tomb.UserName != orgsync.RetiredUserName("alice@example.org", old.ID) {
		t.Fatalf("old tombstone = %+v, %v", tomb, err)
	}
	if byName, err := s.operator().Member(ctx, "acme", "alice@example.org"); err != nil || byName.ID != bob.ID {
		t.Fatalf("alice@example.org now names %+v, %v; want the newcomer", byName, err)
	}
	var renamed bool
	for _, e := range eventsOf(t, s, old.ID) {
		var before, after struct {
			UserName string `json:"user_name"`
		}
		if e.Kind == orgsync.EventMemberUpdated && json.Unmarshal(e.Before, &before) == nil && json.Unmarshal(e.After, &after) == nil &&
			before.UserName == "alice@example.org" && after.UserName == tomb.UserName {
			renamed = true
		}
	}
	if !renamed {
		t.Fatalf("no member.updated event records the tombstone's rename: %+v", eventsOf(t, s, old.ID))
	}
	dep, _ := s.admin().Members(ctx, "acme", orgsync.StatusDeprovisioned)
	if len(dep) != 1 || dep[0].ID != old.ID {
		t.Fatalf("deprovisioned list = %+v; want the old tombstone", dep)
	}
	// Setup of the newcomer is its own: completing it does not touch the
	// tombstone, and the newcomer's DELETE and re-POST with "Y" revives
	// the newcomer, not alice.
	if err := s.scim().DeleteMember(ctx, "acme", bob.ID, 0); err != nil {
		t.Fatal(err)
	}
	again, err := s.scim().CreateMember(ctx, "acme", scimMember("alice@example.org", "Y"))
	if err != nil || again.ID != bob.ID || again.Status != orgsync.StatusPendingSetup || again.SetupCompletedAt != nil {
		t.Fatalf("re-POST of Y = %+v, %v; want the newcomer %s revived, still pending_setup", again, err, bob.ID)
	}
}

// testSCIMRecreateExternalIDChanges covers an externalId dropped or added
// on the re-POST: not the same identity either.
func testSCIMRecreateExternalIDChanges(t *testing.T, s target) {
	for i, tc := range []struct{ name, old, new string }{
		{"a@example.org", "X", ""},
		{"b@example.org", "", "Y"},
	} {
		m, err := s.scim().CreateMember(ctx, "acme", scimMember(tc.name, tc.old))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.admin().CompleteSetup(ctx, "acme", m.ID, "kms"); err != nil {
			t.Fatal(err)
		}
		if err := s.scim().DeleteMember(ctx, "acme", m.ID, 0); err != nil {
			t.Fatal(err)
		}
		n, err := s.scim().CreateMember(ctx, "acme", scimMember(tc.name, tc.new))
		if err != nil || n.ID == m.ID || n.Status != orgsync.StatusPendingSetup || n.SetupCompletedAt != nil {
			t.Fatalf("case %d: externalId %q then %q: %+v, %v; want a new pending_setup member", i, tc.old, tc.new, n, err)
		}
	}
}

func testSCIMReviveSameIdentity(t *testing.T, s target) {
	for _, tc := range []struct{ name, ext string }{{"alice@example.org", "X"}, {"dave@example.org", ""}} {
		old, admins := setUpDeletedAdmin(t, s, tc.name, tc.ext)
		back, err := s.scim().CreateMember(ctx, "acme", scimMember(tc.name, tc.ext))
		if err != nil {
			t.Fatalf("externalId %q: re-POST: %v", tc.ext, err)
		}
		// Same person: same ID, active (setup was completed), visible.
		if back.ID != old.ID || back.Status != orgsync.StatusActive || back.SetupCompletedAt == nil || back.DeletedAt != nil || back.DeprovisionedAt != nil {
			t.Fatalf("externalId %q: revived = %+v; want %s active", tc.ext, back, old.ID)
		}
		if got, err := s.scim().Member(ctx, "acme", old.ID); err != nil || got.Status != orgsync.StatusActive {
			t.Fatalf("externalId %q: revived member via SCIM = %+v, %v", tc.ext, got, err)
		}
		// The DELETE dropped the memberships: the revival starts without.
		if ms := groupMembers(t, s, admins.ID); len(ms) != 0 {
			t.Fatalf("externalId %q: %s holds %v after the revival", tc.ext, admins.DisplayName, ms)
		}
		if !hasEvent(eventsOf(t, s, old.ID), orgsync.EventMemberReactivated, "") {
			t.Fatalf("externalId %q: no member.reactivated event", tc.ext)
		}
	}
}

// testSCIMRecreateOverSuspended: a member deprovisioned with active=false
// but not deleted is still a visible resource: a POST of its userName with
// another externalId is a conflict, with the same one a reactivation.
func testSCIMRecreateOverSuspended(t *testing.T, s target) {
	m, err := s.scim().CreateMember(ctx, "acme", scimMember("carol@example.org", "X"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.scim().UpdateMember(ctx, "acme", m.ID, 0, func(m *orgsync.Member) error { m.Status = orgsync.StatusDeprovisioned; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.scim().CreateMember(ctx, "acme", scimMember("carol@example.org", "Y")); !errors.Is(err, orgsync.ErrConflict) {
		t.Fatalf("POST over a suspended member with another externalId: %v, want ErrConflict", err)
	}
	back, err := s.scim().CreateMember(ctx, "acme", scimMember("carol@example.org", "X"))
	if err != nil || back.ID != m.ID || back.Status != orgsync.StatusPendingSetup {
		t.Fatalf("POST with the same externalId = %+v, %v; want %s reactivated", back, err, m.ID)
	}
}

// testSCIMRenameOntoTombstone: a live member renamed to a deleted member's
// userName takes the name; the tombstone is retired, not revived or merged.
func testSCIMRenameOntoTombstone(t *testing.T, s target) {
	old, _ := setUpDeletedAdmin(t, s, "alice@example.org", "X")
	eve, err := s.scim().CreateMember(ctx, "acme", scimMember("eve@example.org", "E"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.scim().UpdateMember(ctx, "acme", eve.ID, 0, func(m *orgsync.Member) error { m.UserName = "Alice@example.org"; return nil })
	if err != nil || got.ID != eve.ID || got.UserName != "Alice@example.org" || got.Status != orgsync.StatusPendingSetup || got.SetupCompletedAt != nil {
		t.Fatalf("rename onto a tombstone's name = %+v, %v", got, err)
	}
	tomb, err := s.operator().Member(ctx, "acme", old.ID)
	if err != nil || tomb.DeletedAt == nil || tomb.UserName != orgsync.RetiredUserName("alice@example.org", old.ID) {
		t.Fatalf("tombstone after the rename = %+v, %v", tomb, err)
	}
}
