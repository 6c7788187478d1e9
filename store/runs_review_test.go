package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// A run keeps its digest, the run it approved and who approved it; an
// approved run knows its approval.
func TestRunDigestsAndApprovals(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s, err := store.Open(ctx, b.config(t), zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			at := time.Now().UTC()
			d := &orgsync.Digest{Source: "sha256:1", Store: "sha256:2", Plan: "sha256:3"}
			blocked, err := s.RecordRun(ctx, orgsync.Run{Org: "acme", Source: "corp", StartedAt: at, FinishedAt: at,
				Result: orgsync.RunBlocked, Guard: orgsync.Decision{Blocked: true, Reason: "r"}, Digest: d})
			if err != nil {
				t.Fatal(err)
			}
			if got, err := s.ApprovalOf(ctx, blocked); err != nil || got != 0 {
				t.Fatalf("approval of a fresh run = %d, %v", got, err)
			}
			approval, err := s.RecordRun(ctx, orgsync.Run{Org: "acme", Source: "corp", StartedAt: at, FinishedAt: at,
				Result: orgsync.RunApplied, Digest: d, Approves: blocked, Actor: "admin-api"})
			if err != nil {
				t.Fatal(err)
			}
			noDigest, err := s.RecordRun(ctx, orgsync.Run{Org: "acme", Source: "purge", StartedAt: at, FinishedAt: at, Result: orgsync.RunApplied})
			if err != nil {
				t.Fatal(err)
			}
			if got, err := s.ApprovalOf(ctx, blocked); err != nil || got != approval {
				t.Fatalf("approval of run %d = %d, %v; want %d", blocked, got, err, approval)
			}
			for _, tc := range []struct {
				id       int64
				digest   *orgsync.Digest
				approves int64
				actor    string
			}{{blocked, d, 0, ""}, {approval, d, blocked, "admin-api"}, {noDigest, nil, 0, ""}} {
				runs, err := s.Runs(ctx, store.RunFilter{ID: tc.id, Limit: 1})
				if err != nil || len(runs) != 1 {
					t.Fatalf("run %d: %v %v", tc.id, runs, err)
				}
				r := runs[0]
				if (r.Digest == nil) != (tc.digest == nil) || (r.Digest != nil && *r.Digest != *tc.digest) || r.Approves != tc.approves || r.Actor != tc.actor {
					t.Errorf("run %d read back as digest %+v approves %d actor %q", tc.id, r.Digest, r.Approves, r.Actor)
				}
			}
		})
	}
}
