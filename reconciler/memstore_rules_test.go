package reconciler

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler/reconcilertest"
)

// TestMemStoreAppliesTheDomainRules: the in-memory fake decides with
// orgsync.MayApply and the Member transitions, as the real store does (see
// store/storetest): an admin is never purged however its role is spelled,
// a source changes no other owner's member, and a reactivated tombstone is
// no longer deleted.
func TestMemStoreAppliesTheDomainRules(t *testing.T) {
	deleted := func(m *orgsync.Member) { at := t0; m.DeletedAt = &at }
	s := reconcilertest.NewStore([]orgsync.Member{
		member("a1", src, "k1", "a1@x", orgsync.StatusDeprovisioned, role(" Admin ")),
		member("a2", src, "k2", "a2@x", orgsync.StatusDeprovisioned, role("ADMIN")),
		member("m3", src, "k3", "m3@x", orgsync.StatusDeprovisioned),
		member("m4", src, "k4", "m4@x", orgsync.StatusActive),
		member("s5", orgsync.OwnerSCIM, "k5", "s5@x", orgsync.StatusDeprovisioned, setupDone, deleted),
		member("h6", "hr", "k6", "h6@x", orgsync.StatusActive),
	}, nil)
	purge := orgsync.Plan{Org: "acme", Owner: orgsync.OwnerPurge}
	for _, id := range []string{"a1", "a2", "m3", "m4"} {
		purge.Changes = append(purge.Changes, orgsync.Change{Action: orgsync.ActionPurge, UserName: id, MemberID: id})
	}
	a, err := s.Apply(context.Background(), purge)
	if err != nil || a.Counts[orgsync.ActionPurge] != 1 || !slices.Equal(a.Skipped, []string{
		"purge a1: admins are never purged", "purge a2: admins are never purged", "purge m4: member is not deprovisioned"}) {
		t.Fatalf("purge applied %+v, %v", a, err)
	}
	if s.Members["m3"] != nil || s.Members["a1"] == nil || s.Members["a2"] == nil || s.Members["m4"] == nil {
		t.Fatalf("after the purge: %v", slices.Sorted(maps.Keys(s.Members)))
	}

	s5 := member("", "", "k5", "s5@x", orgsync.StatusActive)
	a, err = s.Apply(context.Background(), orgsync.Plan{Org: "acme", Owner: orgsync.OwnerSCIM, Changes: []orgsync.Change{
		{Action: orgsync.ActionReactivate, UserName: "s5", MemberID: "s5", Member: &s5}}})
	if got := s.Members["s5"]; err != nil || a.Counts[orgsync.ActionReactivate] != 1 ||
		got.Status != orgsync.StatusActive || got.DeletedAt != nil || got.DeprovisionedAt != nil {
		t.Fatalf("reactivation of a tombstone: %+v, %v: %+v", a, err, got)
	}

	a, err = s.Apply(context.Background(), orgsync.Plan{Org: "acme", Owner: src, Changes: []orgsync.Change{
		{Action: orgsync.ActionDeprovision, UserName: "h6", MemberID: "h6"}}})
	if err != nil || a.Total() != 0 || !slices.Equal(a.Skipped, []string{`deprovision h6: member is owned by "hr"`}) ||
		s.Members["h6"].Status != orgsync.StatusActive {
		t.Fatalf("deprovision of another owner's member: %+v, %v", a, err)
	}
}
