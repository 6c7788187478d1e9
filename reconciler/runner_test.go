package reconciler

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler/reconcilertest"
)

// fakeSource returns a fixed snapshot or error. With block set, Snapshot
// waits for it (or for ctx) after signalling started.
type fakeSource struct {
	snap     orgsync.Snapshot
	err      error
	block    chan struct{}
	started  chan struct{}
	calls    atomic.Int32
	mu       sync.Mutex
	progress func(orgsync.Progress)
}

var (
	_ Source     = (*fakeSource)(nil)
	_ Progresser = (*fakeSource)(nil)
)

func (f *fakeSource) OnProgress(fn func(orgsync.Progress)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.progress = fn
}

func (f *fakeSource) Snapshot(ctx context.Context) (orgsync.Snapshot, error) {
	f.calls.Add(1)
	f.mu.Lock()
	progress := f.progress
	f.mu.Unlock()
	if progress != nil {
		progress(orgsync.Progress{Users: len(f.snap.Members), Groups: len(f.snap.Groups)})
	}
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return orgsync.Snapshot{}, fmt.Errorf("fake: read: %w", ctx.Err())
		}
	}
	if f.err != nil {
		return orgsync.Snapshot{}, f.err
	}
	return f.snap, nil
}

func users(n int, prefix string) []orgsync.Member {
	out := make([]orgsync.Member, n)
	for i := range out {
		out[i] = desiredUser(fmt.Sprintf("%s%d", prefix, i), fmt.Sprintf("%s%d@x", prefix, i))
	}
	return out
}

func newRunner(t *testing.T, s Store, reg prometheus.Registerer) *Runner {
	now := t0
	return &Runner{
		Store: s, Logger: zerolog.New(zerolog.NewTestWriter(t)), Metrics: NewMetrics(reg),
		Now: func() time.Time { now = now.Add(time.Second); return now },
	}
}

func testJob(source Source) Job {
	g := GuardConfig{}
	g.SetDefaults()
	return Job{Name: src, Org: "acme", Guard: g, Source: source}
}

// metric returns the value of the counter or gauge name with labels.
func metric(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}

func TestRunnerPlanWritesNothing(t *testing.T) {
	s := reconcilertest.NewStore(nil, nil)
	r := newRunner(t, s, nil)
	var progress []orgsync.Progress
	r.Progress = func(source string, p orgsync.Progress) {
		if source != src {
			t.Errorf("progress of %q", source)
		}
		progress = append(progress, p)
	}
	rep, err := r.Plan(context.Background(), testJob(&fakeSource{snap: orgsync.Snapshot{Members: users(3, "u")}}))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.DryRun || len(rep.Plan.Changes) != 3 || rep.Applied != nil || rep.RunID != 0 {
		t.Errorf("report %+v", rep)
	}
	if s.Applies != 0 || len(s.Runs) != 0 || len(s.Members) != 0 {
		t.Errorf("a dry run wrote: %d applies, %d runs, %d members", s.Applies, len(s.Runs), len(s.Members))
	}
	if len(rep.PendingSetup) != 3 || len(rep.ProvisionedPending) != 3 {
		t.Errorf("pending %q provisioned %q", rep.PendingSetup, rep.ProvisionedPending)
	}
	if len(progress) != 1 || progress[0].Users != 3 {
		t.Errorf("progress %+v", progress)
	}
}

