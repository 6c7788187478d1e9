package reconciler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/orgsync/orgsync"
)

// A blocked run is approved only while its source and org read as they did;
// the approval is a run of its own, linked to the blocked one.
func TestRunnerApprove(t *testing.T) {
	ctx := context.Background()
	var owned []orgsync.Member
	for i, u := range users(20, "u") {
		owned = append(owned, member(fmt.Sprint("m", i), src, u.ExternalID, u.UserName, active))
	}
	setup := func(t *testing.T) (*memStore, *Runner, *fakeSource, orgsync.Run) {
		s := newMemStore(owned, nil)
		r := newRunner(t, s, prometheus.NewRegistry())
		fs := &fakeSource{snap: orgsync.Snapshot{Members: users(14, "u")}}
		if _, err := r.Run(ctx, testJob(fs), false); !errors.Is(err, orgsync.ErrGuard) {
			t.Fatalf("first run: %v, want a guard block", err)
		}
		b := s.runs[0]
		b.ID = 1
		if b.Digest == nil || b.Digest.IsZero() {
			t.Fatalf("the blocked run carries no digest: %+v", b)
		}
		return s, r, fs, b
	}

	t.Run("current plan is applied and linked", func(t *testing.T) {
		s, r, fs, b := setup(t)
		rep, err := r.Approve(ctx, testJob(fs), b, "admin-api")
		if err != nil || s.applies != 1 || rep.Applied == nil || rep.Applied.Counts[orgsync.ActionDeprovision] != 6 {
			t.Fatalf("approve: err %v, applies %d, report %+v", err, s.applies, rep)
		}
		last := s.runs[len(s.runs)-1]
		if last.Approves != 1 || last.Actor != "admin-api" || last.Result != orgsync.RunApplied || !last.Guard.Forced {
			t.Errorf("approval recorded as %+v", last)
		}
		if *last.Digest != *b.Digest {
			t.Errorf("approval applied another plan: %+v, approved %+v", last.Digest, b.Digest)
		}
	})
	t.Run("changed source: stale", func(t *testing.T) {
		s, r, _, b := setup(t)
		fs := &fakeSource{snap: orgsync.Snapshot{Members: users(13, "u")}}
		_, err := r.Approve(ctx, testJob(fs), b, "cli")
		if !errors.Is(err, orgsync.ErrStale) || !strings.Contains(err.Error(), "the source changed") {
			t.Fatalf("err = %v, want ErrStale naming the source", err)
		}
		if s.applies != 0 || len(s.runs) != 1 {
			t.Errorf("a stale approval applied (%d) or recorded (%d runs)", s.applies, len(s.runs))
		}
	})
	t.Run("changed org: stale", func(t *testing.T) {
		s, r, fs, b := setup(t)
		s.members["m3"].Version++
		if _, err := r.Approve(ctx, testJob(fs), b, "cli"); !errors.Is(err, orgsync.ErrStale) || !strings.Contains(err.Error(), "in the store") {
			t.Fatalf("err = %v, want ErrStale naming the store", err)
		}
	})
	t.Run("changed config: stale", func(t *testing.T) {
		_, r, fs, b := setup(t)
		job := testJob(fs)
		job.DefaultRole = "viewer"
		if _, err := r.Approve(ctx, job, b, "cli"); !errors.Is(err, orgsync.ErrStale) || !strings.Contains(err.Error(), "another plan") {
			t.Fatalf("err = %v, want ErrStale naming the plan", err)
		}
	})
	t.Run("not blocked, no digest, other source", func(t *testing.T) {
		_, r, fs, b := setup(t)
		applied := b
		applied.Result = orgsync.RunApplied
		old := b
		old.Digest = nil
		other := b
		other.Source = "other"
		for name, tc := range map[string]struct {
			run  orgsync.Run
			kind error
		}{"applied": {applied, orgsync.ErrConflict}, "no digest": {old, orgsync.ErrConflict}, "other source": {other, orgsync.ErrInvalid}} {
			if _, err := r.Approve(ctx, testJob(fs), tc.run, "cli"); !errors.Is(err, tc.kind) {
				t.Errorf("%s: err = %v, want %v", name, err, tc.kind)
			}
		}
	})
	t.Run("reviewed plan keeps its guard", func(t *testing.T) {
		s, r, fs, b := setup(t)
		rep, err := r.RunReviewed(ctx, testJob(fs), Reviewed{Digest: *b.Digest})
		if !errors.Is(err, orgsync.ErrGuard) || s.applies != 0 || !rep.Guard.Blocked {
			t.Fatalf("unforced reviewed plan past a guard: err %v, applies %d", err, s.applies)
		}
	})
}
