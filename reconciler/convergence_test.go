package reconciler

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler/reconcilertest"
)

// randomState draws a desired snapshot over a fixed universe of users and
// groups. Names and emails come in variants per key (renames, email
// changes) but never collide across keys, so only the planted scim and
// unowned members can conflict.
func randomState(r *rand.Rand) orgsync.Snapshot {
	var s orgsync.Snapshot
	var keys []string
	for i := range 12 {
		if r.IntN(10) < 3 {
			continue
		}
		key := fmt.Sprintf("u%d", i)
		keys = append(keys, key)
		m := desiredUser(key, fmt.Sprintf("%s.v%d@x", key, r.IntN(2)),
			email(fmt.Sprintf("%s.e%d@x", key, r.IntN(2))), displayName(fmt.Sprintf("User %d/%d", i, r.IntN(2))))
		if r.IntN(5) == 0 {
			m.Role = orgsync.RoleAdmin
		}
		if r.IntN(5) == 0 {
			m.Status = orgsync.StatusDeprovisioned
		}
		if n := r.IntN(3); n > 0 { // a source's extra attributes: none, or one of two documents
			m.Attributes = []byte(fmt.Sprintf(`{"title":"T%d","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D"}}`, n))
		}
		s.Members = append(s.Members, m)
	}
	r.Shuffle(len(s.Members), func(i, j int) { s.Members[i], s.Members[j] = s.Members[j], s.Members[i] })
	for i := range 5 {
		if r.IntN(10) < 3 {
			continue
		}
		g := group(fmt.Sprintf("g%d", i), fmt.Sprintf("group%d-v%d", i, r.IntN(2)), nil)
		for _, k := range keys {
			if r.IntN(3) == 0 {
				g.Members = append(g.Members, k)
			}
		}
		if r.IntN(4) == 0 {
			g.Members = append(g.Members, "out-of-scope")
		}
		for j := range 5 {
			if j != i && r.IntN(4) == 0 {
				g.Subgroups = append(g.Subgroups, fmt.Sprintf("g%d", j))
			}
		}
		s.Groups = append(s.Groups, g)
	}
	return s
}

// seedStore holds what other owners put in the org: a scim member whose
// user name collides with one variant of u3 and whose email equals one of
// u4's, a scim group, and unowned members adoptable by u5's first email.
func seedStore() *reconcilertest.Store {
	return reconcilertest.NewStore([]orgsync.Member{
		member("s1", orgsync.OwnerSCIM, "scim-1", "u3.v1@x", active, email("u4.e0@x")),
		member("s2", orgsync.OwnerSCIM, "scim-2", "s2@x", deprov),
		member("legacy5", "", "", "legacy5", active, email("U5.E0@x")),
		member("legacy9", "", "", "legacy9", deprov, email("nobody@x")),
	}, []orgsync.Group{ownedGroup("SG", orgsync.OwnerSCIM, "scim-g", "scim-group", "s1", "s2")})
}

// drift changes owned state locally, as an admin poking at the store would.
func drift(r *rand.Rand, s *reconcilertest.Store) {
	for _, id := range slices.Sorted(maps.Keys(s.Members)) {
		m := s.Members[id]
		if m.Owner != src || r.IntN(4) != 0 {
			continue
		}
		switch r.IntN(4) {
		case 0:
			m.Role = "auditor"
		case 1:
			m.Status = orgsync.StatusDeprovisioned
		case 2:
			m.DisplayName = "edited locally"
		case 3:
			m.Status = orgsync.StatusActive // setup was completed
			at := t0
			m.SetupCompletedAt = &at
		}
	}
	for _, id := range slices.Sorted(maps.Keys(s.Groups)) {
		g := s.Groups[id]
		if g.Owner != src {
			continue
		}
		if len(g.Members) > 0 && r.IntN(3) == 0 {
			g.Members = g.Members[1:]
		}
		if r.IntN(3) == 0 && !slices.Contains(g.Members, "s1") {
			g.Members = append(g.Members, "s1") // a scim member put in our group
		}
	}
}