func TestRunnerRunAppliesAndRecords(t *testing.T) {
	ctx := context.Background()
	s := reconcilertest.NewStore(nil, nil)
	reg := prometheus.NewRegistry()
	r := newRunner(t, s, reg)
	job := testJob(&fakeSource{snap: orgsync.Snapshot{Members: users(3, "u")}})
	rep, err := r.Run(ctx, job, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Applied == nil || rep.Applied.Counts[orgsync.ActionProvision] != 3 || len(rep.ProvisionedPending) != 3 || len(rep.PendingSetup) != 3 {
		t.Fatalf("report %+v", rep)
	}
	if len(s.Runs) != 1 || s.Runs[0].Result != orgsync.RunApplied || s.Runs[0].Plan == nil || s.Runs[0].Applied == nil ||
		s.Runs[0].Summary[orgsync.ActionProvision] != 3 || s.Runs[0].Duration() <= 0 || rep.RunID != 1 {
		t.Fatalf("recorded %+v", s.Runs)
	}
	// The run after a run plans nothing and does not call Apply.
	rep, err = r.Run(ctx, job, false)
	if err != nil || !rep.Plan.Empty() || s.Applies != 1 || len(s.Runs) != 2 || rep.Applied.Total() != 0 || len(rep.ProvisionedPending) != 0 {
		t.Fatalf("second run: err %v plan %q applies %d runs %d", err, planLines(rep.Plan), s.Applies, len(s.Runs))
	}
	if got := metric(t, reg, "orgsync_reconcile_runs_total", map[string]string{"source": src, "result": "applied"}); got != 2 {
		t.Errorf("runs_total = %v", got)
	}
	if got := metric(t, reg, "orgsync_reconcile_changes_applied_total", map[string]string{"action": "provision"}); got != 3 {
		t.Errorf("changes_applied_total = %v", got)
	}
	if got := metric(t, reg, "orgsync_reconcile_last_success_timestamp_seconds", map[string]string{"source": src}); got < float64(t0.Unix()) {
		t.Errorf("last success = %v", got)
	}
	if got := metric(t, reg, "orgsync_reconcile_run_duration_seconds", map[string]string{"source": src}); got != 2 {
		t.Errorf("duration samples = %v", got)
	}
}

func TestRunnerGuard(t *testing.T) {
	ctx := context.Background()
	var owned []orgsync.Member
	for i, u := range users(20, "u") {
		owned = append(owned, member(fmt.Sprint("m", i), src, u.ExternalID, u.UserName, active))
	}
	for _, tt := range []struct {
		name   string
		snap   orgsync.Snapshot
		reason string
		empty  bool
	}{
		{"30% deprovisions", orgsync.Snapshot{Members: users(14, "u")}, "guard.max_deprovision_percent", false},
		{"empty source", orgsync.Snapshot{}, "guard.allow_empty", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := reconcilertest.NewStore(owned, nil)
			before := s.Snapshot()
			reg := prometheus.NewRegistry()
			r := newRunner(t, s, reg)
			job := testJob(&fakeSource{snap: tt.snap})

			rep, err := r.Run(ctx, job, false)
			if !errors.Is(err, orgsync.ErrGuard) || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("err = %v, want ErrGuard naming %s", err, tt.reason)
			}
			if s.Applies != 0 || deepCopy(t, s.Snapshot()) != deepCopy(t, before) {
				t.Fatal("a blocked run wrote to the store")
			}
			if len(s.Runs) != 1 || s.Runs[0].Result != orgsync.RunBlocked || !s.Runs[0].Guard.Blocked || s.Runs[0].Plan == nil || s.Runs[0].Applied != nil {
				t.Fatalf("recorded %+v", s.Runs)
			}
			if !rep.Guard.Blocked || rep.Applied != nil || rep.RunID != 1 || len(rep.PendingSetup) != 0 {
				t.Errorf("report %+v", rep)
			}
			if got := metric(t, reg, "orgsync_reconcile_guard_blocks_total", map[string]string{"source": src}); got != 1 {
				t.Errorf("guard_blocks_total = %v", got)
			}
			if got := metric(t, reg, "orgsync_reconcile_last_success_timestamp_seconds", nil); got != 0 {
				t.Errorf("last success set by a blocked run: %v", got)
			}

			if tt.empty {
				// --force does not override an empty source: a broken
				// directory looks just like this.
				if _, err := r.Run(ctx, job, true); !errors.Is(err, orgsync.ErrGuard) || s.Applies != 0 {
					t.Fatalf("forced empty source: err %v, applies %d", err, s.Applies)
				}
				if last := s.Runs[len(s.Runs)-1]; last.Result != orgsync.RunBlocked || !last.Guard.Empty || last.Guard.Forced {
					t.Fatalf("forced empty source recorded as %+v", last.Guard)
				}
				job.Guard.AllowEmpty = true // reconcile --allow-empty
			}
			// --force applies the same plan, once.
			rep, err = r.Run(ctx, job, true)
			if err != nil || s.Applies != 1 || !rep.Guard.Forced || rep.Applied.Counts[orgsync.ActionDeprovision] != 20-len(tt.snap.Members) {
				t.Fatalf("forced: err %v applies %d report %+v", err, s.Applies, rep)
			}
			if last := s.Runs[len(s.Runs)-1]; last.Result != orgsync.RunApplied || !last.Guard.Forced {
				t.Errorf("forced run recorded as %+v", last)
			}
			// Force is for that run only: nothing is left to guard now.
			if rep, err := r.Run(ctx, job, false); err != nil || !rep.Plan.Empty() {
				t.Errorf("after force: %v %q", err, planLines(rep.Plan))
			}
		})
	}
}

