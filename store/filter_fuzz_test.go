package store_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// FuzzSCIMFilterReference drives the random filter generator of
// TestSCIMFilterMatchesReference from fuzzed seeds: the SQL translation
// must select exactly the members of org acme the Go reference selects —
// never one more (a widened filter), never one of org "other" (which holds
// look-alike members), never one fewer.
func FuzzSCIMFilterReference(f *testing.F) {
	for _, seed := range [][2]uint64{{1, 2}, {7, 11}, {42, 0}, {0xdeadbeef, 3}, {99, 99}} {
		f.Add(seed[0], seed[1], uint8(3))
	}
	dir, err := os.MkdirTemp("", "orgsync-fuzz-")
	if err != nil {
		f.Fatal(err)
	}
	var (
		once    sync.Once
		s       *store.Store
		members []orgsync.Member
	)
	f.Cleanup(func() {
		if s != nil {
			s.Close()
		}
		os.RemoveAll(dir)
	})
	f.Fuzz(func(t *testing.T, a, b uint64, depth uint8) {
		once.Do(func() {
			var err error
			s, err = store.Open(context.Background(), store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(dir, "orgsync.db")}, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			if err := s.EnsureOrgs(ctx, []orgsync.Org{{ID: "acme", Name: "Acme", DefaultRole: orgsync.RoleMember, PurgeAfter: time.Hour},
				{ID: "other", Name: "Other", DefaultRole: orgsync.RoleMember}}); err != nil {
				t.Fatal(err)
			}
			// Org "other" gets members drawn from the same generator: a
			// filter that loses its org scope would select them.
			members = seedRandomMembers(t, s, rand.New(rand.NewPCG(7, 11)), 30)
			for _, m := range members {
				m.ID = ""
				if _, err := s.SCIMCreateMember(ctx, "other", m); err != nil {
					t.Fatal(err)
				}
			}
		})
		if s == nil {
			t.Skip("store not opened")
		}
		rng := rand.New(rand.NewPCG(a, b))
		flt := randomFilter(rng, int(depth%6))
		want := map[string]bool{}
		for i := range members {
			if evalFilter(&flt, &members[i]) {
				want[members[i].ID] = true
			}
		}
		got, total, err := s.SCIMMembers(ctx, "acme", orgsync.Query{Filter: &flt, StartIndex: 1, Count: 1000})
		if err != nil {
			t.Fatalf("filter %s: %v", show(&flt), err)
		}
		if total != len(want) || len(got) != len(want) {
			t.Fatalf("filter %s: store %d (total %d), reference %d", show(&flt), len(got), total, len(want))
		}
		for _, m := range got {
			if !want[m.ID] || m.Org != "acme" {
				t.Fatalf("filter %s: store returns %s (%s of org %s) the reference does not select", show(&flt), m.ID, m.UserName, m.Org)
			}
		}
	})
}
