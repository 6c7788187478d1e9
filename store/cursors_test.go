package store_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// TestCursorSavedOnlyWithAppliedPlan: a cursor is saved by the
// transaction that applies a plan (an empty one too), a failed apply
// leaves the stored one as it was, and a nil State keeps the stored State.
func TestCursorSavedOnlyWithAppliedPlan(t *testing.T) {
	forBackends(t, func(t *testing.T, s *store.Store) {
		c, err := s.Cursor(ctx, "acme", "corp")
		if err != nil || !c.Zero() {
			t.Fatalf("no cursor yet: got %+v, %v", c, err)
		}
		full := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		first := orgsync.Cursor{Position: "p1", Server: "ldap://a", Config: "cfg1", FullAt: full, State: []byte("state-1")}
		if _, err := s.ApplyCursor(ctx, orgsync.Plan{Org: "acme", Owner: "corp"}, first); err != nil {
			t.Fatal(err)
		}
		got := mustCursor(t, s)
		if got.Position != "p1" || got.Server != "ldap://a" || got.Config != "cfg1" || !got.FullAt.Equal(full) ||
			!bytes.Equal(got.State, []byte("state-1")) || got.SavedAt.IsZero() {
			t.Fatalf("saved cursor: got %+v", got)
		}

		// A plan that fails to apply (a member of an unknown org) saves nothing.
		bad := orgsync.Plan{Org: "nope", Owner: "corp", Changes: []orgsync.Change{{Action: orgsync.ActionProvision,
			UserName: "x", MemberKey: "x", Member: &orgsync.Member{UserName: "x"}}}}
		if _, err := s.ApplyCursor(ctx, bad, orgsync.Cursor{Position: "bad"}); err == nil {
			t.Fatal("apply to an unknown org: want an error")
		}
		if got := mustCursorOf(t, s, "nope", "corp"); !got.Zero() {
			t.Fatalf("failed apply saved a cursor: %+v", got)
		}

		// Applied with a plan; State nil keeps the stored state.
		p := orgsync.Plan{Org: "acme", Owner: "corp", Changes: []orgsync.Change{{Action: orgsync.ActionProvision,
			UserName: "a@example.org", MemberKey: "ka", Member: &orgsync.Member{UserName: "a@example.org"}}}}
		applied, err := s.ApplyCursor(ctx, p, orgsync.Cursor{Position: "p2", Server: "ldap://a", Config: "cfg1", FullAt: full})
		if err != nil || applied.Total() != 1 {
			t.Fatalf("apply: %+v, %v", applied, err)
		}
		got = mustCursor(t, s)
		if got.Position != "p2" || !bytes.Equal(got.State, []byte("state-1")) {
			t.Fatalf("after apply: got position %q state %q, want p2 and the kept state-1", got.Position, got.State)
		}
		if m, err := s.Member(ctx, "acme", "a@example.org"); err != nil || m.Owner != "corp" {
			t.Fatalf("member applied with the cursor: %+v, %v", m, err)
		}
	})
}

// TestRunRecordsRead: the run record keeps how the source was read.
func TestRunRecordsRead(t *testing.T) {
	forBackends(t, func(t *testing.T, s *store.Store) {
		now := time.Now().UTC()
		rd := &orgsync.Read{Kind: orgsync.ReadIncremental, Reason: "3 entries changed", Changed: 3, Listed: 100}
		id, err := s.RecordRun(ctx, orgsync.Run{Org: "acme", Source: "corp", StartedAt: now, FinishedAt: now, Result: orgsync.RunApplied, Read: rd})
		if err != nil {
			t.Fatal(err)
		}
		plain, err := s.RecordRun(ctx, orgsync.Run{Org: "acme", Source: "push", StartedAt: now, FinishedAt: now, Result: orgsync.RunApplied})
		if err != nil {
			t.Fatal(err)
		}
		runs, err := s.Runs(ctx, store.RunFilter{})
		if err != nil || len(runs) != 2 {
			t.Fatalf("runs: %v, %v", runs, err)
		}
		for _, r := range runs {
			switch r.ID {
			case id:
				if r.Read == nil || *r.Read != *rd {
					t.Errorf("run %d read: got %+v, want %+v", id, r.Read, rd)
				}
			case plain:
				if r.Read != nil {
					t.Errorf("run %d without a read kind: got %+v", plain, r.Read)
				}
			}
		}
	})
}

func mustCursor(t *testing.T, s *store.Store) orgsync.Cursor {
	t.Helper()
	return mustCursorOf(t, s, "acme", "corp")
}

