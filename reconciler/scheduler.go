package reconciler

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
)

// Locker makes a scheduled run exclusive across replicas (the PostgreSQL
// store implements it with pg_try_advisory_lock).
type Locker interface {
	// TryLock takes the lock named key without waiting. ok is false when
	// another holder has it. release gives it back and is never nil when ok.
	TryLock(ctx context.Context, key string) (release func(), ok bool, err error)
}

// Claimer records which scheduled occurrence of a job was taken. With
// several replicas the lock alone is not enough: a replica whose timer
// fires just after another finished the same occurrence would run it again.
// A Locker that also implements Claimer makes each occurrence run once.
type Claimer interface {
	// Claim reports whether this call took occurrence slot of job key.
	Claim(ctx context.Context, key string, slot time.Time) (bool, error)
}

// DefaultRunTimeout bounds a scheduled run when the scheduler is given none.
const DefaultRunTimeout = 30 * time.Minute

// PurgeSchedule is the schedule of the purge of every org.
const PurgeSchedule = "@daily"

// ValidateSchedule reports whether spec is a schedule the Scheduler accepts:
// a standard 5-field cron spec, a descriptor such as @hourly, or
// "@every <duration>".
func ValidateSchedule(spec string) error {
	if spec == "" {
		return fmt.Errorf("empty schedule: %w", orgsync.ErrInvalid)
	}
	if _, err := cron.ParseStandard(spec); err != nil {
		return fmt.Errorf("schedule %q: %v: %w", spec, err, orgsync.ErrInvalid)
	}
	return nil
}

// Scheduler runs jobs on their cron schedules. A job never runs twice at
// once: a run due while the previous one still runs is skipped (and
// logged). Each run has a timeout, and with a Locker only the replica that
// takes the job's lock runs it; the others skip quietly.
type Scheduler struct {
	runner  *Runner
	locker  Locker
	timeout time.Duration
	log     zerolog.Logger
	cron    *cron.Cron

	mu   sync.Mutex
	ctx  context.Context
	jobs map[string]func() // by lock key, for tests
}

// NewScheduler returns a scheduler of runner's jobs. locker may be nil (one
// replica); timeout 0 means DefaultRunTimeout.
func NewScheduler(runner *Runner, locker Locker, timeout time.Duration, log zerolog.Logger) *Scheduler {
	if timeout <= 0 {
		timeout = DefaultRunTimeout
	}
	log = log.With().Str("component", "scheduler").Logger()
	return &Scheduler{
		runner: runner, locker: locker, timeout: timeout, log: log,
		cron: cron.New(cron.WithChain(cron.Recover(cronLogger{log}))),
		ctx:  context.Background(),
		jobs: map[string]func(){},
	}
}

// AddSource schedules reconcile runs of job on spec, each bounded by
// job.Timeout when it has one.
func (s *Scheduler) AddSource(spec string, job Job) error {
	return s.add(spec, "source:"+job.Name, job.Name, job.Timeout, func(ctx context.Context) {
		// The runner logs, records and counts every outcome.
		_, _ = s.runner.Run(ctx, job, false)
	})
}

// AddPurge schedules the purge of job.Org on spec (usually PurgeSchedule).
func (s *Scheduler) AddPurge(spec string, job PurgeJob) error {
	return s.add(spec, "purge:"+job.Org, orgsync.OwnerPurge+":"+job.Org, 0, func(ctx context.Context) {
		_, _ = s.runner.Purge(ctx, job, false)
	})
}

// AddFunc schedules run on spec under the lock key key (unique among the
// scheduler's jobs) and the job name name of logs and metrics, bounded by
// timeout (0: the scheduler's own). Targets use it for their runs and
// their setup-status read-back.
func (s *Scheduler) AddFunc(spec, key, name string, timeout time.Duration, run func(ctx context.Context)) error {
	return s.add(spec, key, name, timeout, run)
}

