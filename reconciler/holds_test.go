package reconciler

import (
	"context"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/orgsync/orgsync"
)

// holdSome moves a random share of desired's users and groups to its held
// entries, as a source does with entries it cannot use: most keep their
// key, some only their name, some are known to be disabled.
func holdSome(r *rand.Rand, desired orgsync.Snapshot) orgsync.Snapshot {
	out := orgsync.Snapshot{}
	for _, m := range desired.Members {
		if r.IntN(4) != 0 {
			out.Members = append(out.Members, m)
			continue
		}
		h := orgsync.HeldEntry{Key: m.ExternalID, Name: m.UserName, Email: m.Email(), Reason: "random hold"}
		switch r.IntN(4) {
		case 0:
			h.Key = ""
		case 1:
			if m.Status == orgsync.StatusDeprovisioned {
				h.Status = m.Status
			}
		}
		out.HeldUsers = append(out.HeldUsers, h)
	}
	for _, g := range desired.Groups {
		if r.IntN(4) != 0 {
			out.Groups = append(out.Groups, g)
			continue
		}
		h := orgsync.HeldEntry{Key: g.ExternalID, Name: g.DisplayName, Reason: "random hold"}
		if r.IntN(4) == 0 {
			h.Key = ""
		}
		out.HeldGroups = append(out.HeldGroups, h)
	}
	return out
}

// TestHeldEntriesAreNeverTouched: over random states of an org, with random
// entries held back, no change of a plan touches what a held entry names —
// the member of its key (but for suspending one known disabled), the
// member of its name when it has no key, the group of its key or name, or
// a group nesting a held one — and applying the plan leaves them as they
// were.
func TestHeldEntriesAreNeverTouched(t *testing.T) {
	ctx := context.Background()
	opts := Options{Org: "acme", Owner: src}
	held := 0
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 14))
		s := seedStore()
		for range 3 {
			p := Diff(randomState(r), s.Snapshot(), opts)
			if _, err := s.Apply(ctx, p); err != nil {
				t.Fatal(err)
			}
			drift(r, s)
		}
		full := randomState(r)
		desired := holdSome(r, full)
		before := s.Snapshot()
		p := Diff(desired, before, opts)

		// What the holds protect, by observed member and group ID.
		frozen, suspendOnly, byName, frozenGroups := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
		heldGroupKeys := map[string]bool{}
		for _, h := range desired.HeldUsers {
			for _, m := range before.Members {
				if m.Owner != src {
					continue
				}
				switch {
				case h.Key != "" && m.ExternalID == h.Key && h.Status == orgsync.StatusDeprovisioned:
					suspendOnly[m.ID] = true
				case h.Key != "" && m.ExternalID == h.Key:
					frozen[m.ID] = true
				case h.Key == "" && orgsync.Fold(m.UserName) == orgsync.Fold(h.Name):
					byName[m.ID] = true // never deprovisioned as gone
				}
			}
		}
		for _, h := range desired.HeldGroups {
			if h.Key != "" {
				heldGroupKeys[h.Key] = true
			}
			for _, g := range before.Groups {
				if g.Owner == src && (g.ExternalID == h.Key && h.Key != "" || h.Key == "" && orgsync.Fold(g.DisplayName) == orgsync.Fold(h.Name)) {
					frozenGroups[g.ID] = true
				}
			}
		}
		// Groups nesting a held one, transitively.
		for changed := true; changed; {
			changed = false
			for _, g := range desired.Groups {
				if heldGroupKeys[g.ExternalID] {
					continue
				}
				if slices.ContainsFunc(g.Subgroups, func(k string) bool { return heldGroupKeys[k] }) {
					heldGroupKeys[g.ExternalID], changed = true, true
				}
			}
		}
		for _, g := range before.Groups {
			if g.Owner == src && heldGroupKeys[g.ExternalID] {
				frozenGroups[g.ID] = true
			}
		}
		held += len(frozen) + len(frozenGroups)

		for _, c := range p.Changes {
			switch {
			case frozen[c.MemberID]:
				t.Fatalf("seed %d: %s of a held member %s:\n%q", seed, c.Action, c.UserName, planLines(p))
			case suspendOnly[c.MemberID] && (c.Action != orgsync.ActionDeprovision || c.Reason != "disabled at the source (its entry is held)"):
				t.Fatalf("seed %d: %s of %s, held (only a suspension allowed):\n%q", seed, c.Action, c.UserName, planLines(p))
			case byName[c.MemberID] && c.Action == orgsync.ActionDeprovision && c.Reason == "gone from the source":
				t.Fatalf("seed %d: %s deprovisioned as gone while a held entry names it:\n%q", seed, c.UserName, planLines(p))
			case frozenGroups[c.GroupID], c.GroupKey != "" && heldGroupKeys[c.GroupKey]:
				t.Fatalf("seed %d: %s of a held group %s:\n%q", seed, c.Action, c.GroupName, planLines(p))
			}
		}
		if _, err := s.Apply(ctx, p); err != nil {
			t.Fatal(err)
		}
		after := s.Snapshot()
		for i, m := range before.Members {
			if frozen[m.ID] && !reflect.DeepEqual(after.Members[i], m) {
				t.Fatalf("seed %d: held member changed:\n%+v\n%+v", seed, m, after.Members[i])
			}
		}
		byID := map[string]orgsync.Group{}
		for _, g := range after.Groups {
			byID[g.ID] = g
		}
		for _, g := range before.Groups {
			if frozenGroups[g.ID] && !reflect.DeepEqual(byID[g.ID], g) {
				t.Fatalf("seed %d: held group changed:\n%+v\n%+v", seed, g, byID[g.ID])
			}
		}
	}
	if held < 100 {
		t.Errorf("only %d held members and groups over all seeds: the test proves little", held)
	}
	t.Logf("%d held members and groups kept", held)
}
