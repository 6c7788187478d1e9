package reconciler

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler/internal/fixture"
	"github.com/orgsync/orgsync/reconciler/reconcilertest"
)

// scopedWorld is a random directory and the store it was converged into.
type scopedWorld struct {
	rng     *rand.Rand
	desired orgsync.Snapshot
	next    int
}

func (w *scopedWorld) name() string {
	// A small pool of names and addresses, so that edits collide.
	return fmt.Sprintf("u%d", w.rng.IntN(60))
}

func (w *scopedWorld) user() orgsync.Member {
	w.next++
	n := fmt.Sprintf("n%d", w.next)
	return fixture.User(fmt.Sprintf("k%d", w.next), n, fixture.Email(n+"@example.com"), fixture.DisplayName("User "+n))
}

// edit changes the desired state at random, one to three edits.
func (w *scopedWorld) edit() {
	d := &w.desired
	d.Members = slices.Clone(d.Members)
	d.Groups = slices.Clone(d.Groups)
	for range 1 + w.rng.IntN(3) {
		i := w.rng.IntN(len(d.Members))
		m := &d.Members[i]
		switch w.rng.IntN(12) {
		case 0:
			m.DisplayName = "Renamed " + w.name()
		case 1:
			m.UserName = w.name() // may collide
		case 2:
			m.Emails = []orgsync.Email{{Value: w.name() + "@example.com", Primary: true}}
		case 3:
			if m.Status == orgsync.StatusDeprovisioned {
				m.Status = orgsync.StatusActive
			} else {
				m.Status = orgsync.StatusDeprovisioned
			}
		case 4:
			d.Members = slices.Delete(d.Members, i, i+1)
		case 5:
			d.Members = append(d.Members, w.user())
		case 6:
			// A newcomer named like an unowned member (adopted) or another user.
			u := w.user()
			u.UserName = w.name()
			u.Emails = []orgsync.Email{{Value: u.UserName + "@example.com", Primary: true}}
			d.Members = append(d.Members, u)
		case 7, 8:
			g := &d.Groups[w.rng.IntN(len(d.Groups))]
			g.Members = slices.Clone(g.Members)
			k := d.Members[w.rng.IntN(len(d.Members))].ExternalID
			if j := slices.Index(g.Members, k); j >= 0 {
				g.Members = slices.Delete(g.Members, j, j+1)
			} else {
				g.Members = append(g.Members, k)
			}
		case 9:
			g := &d.Groups[w.rng.IntN(len(d.Groups))]
			sub := d.Groups[w.rng.IntN(len(d.Groups))].ExternalID
			if len(g.Subgroups) > 0 {
				g.Subgroups = nil
			} else if sub != g.ExternalID {
				g.Subgroups = []string{sub}
			}
		case 10:
			g := &d.Groups[w.rng.IntN(len(d.Groups))]
			g.DisplayName = fmt.Sprintf("group %d", w.rng.IntN(8))
		case 11:
			w.next++
			d.Groups = append(d.Groups, fixture.Group(fmt.Sprintf("g%d", w.next), fmt.Sprintf("group %d", w.next), []string{m.ExternalID}))
		}
	}
}

// TestScopedPlanIsTheFullPlan: in a settled org, the plan scopedPlan makes
// from the true difference of two directory states is the plan Diff makes
// from the whole org, whenever scopedPlan trusts itself; and it does in
// most rounds. Both ways of closing the part are checked: scanning the
// desired users, and indexing them.
func TestScopedPlanIsTheFullPlan(t *testing.T) {
	for _, scans := range []int{maxScans, 0} {
		t.Run(fmt.Sprintf("maxScans=%d", scans), func(t *testing.T) {
			defer func(n int) { maxScans = n }(maxScans)
			maxScans = scans
			scopedPlanIsTheFullPlan(t)
		})
	}
}

