package store_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/statepatch"
	"github.com/orgsync/orgsync/store"
)

// TestCursorSavedOnlyWithAppliedPlan: a cursor is saved by the
// transaction that applies a plan (an empty one too), a failed apply
// leaves the stored one as it was, and a nil State keeps the stored State.
func TestCursorSavedOnlyWithAppliedPlan(t *testing.T) {
	forBackends(t, func(t *testing.T, s *store.Store) {
		c, err := s.Cursor(ctx, "acme", "corp", "")
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
	c, err := s.Cursor(ctx, org, source, "")
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

// TestCursorStatePatches: a State saved with a patch against the stored
// one is kept as the patch and rebuilt on read; the patches are folded
// into a whole State once they are many or large; a patch against another
// State, or one that does not name its State, writes the State whole;
// a damaged patch row reads as no State (the source then reads in full).
func TestCursorStatePatches(t *testing.T) {
	forBackends(t, func(t *testing.T, s *store.Store) {
		db := s.DBForTest()
		count := func() (n int64) {
			t.Helper()
			if err := db.Raw(`SELECT COUNT(*) FROM source_state_patches WHERE org_id = 'acme' AND source = 'corp'`).Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		save := func(c orgsync.Cursor) {
			t.Helper()
			if _, err := s.ApplyCursor(ctx, orgsync.Plan{Org: "acme", Owner: "corp"}, c); err != nil {
				t.Fatal(err)
			}
		}
		rng := rand.New(rand.NewPCG(7, 7))
		state := make([]byte, 64<<10)
		for i := range state {
			state[i] = byte(rng.IntN(256))
		}
		// edit changes a few bytes of the stored state and returns the new
		// state with its patch.
		edit := func(stored []byte) ([]byte, []byte) {
			next := bytes.Clone(stored)
			var spans []statepatch.Span
			at := 0
			for k := 0; k < 4; k++ {
				i := at + rng.IntN(len(next)/4-16)
				copy(next[i:], fmt.Sprintf("edit %08d", rng.IntN(1e8)))
				spans = append(spans, statepatch.Span{Dst: at, Src: at, N: i - at})
				at = i + 13
			}
			spans = append(spans, statepatch.Span{Dst: at, Src: at, N: len(next) - at})
			return next, statepatch.Build(stored, next, spans)
		}

		save(orgsync.Cursor{Position: "p0", State: state})
		want := state
		for i := 1; i <= 12; i++ {
			next, patch := edit(want)
			save(orgsync.Cursor{Position: fmt.Sprint("p", i), State: next, StatePatch: patch})
			want = next
			got := mustCursor(t, s)
			if !bytes.Equal(got.State, want) || got.StatePatch != nil {
				t.Fatalf("save %d: the state read back differs from the one saved (%d bytes, want %d)", i, len(got.State), len(want))
			}
			// Eight patches, then a whole State: the ninth save folds them.
			if n, wantN := count(), int64(i%(8+1)); n != wantN {
				t.Fatalf("save %d: %d patches stored, want %d", i, n, wantN)
			}
		}

		// A cursor saved without State keeps the State and its patches.
		save(orgsync.Cursor{Position: "kept"})
		if got := mustCursor(t, s); got.Position != "kept" || !bytes.Equal(got.State, want) {
			t.Fatal("a cursor without State lost the stored one")
		}

		// A patch larger than a quarter of the State is not kept.
		big := bytes.Clone(want)
		for i := 0; i < len(big)/3; i++ {
			big[i] ^= 0x5a
		}
		save(orgsync.Cursor{Position: "big", State: big, StatePatch: statepatch.Build(want, big, []statepatch.Span{{Dst: len(big) / 3, Src: len(big) / 3, N: len(big) - len(big)/3}})})
		if n := count(); n != 0 {
			t.Fatalf("a patch of a third of the state: %d patches stored, want the state whole", n)
		}
		want = big

		// A patch against another State, and one that names another
		// result, both write the State whole.
		other, otherPatch := edit(state)
		save(orgsync.Cursor{Position: "other", State: other, StatePatch: otherPatch})
		if got := mustCursor(t, s); !bytes.Equal(got.State, other) || count() != 0 {
			t.Fatal("a patch against another state: the state was not written whole")
		}
		next, patch := edit(other)
		save(orgsync.Cursor{Position: "lie", State: want, StatePatch: patch})
		if got := mustCursor(t, s); !bytes.Equal(got.State, want) || count() != 0 {
			t.Fatal("a patch naming another result: the state was not written whole")
		}

		// A damaged patch row: no State, with the rest of the cursor.
		next, patch = edit(want)
		save(orgsync.Cursor{Position: "last", State: next, StatePatch: patch})
		if count() != 1 {
			t.Fatal("the patch was not kept")
		}
		damaged := bytes.Clone(patch)
		damaged[len(damaged)-1] ^= 1
		if err := db.Exec(`UPDATE source_state_patches SET patch = ? WHERE org_id = 'acme' AND source = 'corp'`, damaged).Error; err != nil {
			t.Fatal(err)
		}
		if got := mustCursor(t, s); got.State != nil || got.Position != "last" {
			t.Fatalf("a damaged patch: got position %q and %d bytes of state, want last and none", got.Position, len(got.State))
		}
		// The next whole State heals it.
		save(orgsync.Cursor{Position: "full", State: state})
		if got := mustCursor(t, s); !bytes.Equal(got.State, state) || count() != 0 {
			t.Fatal("a whole State after a damaged patch: not read back")
		}
	})
}

// TestCursorHeldState: a reader that holds the stored State (by its ID)
// gets the cursor without it, whether the State is stored whole or as
// patches; any other ID, or none, gets the State rebuilt.
func TestCursorHeldState(t *testing.T) {
	forBackends(t, func(t *testing.T, s *store.Store) {
		save := func(c orgsync.Cursor) {
			t.Helper()
			if _, err := s.ApplyCursor(ctx, orgsync.Plan{Org: "acme", Owner: "corp"}, c); err != nil {
				t.Fatal(err)
			}
		}
		cursor := func(held string) orgsync.Cursor {
			t.Helper()
			c, err := s.Cursor(ctx, "acme", "corp", held)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		// Nothing stored: the zero cursor, whatever is held.
		if c := cursor("7:0000000000000001"); !c.Zero() || c.StateHeld {
			t.Fatalf("no cursor stored: got %+v", c)
		}
		base := bytes.Repeat([]byte("0123456789abcdef"), 4096)
		save(orgsync.Cursor{Position: "p1", State: base})
		next := bytes.Clone(base)
		copy(next[100:], "changed")
		patch := statepatch.Build(base, next, []statepatch.Span{{Dst: 0, Src: 0, N: 100}, {Dst: 107, Src: 107, N: len(next) - 107}})
		for _, tc := range []struct {
			name  string
			save  *orgsync.Cursor
			state []byte
		}{
			{"whole", nil, base},
			{"patched", &orgsync.Cursor{Position: "p2", State: next, StatePatch: patch}, next},
		} {
			if tc.save != nil {
				save(*tc.save)
			}
			id := statepatch.IDOf(tc.state).String()
			if c := cursor(id); !c.StateHeld || c.State != nil || c.Zero() || c.Position == "" {
				t.Fatalf("%s: held %s: got StateHeld %v, %d bytes of State, position %q", tc.name, id, c.StateHeld, len(c.State), c.Position)
			}
			for _, other := range []string{"", statepatch.IDOf([]byte("another state")).String()} {
				if c := cursor(other); c.StateHeld || !bytes.Equal(c.State, tc.state) {
					t.Fatalf("%s: held %q: got StateHeld %v and %d bytes of State, want the State", tc.name, other, c.StateHeld, len(c.State))
				}
			}
		}
	})
}
