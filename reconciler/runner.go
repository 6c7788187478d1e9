package reconciler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
)

// Source reads the complete desired state of one org.
type Source interface {
	// Snapshot returns every in-scope user and group, or an error: never a
	// partial Snapshot. It stops when ctx is cancelled.
	Snapshot(ctx context.Context) (orgsync.Snapshot, error)
}

// Progresser is implemented by sources that report how far a long read has
// come; the Runner forwards the reports to Runner.Progress.
type Progresser interface {
	OnProgress(func(orgsync.Progress))
}

// Store is what runs need from the store.
type Store interface {
	// Observed returns every member (tombstones included) and every group
	// of every owner in org; group members are member IDs.
	Observed(ctx context.Context, org string) (orgsync.Snapshot, error)
	// Apply executes p idempotently in transactions and returns what it
	// really changed: a change that already holds is not counted. On
	// error, Applied holds what was committed (nothing for a store that
	// applies a plan all or nothing).
	Apply(ctx context.Context, p orgsync.Plan) (orgsync.Applied, error)
	// RecordRun stores the record of one run and returns its id.
	RecordRun(ctx context.Context, r orgsync.Run) (int64, error)
}

// Job is one source to reconcile into one org.
type Job struct {
	// Name is the source name, the owner of what it provisions.
	Name        string
	Org         string
	DefaultRole string
	Guard       GuardConfig
	// Recreated is the source's recreated_entries rule.
	Recreated RecreatedEntries
	Source    Source
	// Timeout bounds a scheduled run of the job, source read and apply
	// together; 0: the scheduler's own.
	Timeout time.Duration
	// Target is set when the job converges a target (Store is then the
	// target, Source orgsync's own store): runs are recorded with it.
	Target string
	// Refine, when set, adjusts the plan Diff computed before the guards
	// see it (a target turns the deprovisions of purged members into
	// purges). It must stay pure like Diff.
	Refine func(desired, observed orgsync.Snapshot, p *orgsync.Plan)
	// FullEvery is how often an Incremental source is read in full
	// (0: DefaultFullEvery; negative: always).
	FullEvery time.Duration
}

// PurgeJob is the purge step of one org.
type PurgeJob struct {
	Org string
	// After is the org's purge_after; 0 disables purging.
	After time.Duration
	// Limit is the most members one purge may delete without --force
	// (0: DefaultPurgeLimit; negative: no limit).
	Limit int
}

// Runner plans and runs jobs against a Store. Its zero value is not usable:
// set Store (and Logger); the other fields are optional.
type Runner struct {
	Store   Store
	Logger  zerolog.Logger
	Now     func() time.Time
	Metrics *Metrics
	// Progress, when set, receives the progress of sources that implement
	// Progresser (the CLI draws a progress line from it).
	Progress func(source string, p orgsync.Progress)
}

// recordTimeout bounds recording a run after its own context has expired.
const recordTimeout = 30 * time.Second

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Plan reads the source and the store and computes the plan and the guard
// decision of job; it writes nothing. A blocked guard is not an error here:
// the caller reads Report.Guard.
func (r *Runner) Plan(ctx context.Context, job Job) (Report, error) {
	rep, _, err := r.plan(ctx, job, false)
	rep.DryRun = true
	rep.FinishedAt = r.now()
	if err != nil {
		rep.Error = err.Error()
	}
	return rep, err
}

