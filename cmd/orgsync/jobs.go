package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
	"github.com/orgsync/orgsync/reconciler/render"
)

// applyAllowance is how long a scheduled run has, after its source read
// (bounded by the source's timeout), to diff, guard and apply.
const applyAllowance = 30 * time.Minute

// timedSource bounds one source read by the source's timeout.
type timedSource struct {
	reconciler.Source
	timeout time.Duration
}

func (t timedSource) Snapshot(ctx context.Context) (orgsync.Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	return t.Source.Snapshot(ctx)
}

func (t timedSource) OnProgress(f func(orgsync.Progress)) {
	if p, ok := t.Source.(reconciler.Progresser); ok {
		p.OnProgress(f)
	}
}

// timedIncremental is a timedSource of a source that reads incrementally.
type timedIncremental struct{ timedSource }

func (t timedIncremental) SnapshotFrom(ctx context.Context, req reconciler.ReadRequest) (orgsync.Snapshot, orgsync.Cursor, orgsync.Read, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	return t.Source.(reconciler.Incremental).SnapshotFrom(ctx, req)
}

// HeldState passes through to a source that holds its state
// (reconciler.StateHolder); "" for one that does not.
func (t timedIncremental) HeldState() string {
	if h, ok := t.Source.(reconciler.StateHolder); ok {
		return h.HeldState()
	}
	return ""
}

// sourceJob is the reconcile job of one source, with its schedule.
type sourceJob struct {
	reconciler.Job
	// Schedule is the source's cron spec; "" runs it on demand only.
	Schedule string
	// key names the source in errors: sources[i] (name).
	key string
}

// jobs builds the reconcile job of every source, or of the one named. The
// error lists every source that cannot be opened (a secret unset or
// unreadable, …).
func (a *app) jobs(only string) ([]sourceJob, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	var out []sourceJob
	var errs []error
	found := false
	for i := range cfg.Sources {
		sc := &cfg.Sources[i]
		if only != "" && sc.Name != only {
			continue
		}
		found = true
		if err := cfg.requireSecrets(fmt.Sprintf("sources[%d]", i)); err != nil {
			errs = append(errs, flatten(err)...)
			continue
		}
		// The source names itself in its log lines (a second "source"
		// key here would repeat the key in every JSON line).
		src, err := sourceTypes.Open(sc.Type, sc, a.log)
		if err != nil {
			for _, e := range flatten(err) {
				errs = append(errs, fmt.Errorf("source %q: %w", sc.Name, e))
			}
			continue
		}
		org, _ := cfg.Org(sc.Org)
		var timed reconciler.Source = timedSource{Source: src, timeout: sc.Timeout.TimeDuration()}
		if _, ok := src.(reconciler.Incremental); ok {
			timed = timedIncremental{timedSource{Source: src, timeout: sc.Timeout.TimeDuration()}}
		}
		out = append(out, sourceJob{Schedule: sc.Schedule, key: sc.key(i), Job: reconciler.Job{
			Name: sc.Name, Org: sc.Org, DefaultRole: org.DefaultRole, Guard: sc.Guard, Recreated: sc.RecreatedEntries,
			Source: timed, Timeout: sc.Timeout.TimeDuration() + applyAllowance, FullEvery: sc.FullEvery.TimeDuration()}})
	}
	if only != "" && !found {
		return nil, fmt.Errorf("--source %q: no such source in the config (%s): %w", only, cfg.sourceNames(), orgsync.ErrNotFound)
	}
	return out, errors.Join(errs...)
}

// jobResults are what the runs of eachJob came to.
type jobResults struct {
	Reports []reconciler.Report
	// Failed joins the errors of the runs that failed, Blocked those of
	// the runs a guard refused.
	Failed, Blocked error
}

// eachJob runs fn on the job of every source (or the one named) and
// renders the reports as out says. Its error is one that stopped it (the
// config, the store, a source that cannot be opened, the rendering); the
// runs' own are in the results.
func (a *app) eachJob(ctx context.Context, source string, out reportFlags, fn func(*reconciler.Runner, reconciler.Job) (reconciler.Report, error)) (jobResults, error) {
	var res jobResults
	if err := checkFormat(out.format, render.Formats...); err != nil {
		return res, err
	}
	jobs, err := a.jobs(source)
	if err != nil {
		return res, err
	}
	runner, prog, err := a.runner(ctx)
	if err != nil {
		return res, err
	}
	if len(jobs) == 0 {
		fmt.Fprintln(a.stderr, "orgsync: the config has no sources (see config.example.yaml): nothing to do")
	}
	for _, j := range jobs {
		rep, err := fn(runner, j.Job)
		prog.done()
		switch {
		case errors.Is(err, orgsync.ErrGuard):
			res.Blocked = errors.Join(res.Blocked, err)
		case err != nil:
			res.Failed = errors.Join(res.Failed, err)
		}
		res.Reports = append(res.Reports, rep)
	}
	// Owners no configured source is named after are shown with the
	// reports of their org: nothing reconciles them any more.
	orgs := map[string]bool{}
	for _, j := range jobs {
		orgs[j.Org] = true
	}
	orphans, err := a.orphans(ctx, a.st, orgs)
	if err != nil {
		res.Failed = errors.Join(res.Failed, fmt.Errorf("list orphaned owners: %w", err))
	}
	return res, render.Reports(a.stdout, res.Reports, a.reportOptions(out, a.stdout, orphans))
}

func (a *app) purgeJobs() []reconciler.PurgeJob {
	var out []reconciler.PurgeJob
	for _, o := range a.cfg.Orgs {
		out = append(out, reconciler.PurgeJob{Org: o.ID, After: o.PurgeAfter.TimeDuration(), Limit: o.PurgeLimit})
	}
	return out
}

// keepDecodedStates asks the sources that can keep their last state
// decoded between reads (ldap.Source.KeepDecodedState) to: a daemon reads
// each source again and again, and an incremental read then starts from
// it instead of decoding the cursor's state.
func keepDecodedStates(jobs []sourceJob) {
	for _, j := range jobs {
		src := j.Job.Source
		switch t := src.(type) {
		case timedIncremental:
			src = t.Source
		case timedSource:
			src = t.Source
		}
		if k, ok := src.(interface{ KeepDecodedState() }); ok {
			k.KeepDecodedState()
		}
	}
}