func scopedPlanIsTheFullPlan(t *testing.T) {
	opts := Options{Org: "acme", Owner: "ldap", Recreated: RecreatedEntries{Rekey: true, Match: []string{"email"}}}
	trusted, rounds := 0, 0
	for seed := range 40 {
		w := &scopedWorld{rng: rand.New(rand.NewPCG(uint64(seed), 7))}
		for range 30 {
			w.desired.Members = append(w.desired.Members, w.user())
		}
		for g := range 5 {
			var ks []string
			for _, m := range w.desired.Members[g*5 : g*5+8] {
				ks = append(ks, m.ExternalID)
			}
			w.desired.Groups = append(w.desired.Groups, fixture.Group(fmt.Sprintf("g%d", g), fmt.Sprintf("team %d", g), ks))
		}
		// Unowned and foreign members that newcomers may be adopted from or
		// collide with.
		st := reconcilertest.NewStore([]orgsync.Member{
			fixture.Member("m-un1", "", "", "u1", orgsync.StatusActive, fixture.Email("u1@example.com")),
			fixture.Member("m-un2", "", "", "u2", orgsync.StatusDeprovisioned, fixture.Email("u2@example.com")),
			fixture.Member("m-scim", "scim", "s1", "u3", orgsync.StatusActive, fixture.Email("u3@example.com")),
		}, nil)
		ctx := context.Background()
		converge := func() bool {
			obs, _ := st.Observed(ctx, "acme")
			p := Diff(w.desired, obs, opts)
			if _, err := st.Apply(ctx, p); err != nil {
				t.Fatalf("seed %d: apply: %v", seed, err)
			}
			obs, _ = st.Observed(ctx, "acme")
			again := Diff(w.desired, obs, opts)
			return len(again.Changes) == 0 && len(again.Conflicts) == 0 && len(again.Warnings) == 0 && again.Held == (orgsync.HeldCount{})
		}
		if !converge() {
			t.Fatalf("seed %d: the generated directory does not settle", seed)
		}
		for range 20 {
			prev := w.desired
			w.edit()
			obs, _ := st.Observed(ctx, "acme")
			full := Diff(w.desired, obs, opts)
			scope := reconcilertest.ScopeBetween(prev, w.desired)
			scoped, ok, err := scopedPlan(SnapshotScope(obs), w.desired, nil, scope, nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			// From a partial Snapshot (the members by key alone): the same.
			part, rest := reconcilertest.Partial(w.desired)
			fromRest, restOK, err := scopedPlan(SnapshotScope(obs), part, rest, scope, nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			if restOK != ok || (ok && !reflect.DeepEqual(fromRest, scoped)) {
				t.Fatalf("seed %d round %d: the plan from a partial Snapshot (trusted %v) differs from the scoped plan (trusted %v)\npartial: %+v\nscoped:  %+v", seed, rounds+1, restOK, ok, fromRest, scoped)
			}
			// With the groups restricted by the Rest (orgsync.RestGroups): the same.
			part2, rest2 := reconcilertest.Partial(w.desired)
			rest2.ByPlaces = true
			byPlaces, placesOK, err := scopedPlan(SnapshotScope(obs), part2, rest2, scope, nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			if placesOK != ok || (ok && (!reflect.DeepEqual(byPlaces, scoped) || rest2.GroupsAsked == 0)) {
				t.Fatalf("seed %d round %d: the plan with the groups restricted by the Rest (%d asked, trusted %v) differs from the scoped plan (trusted %v)\nby places: %+v\nscoped:    %+v", seed, rounds+1, rest2.GroupsAsked, placesOK, ok, byPlaces, scoped)
			}
			if ok && len(rest.Asked) >= len(w.desired.Members) && len(w.desired.Members) > 20 {
				t.Fatalf("seed %d: the partial plan asked for %d of %d members", seed, len(rest.Asked), len(w.desired.Members))
			}
			rounds++
			if ok {
				trusted++
				if !reflect.DeepEqual(scoped, full) {
					t.Fatalf("seed %d round %d: scoped plan differs from the full plan\nscoped: %+v\nfull:   %+v", seed, rounds, scoped, full)
				}
			} else if len(full.Conflicts) == 0 && len(full.Warnings) == 0 {
				t.Fatalf("seed %d: scopedPlan gave up on a clean full plan: %+v", seed, full)
			}
			if !converge() {
				break // conflicts: the org is no longer settled
			}
		}
	}
	if trusted < rounds/2 {
		t.Fatalf("scopedPlan was trusted in %d of %d rounds; the test exercises too little", trusted, rounds)
	}
	t.Logf("%d of %d rounds planned scoped", trusted, rounds)
}