// plan does the read-only part of a run. The observed snapshot is returned
// for the pending-setup projection.
//
// skipUnchanged lets a settled, unchanged source skip the store read and
// Diff (Run only: dry runs and reviewed plans always compute the plan and
// its digests).
func (r *Runner) plan(ctx context.Context, job Job, skipUnchanged bool) (Report, orgsync.Snapshot, error) {
	rep := Report{Org: job.Org, Source: job.Name, Target: job.Target, StartedAt: r.now(), Plan: orgsync.Plan{Org: job.Org, Owner: job.Name, Changes: []orgsync.Change{}}}
	if p, ok := job.Source.(Progresser); ok && r.Progress != nil {
		p.OnProgress(func(pr orgsync.Progress) { r.Progress(job.Name, pr) })
	}
	sr, err := r.prepareRead(ctx, job, skipUnchanged)
	if err != nil {
		return rep, orgsync.Snapshot{}, fmt.Errorf("reconciler: %s: %w", job.Name, err)
	}
	rep.jobDigest = jobDigest(job)
	// The source and the store are read at the same time: both reads are
	// long for a large org and neither depends on the other. A failed
	// source read cancels the store's. When the source may find nothing
	// changed (and then the store need not be read), the store's read
	// starts once the source says it changed (ReadRequest.Changing).
	readCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		observed orgsync.Snapshot
		obsErr   error
		done     = make(chan struct{})
	)
	var started sync.Once
	observe := func() {
		started.Do(func() {
			go func() {
				defer close(done)
				observed, obsErr = r.Store.Observed(readCtx, job.Org)
			}()
		})
	}
	scoper, scoped := r.Store.(ScopeReader)
	scoped = scoped && sr.req.SkipUnchanged && job.Refine == nil
	switch {
	case scoped:
		// Settled at the cursor: the source's scope may spare reading the
		// whole org (see scopedPlan), so the store is read after the source.
	case sr.req.SkipUnchanged:
		// The source says as soon as it knows it has changed.
		sr.req.Changing = observe
	default:
		observe()
	}
	sr.req.Part = scoped
	desired, read, cursor, err := sr.read(ctx, job)
	var rest orgsync.Rest
	if read != nil && read.Rest != nil {
		// Taken off the read: the report keeps no hold on the source's state.
		rest, read.Rest = read.Rest, nil
	}
	rep.Read, rep.cursor = read, cursor
	if err != nil || (read != nil && read.Unchanged) {
		cancel()
		started.Do(func() { close(done) }) // never started: nothing to wait for
		<-done
	}
	if err != nil {
		r.Metrics.sourceError(job.Name)
		return rep, orgsync.Snapshot{}, fmt.Errorf("reconciler: %s: read source: %w", job.Name, err)
	}
	if read != nil && read.Unchanged {
		// Settled at the cursor, unchanged since on both sides: the plan
		// Diff would make is empty.
		rep.storeUnread = true
		rep.Plan.Read, rep.Plan.Disabled = sr.req.Prev.Settled.Users, sr.req.Prev.Settled.Disabled
		rep.ProvisionedPending = []string{}
		return rep, orgsync.Snapshot{}, nil
	}
	if scoped && read != nil && read.Scope != nil {
		if ok, err := r.planScoped(ctx, job, scoper, desired, rest, sr.req.Prev.Settled, &rep); ok || err != nil {
			started.Do(func() { close(done) })
			return rep, orgsync.Snapshot{}, err
		}
	}
	if rest != nil {
		// The whole org is diffed after all: with every member.
		if desired, err = rest.Whole(); err != nil {
			started.Do(func() { close(done) })
			r.Metrics.sourceError(job.Name)
			return rep, orgsync.Snapshot{}, fmt.Errorf("reconciler: %s: read source: %w", job.Name, err)
		}
	}
	observe()
	<-done
	if obsErr != nil {
		if errors.Is(obsErr, orgsync.ErrGuard) {
			// A store that refuses what it read (a target listing nobody
			// while orgsync links members to it) blocks like an empty source.
			rep.Guard = orgsync.Decision{Blocked: true, Empty: true, Reason: obsErr.Error()}
		}
		return rep, orgsync.Snapshot{}, fmt.Errorf("reconciler: %s: read org %q: %w", job.Name, job.Org, obsErr)
	}
	rep.Plan = Diff(desired, observed, Options{Org: job.Org, Owner: job.Name, DefaultRole: job.DefaultRole, Recreated: job.Recreated})
	if job.Refine != nil {
		job.Refine(desired, observed, &rep.Plan)
	}
	// Held users were returned too: a source whose every entry is held is
	// not empty (and deprovisions nothing).
	rep.Guard = CheckGuards(rep.Plan, len(desired.Members)+len(desired.HeldUsers), job.Guard)
	if skipUnchanged {
		// A run (not a dry run or a reviewed plan, which compare the
		// digests first): the digests are only recorded, so they are
		// computed while the store applies. Neither the plan nor the
		// snapshots are written to after this point.
		ch := make(chan orgsync.Digest, 1)
		go func(desired, observed orgsync.Snapshot, p orgsync.Plan) { ch <- Digests(desired, observed, p) }(desired, observed, rep.Plan)
		rep.digest = sync.OnceValue(func() orgsync.Digest { return <-ch })
	} else {
		rep.Digest = Digests(desired, observed, rep.Plan)
	}
	rep.PendingSetup = pendingAfter(observed, &rep.Plan, true)
	rep.ProvisionedPending = plannedProvisions(&rep.Plan)
	return rep, observed, nil
}

