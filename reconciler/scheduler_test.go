package reconciler

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler/reconcilertest"
)

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fakeLocker struct {
	mu       sync.Mutex
	ok       bool
	err      error
	keys     []string
	released int
}

func (l *fakeLocker) TryLock(_ context.Context, key string) (func(), bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keys = append(l.keys, key)
	if l.err != nil || !l.ok {
		return nil, false, l.err
	}
	return func() { l.mu.Lock(); l.released++; l.mu.Unlock() }, true, nil
}

func TestValidateSchedule(t *testing.T) {
	for spec, ok := range map[string]bool{
		"*/15 * * * *": true, "@every 30m": true, "@daily": true, "0 3 * * 1-5": true,
		"": false, "* * *": false, "@every soon": false, "61 * * * *": false, "0 */15 * * * *": false,
	} {
		err := ValidateSchedule(spec)
		if (err == nil) != ok || (err != nil && !errors.Is(err, orgsync.ErrInvalid)) {
			t.Errorf("ValidateSchedule(%q) = %v", spec, err)
		}
	}
}

func newTestScheduler(t *testing.T, s *reconcilertest.Store, locker Locker, timeout time.Duration) (*Scheduler, *syncBuffer, *prometheus.Registry) {
	t.Helper()
	logs := &syncBuffer{}
	reg := prometheus.NewRegistry()
	r := newRunner(t, s, reg)
	r.Logger = zerolog.New(logs)
	sch := NewScheduler(r, locker, timeout, zerolog.New(logs))
	return sch, logs, reg
}

func TestSchedulerSkipsWhileRunning(t *testing.T) {
	s := reconcilertest.NewStore(nil, nil)
	sch, logs, reg := newTestScheduler(t, s, nil, time.Minute)
	source := &fakeSource{snap: orgsync.Snapshot{Members: users(1, "u")}, block: make(chan struct{}), started: make(chan struct{}, 1)}
	if err := sch.AddSource("@every 1h", testJob(source)); err != nil {
		t.Fatal(err)
	}
	sch.Start(context.Background())
	defer sch.Stop()

	run := sch.jobs["source:"+src]
	done := make(chan struct{})
	go func() { run(); close(done) }()
	<-source.started
	run() // due while the first still runs: skipped at once
	close(source.block)
	<-done
	if n := source.calls.Load(); n != 1 {
		t.Errorf("source read %d times, want 1", n)
	}
	if len(s.Runs) != 1 {
		t.Errorf("%d runs recorded, want 1", len(s.Runs))
	}
	if !strings.Contains(logs.String(), "previous run still running") {
		t.Errorf("skip not logged: %s", logs)
	}
	if got := metric(t, reg, "orgsync_reconcile_skipped_total", map[string]string{"reason": "running"}); got != 1 {
		t.Errorf("skipped_total = %v", got)
	}
	run() // and runs again once the first is done
	if n := source.calls.Load(); n != 2 {
		t.Errorf("source read %d times after the first run ended, want 2", n)
	}
}

func TestSchedulerTimeout(t *testing.T) {
	s := reconcilertest.NewStore(nil, nil)
	sch, _, _ := newTestScheduler(t, s, nil, 50*time.Millisecond)
	source := &fakeSource{block: make(chan struct{})} // never released
	if err := sch.AddSource("@every 1h", testJob(source)); err != nil {
		t.Fatal(err)
	}
	sch.Start(context.Background())
	defer sch.Stop()
	start := time.Now()
	sch.jobs["source:"+src]()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("run took %v despite a 50ms timeout", d)
	}
	if len(s.Runs) != 1 || s.Runs[0].Result != orgsync.RunFailed || !strings.Contains(s.Runs[0].Error, "deadline exceeded") {
		t.Fatalf("runs %+v", s.Runs)
	}
}

// A job's own timeout wins over the scheduler's: a source allowed a long
// read is not cut at the scheduler's default.
func TestSchedulerJobTimeout(t *testing.T) {
	s := reconcilertest.NewStore(nil, nil)
	sch, _, _ := newTestScheduler(t, s, nil, 50*time.Millisecond)
	release := make(chan struct{})
	source := &fakeSource{snap: orgsync.Snapshot{Members: users(1, "u")}, block: release, started: make(chan struct{}, 1)}
	job := testJob(source)
	job.Timeout = time.Minute
	if err := sch.AddSource("@every 1h", job); err != nil {
		t.Fatal(err)
	}
	sch.Start(context.Background())
	defer sch.Stop()
	go func() {
		<-source.started
		time.Sleep(300 * time.Millisecond) // well past the scheduler's 50ms
		close(release)
	}()
	sch.jobs["source:"+src]()
	if len(s.Runs) != 1 || s.Runs[0].Result == orgsync.RunFailed {
		t.Fatalf("runs %+v", s.Runs)
	}
}