func (s *Scheduler) add(spec, key, name string, timeout time.Duration, run func(ctx context.Context)) error {
	if err := ValidateSchedule(spec); err != nil {
		return fmt.Errorf("reconciler: schedule %s: %w", name, err)
	}
	if _, dup := s.jobs[key]; dup {
		return fmt.Errorf("reconciler: schedule %s: scheduled twice: %w", name, orgsync.ErrConflict)
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return fmt.Errorf("reconciler: schedule %s: %w", name, err)
	}
	if timeout <= 0 {
		timeout = s.timeout
	}
	fn := s.exclusive(key, name, timeout, slotOf(sched), run)
	if _, err := s.cron.AddFunc(spec, fn); err != nil {
		return fmt.Errorf("reconciler: schedule %s: %w", name, err)
	}
	s.jobs[key] = fn
	s.log.Info().Str("job", name).Str("schedule", spec).Msg("scheduled")
	return nil
}

// exclusive wraps run so that it never overlaps itself, holds the
// cross-replica lock when there is a Locker, and has a timeout.
func (s *Scheduler) exclusive(key, name string, timeout time.Duration, slot func(time.Time) time.Time, run func(ctx context.Context)) func() {
	var running sync.Mutex
	log := s.log.With().Str("job", name).Logger()
	return func() {
		if !running.TryLock() {
			log.Warn().Msg("previous run still running: skipped this one")
			s.runner.Metrics.skip(name, "running")
			return
		}
		defer running.Unlock()
		s.mu.Lock()
		base := s.ctx
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(base, timeout)
		defer cancel()
		if s.locker != nil {
			release, ok, err := s.locker.TryLock(ctx, "orgsync:"+key)
			if err != nil {
				log.Error().Err(err).Msg("taking the run lock failed: skipped")
				s.runner.Metrics.skip(name, "lock_error")
				return
			}
			if !ok {
				log.Debug().Msg("another replica holds the run lock: skipped")
				s.runner.Metrics.skip(name, "locked")
				return
			}
			defer release()
			if c, ok := s.locker.(Claimer); ok {
				at := slot(time.Now())
				took, err := c.Claim(ctx, "orgsync:"+key, at)
				if err != nil {
					log.Error().Err(err).Msg("claiming the scheduled run failed: skipped")
					s.runner.Metrics.skip(name, "lock_error")
					return
				}
				if !took {
					log.Debug().Time("slot", at).Msg("another replica already ran this occurrence: skipped")
					s.runner.Metrics.skip(name, "claimed")
					return
				}
			}
		}
		run(ctx)
	}
}

// slotOf returns the function naming the occurrence a firing belongs to,
// the same on every replica: cron specs fire on whole minutes; "@every D"
// schedules, which start from each process's own start, are cut into
// D-long slots counted from the epoch.
func slotOf(sched cron.Schedule) func(time.Time) time.Time {
	if every, ok := sched.(cron.ConstantDelaySchedule); ok && every.Delay > 0 {
		return func(t time.Time) time.Time { return t.UTC().Truncate(every.Delay) }
	}
	return func(t time.Time) time.Time { return t.UTC().Truncate(time.Minute) }
}

// Start starts running jobs on their schedules in the background. Runs
// derive their context from ctx: cancelling it cancels running jobs.
func (s *Scheduler) Start(ctx context.Context) {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	s.cron.Start()
}

// Stop stops scheduling new runs and waits for running ones to return.
func (s *Scheduler) Stop() {
	<-s.cron.Stop().Done()
}

// cronLogger passes cron's own logs to zerolog; its chatter is debug.
type cronLogger struct{ log zerolog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug().Fields(kv).Msg("cron: " + msg) }

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error().Err(err).Fields(kv).Msg("cron: " + msg)
}

// NextRun is when spec (see ValidateSchedule) next fires after t.
func NextRun(spec string, t time.Time) (time.Time, error) {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return time.Time{}, fmt.Errorf("schedule %q: %v: %w", spec, err, orgsync.ErrInvalid)
	}
	return sched.Next(t), nil
}