func TestRunnerFailures(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("connection reset")
	for _, tt := range []struct {
		name       string
		source     *fakeSource
		setup      func(*reconcilertest.Store)
		wantErr    string
		readErrors float64
	}{
		{name: "source read fails", source: &fakeSource{err: boom}, wantErr: "read source: connection reset", readErrors: 1},
		{name: "store read fails", source: &fakeSource{snap: orgsync.Snapshot{Members: users(1, "u")}},
			setup: func(s *reconcilertest.Store) { s.ObserveErr = boom }, wantErr: `read org "acme": connection reset`},
		{name: "apply fails", source: &fakeSource{snap: orgsync.Snapshot{Members: users(1, "u")}},
			setup: func(s *reconcilertest.Store) { s.ApplyErr = boom }, wantErr: "apply: connection reset"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := reconcilertest.NewStore(nil, nil)
			if tt.setup != nil {
				tt.setup(s)
			}
			reg := prometheus.NewRegistry()
			r := newRunner(t, s, reg)
			rep, err := r.Run(ctx, testJob(tt.source), false)
			if err == nil || !errors.Is(err, boom) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if len(s.Members) != 0 {
				t.Error("a failed run changed members")
			}
			if len(s.Runs) != 1 || s.Runs[0].Result != orgsync.RunFailed || !strings.Contains(s.Runs[0].Error, tt.wantErr) {
				t.Fatalf("recorded %+v", s.Runs)
			}
			if s.Runs[0].Applied != nil || rep.Applied != nil || rep.Error == "" {
				t.Errorf("applied %+v error %q", s.Runs[0].Applied, rep.Error)
			}
			if got := metric(t, reg, "orgsync_source_read_errors_total", map[string]string{"source": src}); got != tt.readErrors {
				t.Errorf("read errors = %v, want %v", got, tt.readErrors)
			}
			if got := metric(t, reg, "orgsync_reconcile_runs_total", map[string]string{"result": "failed"}); got != 1 {
				t.Errorf("failed runs = %v", got)
			}
		})
	}
}

func TestRunnerRecordFailure(t *testing.T) {
	s := reconcilertest.NewStore(nil, nil)
	s.RecordErr = errors.New("disk full")
	r := newRunner(t, s, nil)
	_, err := r.Run(context.Background(), testJob(&fakeSource{snap: orgsync.Snapshot{Members: users(1, "u")}}), false)
	if err == nil || !strings.Contains(err.Error(), "record run: disk full") {
		t.Fatalf("err = %v", err)
	}
}

