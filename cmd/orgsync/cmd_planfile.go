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

// oneSource checks that `plan -out` has exactly one source to plan: a plan
// file holds one source's plan.
func (a *app) oneSource(source string) error {
	if source != "" {
		return nil
	}
	cfg, err := a.config()
	if err != nil {
		return err
	}
	if len(cfg.Sources) != 1 {
		return fmt.Errorf("-out saves the plan of one source, and the config has %d: pass --source (%s): %w", len(cfg.Sources), cfg.sourceNames(), orgsync.ErrInvalid)
	}
	return nil
}

// savePlan writes the plan of rep, which did not fail, to path.
func (a *app) savePlan(path string, rep reconciler.Report, allowEmpty bool, maxDeprovision int) error {
	o := planOverrides{AllowEmpty: allowEmpty}
	if maxDeprovision >= 0 {
		o.MaxDeprovision = &maxDeprovision
	}
	if err := writePlanFile(path, newPlanFile(rep, o, time.Now())); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "orgsync: saved the plan of source %s (%d changes) to %s; `orgsync reconcile %s` applies exactly it, while the source and the org are unchanged\n",
		render.SafeText(rep.Source), len(rep.Plan.Changes), render.SafeText(path), render.SafeText(path))
	return nil
}

// reconcileFile applies the plan saved in path: the source and the store
// are read again, and the plan is applied only when they give the same
// digests (exit 5 otherwise), under the guard overrides it was planned
// with.
func (a *app) reconcileFile(ctx context.Context, path string, out reportFlags, force bool) error {
	if err := checkFormat(out.format, render.Formats...); err != nil {
		return err
	}
	f, err := readPlanFile(path)
	if err != nil {
		return err
	}
	jobs, err := a.jobs(f.Source)
	switch {
	case errors.Is(err, orgsync.ErrNotFound):
		return exitWith(exitStale, fmt.Errorf("plan file %s: %w: %w", path, orgsync.ErrStale, err))
	case err != nil:
		return err
	}
	job := jobs[0].Job
	if job.Org != f.Org {
		return exitWith(exitStale, fmt.Errorf("plan file %s: source %q now reads org %q, the plan is for %q: %w", path, f.Source, job.Org, f.Org, orgsync.ErrStale))
	}
	job.Guard = runGuard(job.Guard, f.Overrides.AllowEmpty, f.Overrides.maxDeprovision())
	runner, prog, err := a.runner(ctx)
	if err != nil {
		return err
	}
	rep, err := runner.RunReviewed(ctx, job, reconciler.Reviewed{Digest: f.Digest, Force: force})
	prog.done()
	if errors.Is(err, orgsync.ErrStale) {
		return exitWith(exitStale, fmt.Errorf("plan file %s (planned %s): %w", path, f.CreatedAt.Format(time.RFC3339), err))
	}
	if rerr := render.Reports(a.stdout, []reconciler.Report{rep}, a.reportOptions(out, a.stdout, nil)); rerr != nil {
		return errors.Join(err, rerr)
	}
	if errors.Is(err, orgsync.ErrGuard) {
		return exitWith(3, fmt.Errorf("%w\nnothing was applied; review the plan and re-run with --force to override (a source that returned no users needs plan --allow-empty)", err))
	}
	return err
}