// Run plans job, checks the guards and, unless a guard blocks and force is
// false, applies the plan. Every run is recorded — blocked and failed ones
// too — and counted in Metrics. A blocked run writes nothing but its record
// and returns an error wrapping orgsync.ErrGuard; a failed source read
// applies nothing.
func (r *Runner) Run(ctx context.Context, job Job, force bool) (Report, error) {
	log := r.Logger.With().Str("source", job.Name).Str("org", job.Org).Logger()
	start := time.Now()
	rep, observed, err := r.plan(ctx, job, true)
	// Where a run spends its time, in its log line: the plan (the source
	// read with the store read beside it, and the diff), then the apply.
	log = log.With().Dur("planned_in", time.Since(start)).Logger()
	if err != nil {
		return r.finish(ctx, log, rep, err)
	}
	return r.apply(ctx, log, rep, observed, force)
}

// Purge plans the purge of job.Org and applies it unless its limit blocks
// it and force is false. It is recorded like a run of source orgsync.OwnerPurge.
func (r *Runner) Purge(ctx context.Context, job PurgeJob, force bool) (Report, error) {
	log := r.Logger.With().Str("source", orgsync.OwnerPurge).Str("org", job.Org).Logger()
	rep := Report{Org: job.Org, Source: orgsync.OwnerPurge, StartedAt: r.now(), Plan: orgsync.Plan{Org: job.Org, Owner: orgsync.OwnerPurge, Changes: []orgsync.Change{}}}
	observed, err := r.Store.Observed(ctx, job.Org)
	if err != nil {
		return r.finish(ctx, log, rep, fmt.Errorf("reconciler: purge: read org %q: %w", job.Org, err))
	}
	rep.Plan, rep.Guard = PurgePlan(observed, job.Org, r.now(), job.After, job.Limit)
	rep.PendingSetup = pendingAfter(observed, &rep.Plan, true)
	rep.ProvisionedPending = []string{}
	return r.apply(ctx, log, rep, observed, force)
}

// PlanPurge is the dry run of Purge.
func (r *Runner) PlanPurge(ctx context.Context, job PurgeJob) (Report, error) {
	rep := Report{Org: job.Org, Source: orgsync.OwnerPurge, StartedAt: r.now(), DryRun: true}
	observed, err := r.Store.Observed(ctx, job.Org)
	if err != nil {
		err = fmt.Errorf("reconciler: purge: read org %q: %w", job.Org, err)
		rep.Error = err.Error()
		return rep, err
	}
	rep.Plan, rep.Guard = PurgePlan(observed, job.Org, r.now(), job.After, job.Limit)
	rep.PendingSetup = pendingAfter(observed, &rep.Plan, true)
	rep.ProvisionedPending = []string{}
	rep.FinishedAt = r.now()
	return rep, nil
}

