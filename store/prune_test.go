package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// TestPrune deletes what is older than the cut-offs, and only that; the
// change feed goes on after the pruned events.
func TestPrune(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s, err := store.Open(ctx, b.config(t), zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.EnsureOrgs(ctx, []orgsync.Org{{ID: "acme", Name: "Acme", DefaultRole: "member"}}); err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			old := now.Add(-100 * 24 * time.Hour)
			for _, at := range []time.Time{old, old.Add(time.Hour), now} {
				if _, err := s.RecordRun(ctx, orgsync.Run{Org: "acme", Source: "corp", StartedAt: at, FinishedAt: at, Result: orgsync.RunApplied}); err != nil {
					t.Fatal(err)
				}
			}
			for _, n := range []string{"a@x", "b@x"} {
				if _, err := s.SCIMCreateMember(ctx, "acme", orgsync.Member{UserName: n}); err != nil {
					t.Fatal(err)
				}
				time.Sleep(5 * time.Millisecond) // events at distinct times
			}
			before, _ := s.Events(ctx, "acme", 0, 100)

			p, err := s.Prune(ctx, now.Add(-90*24*time.Hour), time.Time{})
			if err != nil || p.Runs != 2 || p.Events != 0 {
				t.Fatalf("prune runs: %+v %v", p, err)
			}
			runs, _ := s.Runs(ctx, store.RunFilter{})
			if len(runs) != 1 || !runs[0].FinishedAt.After(old.Add(time.Hour)) {
				t.Fatalf("runs left: %+v", runs)
			}
			if after, _ := s.Events(ctx, "acme", 0, 100); len(after) != len(before) {
				t.Fatalf("a zero cut-off pruned events: %d → %d", len(before), len(after))
			}

			p, err = s.Prune(ctx, time.Time{}, before[len(before)-1].Time)
			if err != nil || p.Runs != 0 || p.Events != int64(len(before)-1) {
				t.Fatalf("prune events before the last: %+v %v (of %d)", p, err, len(before))
			}
			left, _ := s.Events(ctx, "acme", 0, 100)
			if len(left) != 1 || left[0].Seq != before[len(before)-1].Seq {
				t.Fatalf("events left: %+v", left)
			}
			if _, err := s.SCIMCreateMember(ctx, "acme", orgsync.Member{UserName: "c@x"}); err != nil {
				t.Fatal(err)
			}
			next, _ := s.Events(ctx, "acme", left[0].Seq, 100)
			if len(next) == 0 || next[0].Seq <= left[0].Seq {
				t.Fatalf("the feed after pruning: %+v", next)
			}
		})
	}
}