func mustCursorOf(t *testing.T, s *store.Store, org, source string) orgsync.Cursor {
	t.Helper()
	c, err := s.Cursor(ctx, org, source)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCursorSettled: Settled is saved with the last event's seq after the
// apply, and dropped when the apply skipped a change.
func TestCursorSettled(t *testing.T) {
	forBackends(t, func(t *testing.T, s *store.Store) {
		provision(t, s, "acme", "other", "taken@example.org")
		p := orgsync.Plan{Org: "acme", Owner: "corp", Changes: []orgsync.Change{{Action: orgsync.ActionProvision,
			UserName: "a@example.org", MemberKey: "ka", Member: &orgsync.Member{UserName: "a@example.org"}}}}
		settled := &orgsync.Settled{Job: "default_role=member", Users: 7, Disabled: 1}
		if _, err := s.ApplyCursor(ctx, p, orgsync.Cursor{Position: "p1", State: []byte("s"), Settled: settled}); err != nil {
			t.Fatal(err)
		}
		seq, err := s.StoreSeq(ctx)
		if err != nil || seq == 0 {
			t.Fatalf("store seq %d, %v", seq, err)
		}
		got := mustCursor(t, s)
		if got.Settled == nil || got.Settled.StoreSeq != seq || got.Settled.Users != 7 || got.Settled.Job != settled.Job {
			t.Fatalf("settled: got %+v, want seq %d", got.Settled, seq)
		}

		// A provision whose user name another owner holds is skipped.
		skip := orgsync.Plan{Org: "acme", Owner: "corp", Changes: []orgsync.Change{{Action: orgsync.ActionProvision,
			UserName: "taken@example.org", MemberKey: "kt", Member: &orgsync.Member{UserName: "taken@example.org"}}}}
		applied, err := s.ApplyCursor(ctx, skip, orgsync.Cursor{Position: "p2", Settled: settled})
		if err != nil || len(applied.Skipped) == 0 {
			t.Fatalf("want a skipped provision: %+v, %v", applied, err)
		}
		if got := mustCursor(t, s); got.Position != "p2" || got.Settled != nil {
			t.Fatalf("after a skipped change: position %q, settled %+v (want p2, nil)", got.Position, got.Settled)
		}
	})
}

// TestApplyCursorAdvancesCounts: the owner's counts of a settled cursor are
// advanced by exactly what each apply changed (provisions, deprovisions,
// reactivations, adoptions, purges, memberships added and removed, groups
// deleted with their members), and stay what the store counts.
func TestApplyCursorAdvancesCounts(t *testing.T) {
	forBackends(t, func(t *testing.T, s *store.Store) {
		counts := func() (int, int) {
			t.Helper()
			var m, ms int
			err := s.ReadScope(ctx, "acme", func(tx orgsync.ScopeTx) error {
				var err error
				m, ms, err = tx.Owned("corp")
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return m, ms
		}
		id := func(userName string) string {
			t.Helper()
			m, err := s.Member(ctx, "acme", userName)
			if err != nil {
				t.Fatal(err)
			}
			return m.ID
		}
		prov := func(key string) orgsync.Change {
			return orgsync.Change{Action: orgsync.ActionProvision, UserName: key + "@x", MemberKey: key,
				Member: &orgsync.Member{UserName: key + "@x", Emails: []orgsync.Email{{Value: key + "@x", Primary: true}}}}
		}
		group := func(key string) orgsync.Change {
			return orgsync.Change{Action: orgsync.ActionGroupCreate, GroupName: key, GroupKey: key, Group: &orgsync.Group{DisplayName: key, ExternalID: key}}
		}
		add := func(g, key string) orgsync.Change {
			return orgsync.Change{Action: orgsync.ActionMemberAdd, GroupName: g, GroupKey: g, UserName: key + "@x", MemberKey: key}
		}
		member := func(a orgsync.Action, key string) orgsync.Change {
			return orgsync.Change{Action: a, UserName: key + "@x", MemberID: id(key + "@x")}
		}
		// An unowned member to adopt, and a SCIM group whose members do not count.
		if _, err := s.Apply(ctx, orgsync.Plan{Org: "acme", Owner: "", Changes: []orgsync.Change{prov("legacy")}}); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			name string
			plan func() []orgsync.Change
		}{
			{"provision with groups", func() []orgsync.Change {
				return []orgsync.Change{prov("a"), prov("b"), prov("c"), prov("d"), group("g1"), group("g2"),
					add("g1", "a"), add("g1", "b"), add("g1", "c"), add("g2", "a"), add("g2", "d")}
			}},
			{"again: nothing applies", func() []orgsync.Change {
				return []orgsync.Change{prov("a"), group("g1"), add("g1", "a")}
			}},
			{"deprovision", func() []orgsync.Change {
				return []orgsync.Change{member(orgsync.ActionDeprovision, "b"), member(orgsync.ActionDeprovision, "d")}
			}},
			{"deprovision again", func() []orgsync.Change { return []orgsync.Change{member(orgsync.ActionDeprovision, "b")} }},
			{"reactivate", func() []orgsync.Change { return []orgsync.Change{member(orgsync.ActionReactivate, "b")} }},
			{"adopt", func() []orgsync.Change {
				c := member(orgsync.ActionAdopt, "legacy")
				c.MemberKey, c.Member = "legacy", &orgsync.Member{UserName: "legacy@x", Emails: []orgsync.Email{{Value: "legacy@x", Primary: true}}}
				return []orgsync.Change{c, add("g2", "legacy")}
			}},
			{"remove a membership", func() []orgsync.Change {
				return []orgsync.Change{{Action: orgsync.ActionMemberRemove, GroupName: "g1", GroupKey: "g1", UserName: "c@x", MemberID: id("c@x")}}
			}},
			{"purge a deprovisioned member of a group", func() []orgsync.Change {
				return []orgsync.Change{member(orgsync.ActionPurge, "d")}
			}},
			{"delete a group with members", func() []orgsync.Change {
				return []orgsync.Change{{Action: orgsync.ActionGroupDelete, GroupName: "g1", GroupKey: "g1"}}
			}},
		}
		for _, step := range steps {
			m, ms := counts()
			c := orgsync.Cursor{Position: step.name, Settled: &orgsync.Settled{Job: "j", Counted: true, Owned: m, OwnedMemberships: ms}}
			if _, err := s.ApplyCursor(ctx, orgsync.Plan{Org: "acme", Owner: "corp", Changes: step.plan()}, c); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			got := mustCursor(t, s)
			if got.Settled == nil {
				t.Fatalf("%s: the apply skipped a change", step.name)
			}
			m, ms = counts()
			if got.Settled.Owned != m || got.Settled.OwnedMemberships != ms {
				t.Fatalf("%s: cursor counts %d members, %d memberships; the store %d, %d",
					step.name, got.Settled.Owned, got.Settled.OwnedMemberships, m, ms)
			}
			t.Logf("%s: %d members, %d memberships", step.name, m, ms)
		}
	})
}