// apply guards, applies and records a planned report.
func (r *Runner) apply(ctx context.Context, log zerolog.Logger, rep Report, observed orgsync.Snapshot, force bool) (Report, error) {
	if rep.Guard.Blocked {
		if !force || rep.Guard.Empty {
			r.Metrics.guardBlock(rep.Source)
			// Nothing applied: report the org as observed.
			rep.PendingSetup = pendingAfter(observed, &rep.Plan, false)
			rep.ProvisionedPending = []string{}
			return r.finish(ctx, log, rep, fmt.Errorf("reconciler: %s: %w: %s", rep.Source, orgsync.ErrGuard, rep.Guard.Reason))
		}
		rep.Guard.Forced = true
		log.Warn().Str("reason", rep.Guard.Reason).Msg("guard overridden by --force")
	}
	start := time.Now()
	applied, err := r.applyPlan(ctx, rep)
	log = log.With().Dur("applied_in", time.Since(start)).Logger()
	if applied.Counts == nil {
		applied.Counts = orgsync.Plan{}.Summary()
	}
	if applied.Provisioned == nil {
		applied.Provisioned = []string{}
	}
	rep.ProvisionedPending = append([]string{}, applied.Provisioned...)
	if err != nil {
		// The store applies all or nothing; report what it says it did, if
		// anything, and the org as observed.
		if applied.Total() > 0 {
			rep.Applied = &applied
		}
		rep.PendingSetup = pendingAfter(observed, &rep.Plan, false)
		return r.finish(ctx, log, rep, fmt.Errorf("reconciler: %s: apply: %w", rep.Source, err))
	}
	rep.Applied = &applied
	rep.PendingSetup = pendingApplied(observed, &rep.Plan, applied.Provisioned)
	if rep.storeUnread {
		rep.PendingSetup = nil
	}
	return r.finish(ctx, log, rep, nil)
}

// finish records the run, counts it, logs it and returns rep with runErr
// (joined with a failure to record).
func (r *Runner) finish(ctx context.Context, log zerolog.Logger, rep Report, runErr error) (Report, error) {
	if rep.digest != nil {
		rep.Digest, rep.digest = rep.digest(), nil
	}
	rep.FinishedAt = r.now()
	result := orgsync.RunApplied
	switch {
	case errors.Is(runErr, orgsync.ErrGuard):
		result = orgsync.RunBlocked
	case runErr != nil:
		result = orgsync.RunFailed
	}
	if runErr != nil {
		rep.Error = runErr.Error()
	}
	plan := rep.Plan
	run := orgsync.Run{
		Org: rep.Org, Source: rep.Source, Target: rep.Target, StartedAt: rep.StartedAt, FinishedAt: rep.FinishedAt,
		Result: result, Guard: rep.Guard, Summary: plan.Summary(), Applied: rep.Applied, Error: rep.Error, Plan: &plan,
		Approves: rep.Approves, Actor: rep.Actor, Read: rep.Read,
	}
	if !rep.Digest.IsZero() {
		d := rep.Digest
		run.Digest = &d
	}
	// The run's own context may have expired (timeout, shutdown): record anyway.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	id, err := r.Store.RecordRun(rctx, run)
	if err != nil {
		log.Error().Err(err).Msg("recording the run failed")
		runErr = errors.Join(runErr, fmt.Errorf("reconciler: %s: record run: %w", rep.Source, err))
	}
	rep.RunID = id
	r.Metrics.observeRun(rep.Source, result, rep.FinishedAt.Sub(rep.StartedAt), rep.Applied, rep.FinishedAt)

	ev := log.Info()
	switch result {
	case orgsync.RunBlocked:
		ev = log.Error().Str("reason", rep.Guard.Reason)
	case orgsync.RunFailed:
		ev = log.Error().Str("error", rep.Error)
	}
	ev = ev.Str("result", string(result)).Int("planned", len(plan.Changes)).Int("conflicts", len(plan.Conflicts)).
		Dur("duration", rep.FinishedAt.Sub(rep.StartedAt)).Int64("run_id", id)
	if rep.Applied != nil {
		ev = ev.Int("applied", rep.Applied.Total())
	}
	if rep.Read != nil {
		ev = ev.Str("read", rep.Read.Kind).Str("read_reason", rep.Read.Reason)
	}
	ev.Msg("reconcile run finished")
	return rep, runErr
}