func TestConvergence(t *testing.T) {
	ctx := context.Background()
	var totalAdoptions, totalConflicts, totalReactivations int
	defer func() {
		// The planted scenarios must really happen, or the test proves little.
		if totalAdoptions == 0 || totalConflicts == 0 || totalReactivations == 0 {
			t.Errorf("adoptions %d, conflicts %d, reactivations %d: want each > 0", totalAdoptions, totalConflicts, totalReactivations)
		}
	}()
	for seed := range uint64(20) {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 42))
			states := make([]orgsync.Snapshot, 6)
			for i := range states {
				states[i] = randomState(r)
			}
			s := seedStore()
			foreign := foreignState(s.Snapshot())
			adoptions := 0
			opts := Options{Org: "acme", Owner: src}
			for round := range 5 * len(states) {
				i := r.IntN(len(states))
				if r.IntN(3) == 0 {
					drift(r, s)
				}
				obs0, _ := s.Observed(ctx, "acme")
				p := Diff(states[i], obs0, opts)
				sorted := slices.Clone(p.Changes)
				sortChanges(sorted)
				if !reflect.DeepEqual(sorted, p.Changes) {
					t.Fatalf("round %d: plan not in sortChanges order:\n%q", round, planLines(p))
				}
				applied, err := s.Apply(ctx, p)
				if err != nil {
					t.Fatalf("round %d: apply: %v", round, err)
				}
				if len(applied.Skipped) > 0 || applied.Total() != len(p.Changes) {
					t.Fatalf("round %d: applied %d of %d changes, skipped %q\nplan %q", round, applied.Total(), len(p.Changes), applied.Skipped, planLines(p))
				}
				adoptions += applied.Counts[orgsync.ActionAdopt]
				totalAdoptions += applied.Counts[orgsync.ActionAdopt]
				totalReactivations += applied.Counts[orgsync.ActionReactivate]
				totalConflicts += len(p.Conflicts)
				obs, _ := s.Observed(ctx, "acme")
				if again := Diff(states[i], obs, opts); !again.Empty() {
					t.Fatalf("round %d: the run after a run plans %q", round, planLines(again))
				}
				checkConverged(t, round, states[i], p, obs)
				checkKeptMemberships(t, round, obs0, obs)
				if got := foreignState(obs); got != foreign {
					t.Fatalf("round %d: members or groups of other owners changed:\n got %s\nwant %s", round, got, foreign)
				}
			}
			if adoptions > 1 {
				t.Errorf("legacy5 adopted %d times", adoptions)
			}
		})
	}
}

// foreignState renders what other owners hold; it must never change.
// legacy5 is left out: this source may adopt it.
func foreignState(s orgsync.Snapshot) string {
	var out []string
	for _, m := range s.Members {
		if m.Owner != src && m.UserName != "legacy5" {
			out = append(out, fmt.Sprintf("%+v", m))
		}
	}
	for _, g := range s.Groups {
		if g.Owner != src {
			out = append(out, fmt.Sprintf("%+v", g))
		}
	}
	slices.Sort(out)
	return fmt.Sprint(out)
}

