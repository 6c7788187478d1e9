package store_test

import (
	"fmt"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// TestApplyManyMemberUpdates: an apply of more member changes than one
// batched UPDATE holds (PostgreSQL writes the updates that touch neither
// an indexed column nor the emails together) writes every one of them as
// planned, beside deprovisions, renames and new emails, with one event
// each.
func TestApplyManyMemberUpdates(t *testing.T) {
	forBackends(t, func(t *testing.T, s *store.Store) {
		const n = 1234
		if _, err := s.Apply(ctx, bigPlan(n, 3)); err != nil {
			t.Fatal(err)
		}
		before, err := s.Observed(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		seq0, err := s.StoreSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]orgsync.Member{}
		// The deprovisions first, then one run of updates: the updates
		// are applied together, more than one batch of them.
		p := orgsync.Plan{Org: "acme", Owner: "ldap"}
		var updates []orgsync.Change
		for i, m := range before.Members {
			next := m
			switch i % 100 {
			case 0:
				p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionDeprovision, UserName: m.UserName, MemberID: m.ID})
				next.Status = orgsync.StatusDeprovisioned
				want[m.ID] = next
				continue
			case 1: // a new user name: an indexed column
				next.UserName = "renamed-" + m.UserName
			case 2: // new emails
				next.Emails = []orgsync.Email{{Value: fmt.Sprintf("other%d@example.org", i), Type: "work", Primary: true}}
			default:
				next.FamilyName, next.DisplayName = fmt.Sprint("Family changed ", i), fmt.Sprint("Display changed ", i)
			}
			updates = append(updates, orgsync.Change{Action: orgsync.ActionUpdate, UserName: m.UserName, MemberID: m.ID,
				MemberKey: m.ExternalID, Member: &next})
			want[m.ID] = next
		}
		p.Changes = append(p.Changes, updates...)
		a, err := s.Apply(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Counts[orgsync.ActionUpdate] + a.Counts[orgsync.ActionDeprovision]; got != n || len(a.Skipped) > 0 {
			t.Fatalf("applied %v, skipped %v; want %d changes", a.Counts, a.Skipped, n)
		}
		after, err := s.Observed(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range after.Members {
			w := want[m.ID]
			if m.UserName != w.UserName || m.FamilyName != w.FamilyName || m.DisplayName != w.DisplayName || m.Status != w.Status ||
				m.Email() != w.Email() || m.Version <= w.Version {
				t.Fatalf("member %s: got %q %q %q %s %q v%d, want %q %q %q %s %q after v%d", m.ID, m.UserName, m.FamilyName, m.DisplayName,
					m.Status, m.Email(), m.Version, w.UserName, w.FamilyName, w.DisplayName, w.Status, w.Email(), w.Version)
			}
		}
		if seq, err := s.StoreSeq(ctx); err != nil || seq-seq0 != n {
			t.Fatalf("%d events written (err %v), want %d", seq-seq0, err, n)
		}
	})
}