func TestSchedulerLocker(t *testing.T) {
	for _, tt := range []struct {
		name    string
		locker  *fakeLocker
		runs    int
		skipped string
	}{
		{name: "acquired", locker: &fakeLocker{ok: true}, runs: 1},
		{name: "held by another replica", locker: &fakeLocker{}, skipped: "locked"},
		{name: "lock error", locker: &fakeLocker{err: errors.New("db down")}, skipped: "lock_error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := reconcilertest.NewStore(nil, nil)
			sch, _, reg := newTestScheduler(t, s, tt.locker, time.Minute)
			source := &fakeSource{snap: orgsync.Snapshot{Members: users(1, "u")}}
			if err := sch.AddSource("*/15 * * * *", testJob(source)); err != nil {
				t.Fatal(err)
			}
			sch.Start(context.Background())
			defer sch.Stop()
			sch.jobs["source:"+src]()
			if len(s.Runs) != tt.runs || int(source.calls.Load()) != tt.runs {
				t.Errorf("%d runs, %d reads; want %d", len(s.Runs), source.calls.Load(), tt.runs)
			}
			if len(tt.locker.keys) != 1 || tt.locker.keys[0] != "orgsync:source:"+src {
				t.Errorf("lock keys %q", tt.locker.keys)
			}
			if tt.locker.ok && tt.locker.released != 1 {
				t.Errorf("lock released %d times", tt.locker.released)
			}
			if tt.skipped != "" {
				if got := metric(t, reg, "orgsync_reconcile_skipped_total", map[string]string{"reason": tt.skipped}); got != 1 {
					t.Errorf("skipped_total{%s} = %v", tt.skipped, got)
				}
			}
		})
	}
}

func TestSchedulerCronAndStop(t *testing.T) {
	s := reconcilertest.NewStore(nil, nil)
	sch, _, _ := newTestScheduler(t, s, nil, time.Minute)
	source := &fakeSource{snap: orgsync.Snapshot{Members: users(1, "u")}, block: make(chan struct{}), started: make(chan struct{}, 10)}
	if err := sch.AddSource("@every 1s", testJob(source)); err != nil {
		t.Fatal(err)
	}
	sch.Start(context.Background())
	select {
	case <-source.started:
	case <-time.After(5 * time.Second):
		t.Fatal("the cron schedule never ran the job")
	}
	stopped := make(chan struct{})
	go func() { sch.Stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("Stop returned while a run was still going")
	case <-time.After(100 * time.Millisecond):
	}
	close(source.block)
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return after the run ended")
	}
	if len(s.Runs) == 0 || s.Runs[0].Result != orgsync.RunApplied {
		t.Errorf("runs %+v", s.Runs)
	}
}

func TestSchedulerCancelStopsRuns(t *testing.T) {
	s := reconcilertest.NewStore(nil, nil)
	sch, _, _ := newTestScheduler(t, s, nil, time.Minute)
	source := &fakeSource{block: make(chan struct{}), started: make(chan struct{}, 1)}
	if err := sch.AddSource("@every 1h", testJob(source)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sch.Start(ctx)
	done := make(chan struct{})
	go func() { sch.jobs["source:"+src](); close(done) }()
	<-source.started
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling the scheduler's context did not end the run")
	}
	sch.Stop()
	if len(s.Runs) != 1 || s.Runs[0].Result != orgsync.RunFailed {
		t.Errorf("runs %+v", s.Runs)
	}
}

func TestSchedulerAdd(t *testing.T) {
	s := reconcilertest.NewStore(nil, nil)
	sch, _, _ := newTestScheduler(t, s, nil, 0)
	if sch.timeout != DefaultRunTimeout {
		t.Errorf("timeout %v", sch.timeout)
	}
	job := testJob(&fakeSource{})
	if err := sch.AddSource("bogus", job); !errors.Is(err, orgsync.ErrInvalid) {
		t.Errorf("bad spec: %v", err)
	}
	if err := sch.AddSource("@hourly", job); err != nil {
		t.Fatal(err)
	}
	if err := sch.AddSource("@daily", job); !errors.Is(err, orgsync.ErrConflict) {
		t.Errorf("same source twice: %v", err)
	}
	if err := sch.AddPurge(PurgeSchedule, PurgeJob{Org: "acme", After: time.Hour}); err != nil {
		t.Fatal(err)
	}
	sch.Start(context.Background())
	defer sch.Stop()
	sch.jobs["purge:acme"]()
	if len(s.Runs) != 1 || s.Runs[0].Source != orgsync.OwnerPurge {
		t.Errorf("purge runs %+v", s.Runs)
	}
}