// checkConverged asserts the store holds desired for everything src owns,
// except the entries the plan listed as conflicts.
func checkConverged(t *testing.T, round int, desired orgsync.Snapshot, p orgsync.Plan, s orgsync.Snapshot) {
	t.Helper()
	held := map[string]bool{}
	for _, c := range p.Conflicts {
		held[c.Key] = true
	}
	owned := map[string]*orgsync.Member{}
	names := map[string]string{}
	byID := map[string]*orgsync.Member{}
	for i := range s.Members {
		m := &s.Members[i]
		byID[m.ID] = m
		if prev, dup := names[orgsync.Fold(m.UserName)]; dup {
			t.Fatalf("round %d: user name %q held by %s and %s", round, m.UserName, prev, m.ID)
		}
		names[orgsync.Fold(m.UserName)] = m.ID
		if m.Owner == src {
			if owned[m.ExternalID] != nil {
				t.Fatalf("round %d: two members with key %s", round, m.ExternalID)
			}
			owned[m.ExternalID] = m
		}
	}
	enabled := map[string]bool{}
	for _, d := range desired.Members {
		m := owned[d.ExternalID]
		if held[d.ExternalID] {
			continue
		}
		if d.Status == orgsync.StatusDeprovisioned {
			if m != nil && m.Status != orgsync.StatusDeprovisioned {
				t.Fatalf("round %d: %s disabled at the source but %s", round, d.ExternalID, m.Status)
			}
			continue
		}
		enabled[d.ExternalID] = true
		want := desiredUser(d.ExternalID, d.UserName, email(d.Email()), displayName(d.DisplayName), role(Options{}.role(d.Role)))
		switch {
		case m == nil:
			t.Fatalf("round %d: %s not provisioned", round, d.ExternalID)
		case m.Status == orgsync.StatusDeprovisioned:
			t.Fatalf("round %d: %s still deprovisioned", round, d.ExternalID)
		case m.UserName != want.UserName || m.Email() != want.Email() || m.DisplayName != want.DisplayName || m.Role != want.Role:
			t.Fatalf("round %d: %s is %+v, want %+v", round, d.ExternalID, *m, want)
		}
	}
	for key, m := range owned {
		if !slices.ContainsFunc(desired.Members, func(d orgsync.Member) bool { return d.ExternalID == key }) && m.Status != orgsync.StatusDeprovisioned {
			t.Fatalf("round %d: %s gone from the source but %s", round, key, m.Status)
		}
	}
	flat := orgsync.Flatten(desired.Groups)
	groups := map[string]*orgsync.Group{}
	for i := range s.Groups {
		if g := &s.Groups[i]; g.Owner == src {
			groups[g.ExternalID] = g
		}
	}
	if len(groups) != len(desired.Groups) {
		t.Fatalf("round %d: %d owned groups, want %d", round, len(groups), len(desired.Groups))
	}
	for _, dg := range desired.Groups {
		g := groups[dg.ExternalID]
		if g == nil || g.DisplayName != dg.DisplayName {
			t.Fatalf("round %d: group %s is %+v, want name %q", round, dg.ExternalID, g, dg.DisplayName)
		}
		var got, want []string
		for _, id := range g.Members {
			m := byID[id]
			if m.Owner == src && m.Status != orgsync.StatusDeprovisioned && !held[m.ExternalID] {
				got = append(got, m.ExternalID)
			}
		}
		for key := range flat[dg.ExternalID] {
			if enabled[key] {
				want = append(want, key)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: group %s active members %q, want %q", round, dg.ExternalID, got, want)
		}
	}
}

// checkKeptMemberships asserts that suspended members and members of other
// owners keep their place in every owned group that still exists.
func checkKeptMemberships(t *testing.T, round int, before, s orgsync.Snapshot) {
	t.Helper()
	members := map[string]*orgsync.Member{}
	for i := range s.Members {
		members[s.Members[i].ID] = &s.Members[i]
	}
	for _, g := range before.Groups {
		i := slices.IndexFunc(s.Groups, func(a orgsync.Group) bool { return a.ID == g.ID })
		if g.Owner != src || i < 0 {
			continue
		}
		after := &s.Groups[i]
		for _, id := range g.Members {
			m := members[id]
			if (m.Owner != src || m.Status == orgsync.StatusDeprovisioned) && !slices.Contains(after.Members, id) {
				t.Fatalf("round %d: %s (%s, %s) was removed from group %s", round, m.UserName, m.Owner, m.Status, g.DisplayName)
			}
		}
	}
}
