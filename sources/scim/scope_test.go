package scim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
	"github.com/orgsync/orgsync/reconciler/reconcilertest"
)

// stampEdit makes one random edit to the provider and says what it was.
func stampEdit(p *stampServer, rng *rand.Rand, n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	pick := func(set map[string]map[string]any) string {
		ids := make([]string, 0, len(set))
		for id := range set {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		if len(ids) == 0 {
			return ""
		}
		return ids[rng.IntN(len(ids))]
	}
	now := time.Now()
	u, g := pick(p.users), pick(p.groups)
	switch op := rng.IntN(10); {
	case op == 0 && u != "":
		p.users[u]["displayName"] = fmt.Sprintf("Edited %d", n)
		p.stamps[u] = now
		return "rename " + u
	case op == 1 && u != "":
		// A small pool of names: edits collide (duplicates are held).
		p.users[u]["userName"] = fmt.Sprintf("user%d@example.org", rng.IntN(12))
		p.stamps[u] = now
		return "userName " + u
	case op == 2 && u != "":
		p.mu.Unlock()
		p.remove(u) // the groups naming it change, unstamped
		p.mu.Lock()
		return "remove " + u
	case op == 3:
		id := fmt.Sprintf("n%d", n)
		p.users[id] = map[string]any{"id": id, "userName": fmt.Sprintf("new%d@example.org", n), "active": true}
		p.stamps[id] = now
		return "add " + id
	case op == 4 && u != "":
		p.users[u]["active"] = p.users[u]["active"] != true
		p.stamps[u] = now
		return "toggle active " + u
	case op == 5 && u != "":
		delete(p.users[u], "userName") // held: it names no member
		p.stamps[u] = now
		return "no userName " + u
	case op == 6 && g != "" && u != "":
		p.groups[g]["members"] = append(p.groups[g]["members"].([]any), map[string]any{"value": u})
		p.stamps[g] = now
		return "join " + u + " to " + g
	case op == 7 && g != "":
		p.groups[g]["members"] = []any{}
		p.stamps[g] = now
		return "empty " + g
	case op == 8:
		id := fmt.Sprintf("g%d", n)
		ms := []any{}
		if u != "" {
			ms = append(ms, map[string]any{"value": u})
		}
		if g != "" {
			ms = append(ms, map[string]any{"value": g}) // nests g
		}
		p.groups[id] = map[string]any{"id": id, "displayName": fmt.Sprintf("team %d", n), "members": ms}
		p.stamps[id] = now
		return "group " + id
	case op == 9 && g != "":
		delete(p.groups, g) // the groups nesting it still name it
		return "delete group " + g
	}
	return "nothing"
}

// TestSCIMScope: after random edits, every incremental read names in its
// Scope every user and group whose Snapshot entry differs from the
// previous read's (and its Snapshot is the full read's), so the
// reconciler's scoped plan of it is the full plan.
func TestSCIMScope(t *testing.T) {
	ctx := context.Background()
	scoped, rounds := 0, 0
	for seed := range 8 {
		p, url := newStampServer(t)
		for i := 1; i <= 10; i++ {
			p.user(fmt.Sprintf("u%d", i), fmt.Sprintf("user%d@example.org", i), fmt.Sprintf("User %d", i))
		}
		p.group("g1", "engineering", "u1", "u2", "u3")
		p.group("g2", "sales", "u4", "g1")
		s := stampSource(t, url)
		prev, cur, _, err := s.SnapshotFrom(ctx, reconciler.ReadRequest{})
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(uint64(seed), 13))
		for round := range 15 {
			var did []string
			for len(did) < 1+rng.IntN(3) {
				if e := stampEdit(p, rng, seed*100+round*10+len(did)); e != "nothing" {
					did = append(did, e)
				}
			}
			snap, next, read, err := s.SnapshotFrom(ctx, reconciler.ReadRequest{Prev: cur})
			if err != nil {
				t.Fatalf("seed %d round %d (%v): %v", seed, round, did, err)
			}
			full, err := s.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if read.Kind != orgsync.ReadIncremental || jsonOf(t, snap) != jsonOf(t, full) {
				t.Fatalf("seed %d round %d (%v): read %+v; the Snapshot is the full one: %v", seed, round, did, read, jsonOf(t, snap) == jsonOf(t, full))
			}
			rounds++
			if read.Scope != nil {
				scoped++
				want := reconcilertest.ScopeBetween(prev, snap)
				for _, k := range want.Users {
					if !slices.Contains(read.Scope.Users, k) {
						t.Fatalf("seed %d round %d (%v): user %q changed, scope %v", seed, round, did, k, read.Scope.Users)
					}
				}
				for _, k := range want.Groups {
					if !slices.Contains(read.Scope.Groups, k) {
						t.Fatalf("seed %d round %d (%v): group %q changed, scope %v", seed, round, did, k, read.Scope.Groups)
					}
				}
			}
			if next.State == nil { // unchanged: the store keeps the State
				next.State = cur.State
			}
			prev, cur = snap, next
		}
	}
	if scoped < rounds/2 {
		t.Fatalf("a Scope in %d of %d rounds: the test exercises too little", scoped, rounds)
	}
	t.Logf("a Scope in %d of %d rounds", scoped, rounds)
}