func TestRunnerRecordsTimedOutRun(t *testing.T) {
	s := reconcilertest.NewStore(nil, nil)
	r := newRunner(t, s, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := r.Run(ctx, testJob(&fakeSource{block: make(chan struct{})}), false)
	if !errors.Is(err, context.Canceled) || len(s.Runs) != 1 || s.Runs[0].Result != orgsync.RunFailed {
		t.Fatalf("err %v runs %+v", err, s.Runs)
	}
}

func TestRunnerPurge(t *testing.T) {
	ctx := context.Background()
	old := t0.Add(-60 * 24 * time.Hour)
	gone := func(m *orgsync.Member) { m.DeprovisionedAt = &old }
	s := reconcilertest.NewStore([]orgsync.Member{
		member("m1", src, "k1", "a@x", deprov, gone),
		member("m2", src, "k2", "b@x", deprov, gone),
		member("m3", src, "k3", "root@x", deprov, gone, role(orgsync.RoleAdmin)),
		member("m4", src, "k4", "c@x", active),
	}, []orgsync.Group{ownedGroup("G1", src, "g1", "eng", "m1", "m4")})
	r := newRunner(t, s, nil)
	job := PurgeJob{Org: "acme", After: 30 * 24 * time.Hour, Limit: 1}

	dry, err := r.PlanPurge(ctx, job)
	if err != nil || len(dry.Plan.Changes) != 2 || !dry.Guard.Blocked || len(s.Runs) != 0 {
		t.Fatalf("dry run: %v %+v", err, dry)
	}
	if _, err := r.Purge(ctx, job, false); !errors.Is(err, orgsync.ErrGuard) || len(s.Members) != 4 {
		t.Fatalf("over the limit: err %v, %d members", err, len(s.Members))
	}
	rep, err := r.Purge(ctx, job, true)
	if err != nil || rep.Applied.Counts[orgsync.ActionPurge] != 2 || rep.Source != orgsync.OwnerPurge {
		t.Fatalf("forced purge: %v %+v", err, rep)
	}
	if len(s.Members) != 2 || s.Members["m3"] == nil || s.Members["m4"] == nil {
		t.Errorf("left %v, want the admin and the active member", slices.Sorted(maps.Keys(s.Members)))
	}
	if len(rep.Plan.Conflicts) != 1 || rep.Plan.Conflicts[0].UserName != "root@x" {
		t.Errorf("conflicts %+v", rep.Plan.Conflicts)
	}
	if len(s.Runs) != 2 || s.Runs[0].Result != orgsync.RunBlocked || s.Runs[1].Source != orgsync.OwnerPurge {
		t.Errorf("runs %+v", s.Runs)
	}
}

// lateStore hides one member from Observed, as if an IdP created it through
// SCIM between the plan and the apply.
type lateStore struct {
	*reconcilertest.Store
	late string // user name
}

func (s lateStore) Observed(ctx context.Context, org string) (orgsync.Snapshot, error) {
	snap, err := s.Store.Observed(ctx, org)
	snap.Members = slices.DeleteFunc(snap.Members, func(m orgsync.Member) bool { return m.UserName == s.late })
	return snap, err
}

// The report of an applied run counts as awaiting setup only the members
// the store really provisioned: one it skipped is not pending.
func TestRunReportsPendingAsApplied(t *testing.T) {
	s := reconcilertest.NewStore([]orgsync.Member{member("s1", orgsync.OwnerSCIM, "e1", "u1@x", active)}, nil)
	r := newRunner(t, lateStore{s, "u1@x"}, prometheus.NewRegistry())
	rep, err := r.Run(context.Background(), testJob(&fakeSource{snap: orgsync.Snapshot{Members: users(3, "u")}}), false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"u0@x", "u2@x"}; !slices.Equal(rep.PendingSetup, want) || !slices.Equal(rep.ProvisionedPending, want) {
		t.Errorf("pending %q, provisioned %q; want %q for both", rep.PendingSetup, rep.ProvisionedPending, want)
	}
	if rep.Applied == nil || len(rep.Applied.Skipped) != 1 {
		t.Errorf("applied %+v, want one skipped provision", rep.Applied)
	}
}

// TestRunnerHeldSourceIsNotEmpty: a source whose every user is held
// returned users all the same: the run is not refused as empty, and it
// changes nothing.
func TestRunnerHeldSourceIsNotEmpty(t *testing.T) {
	var owned []orgsync.Member
	var held []orgsync.HeldEntry
	for i, u := range users(20, "u") {
		owned = append(owned, member(fmt.Sprint("m", i), src, u.ExternalID, u.UserName, active))
		held = append(held, orgsync.HeldEntry{Key: u.ExternalID, Name: u.UserName, Reason: "no mail"})
	}
	s := reconcilertest.NewStore(owned, nil)
	before := s.Snapshot()
	rep, err := newRunner(t, s, prometheus.NewRegistry()).Run(context.Background(), testJob(&fakeSource{snap: orgsync.Snapshot{HeldUsers: held}}), false)
	if err != nil || rep.Guard.Blocked {
		t.Fatalf("run: %v, guard %+v", err, rep.Guard)
	}
	if !rep.Plan.Empty() || rep.Plan.Held.Users != 20 || len(rep.Plan.Conflicts) != 20 {
		t.Fatalf("plan = %d changes, held %+v", len(rep.Plan.Changes), rep.Plan.Held)
	}
	if deepCopy(t, s.Snapshot()) != deepCopy(t, before) {
		t.Fatal("a run of held entries changed the store")
	}
}
