package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
	"github.com/orgsync/orgsync/reconciler/render"
	"github.com/orgsync/orgsync/store"
)

// approver applies the recorded plan of a blocked run when a person
// approves it, for `orgsync runs approve` and the admin API.
type approver struct {
	st     *store.Store
	runner *reconciler.Runner
	jobs   func(source string) ([]sourceJob, error)
}

// approve applies the plan of run id on behalf of actor while the plan is
// current. The refusals: an unknown run (ErrNotFound), a run that was not
// blocked, has no digest or was approved already (ErrConflict), a plan the
// source or org no longer give (ErrStale), a run of the same source in
// progress (ErrUnavailable), the empty-source guard without allowEmpty
// (ErrGuard; recorded as a blocked approval).
func (p approver) approve(ctx context.Context, id int64, actor string, allowEmpty bool) (reconciler.Report, error) {
	runs, err := p.st.Runs(ctx, store.RunFilter{ID: id, Limit: 1})
	if err != nil {
		return reconciler.Report{}, err
	}
	if len(runs) == 0 {
		return reconciler.Report{}, fmt.Errorf("run %d: %w (see orgsync runs list)", id, orgsync.ErrNotFound)
	}
	b := runs[0]
	if b.Source == orgsync.OwnerPurge {
		return reconciler.Report{}, fmt.Errorf("run %d is a purge, which is not approved by id: review `orgsync purge --dry-run --org %s` and run `orgsync purge --force`: %w", id, b.Org, orgsync.ErrConflict)
	}
	jobs, err := p.jobs(b.Source)
	switch {
	case errors.Is(err, orgsync.ErrNotFound):
		return reconciler.Report{}, fmt.Errorf("run %d is of source %q, which is no longer configured: %w", id, b.Source, orgsync.ErrConflict)
	case err != nil:
		return reconciler.Report{}, err
	}
	job := jobs[0].Job
	job.Guard = runGuard(job.Guard, allowEmpty, -1)
	// One run of a source at a time: the scheduler's lock (on PostgreSQL,
	// across replicas).
	release, ok, err := p.st.TryLock(ctx, "orgsync:source:"+job.Name)
	if err != nil {
		return reconciler.Report{}, err
	}
	if !ok {
		return reconciler.Report{}, fmt.Errorf("a run of source %q is in progress: retry when it is done: %w", job.Name, orgsync.ErrUnavailable)
	}
	defer release()
	if by, err := p.st.ApprovalOf(ctx, id); err != nil {
		return reconciler.Report{}, err
	} else if by != 0 {
		return reconciler.Report{}, fmt.Errorf("run %d was approved already, by run %d: %w", id, by, orgsync.ErrConflict)
	}
	return p.runner.Approve(ctx, job, b, actor)
}

// approveRun is approve for the admin API: the approval's run record.
func (p approver) approveRun(ctx context.Context, id int64, actor string, allowEmpty bool) (orgsync.Run, error) {
	rep, err := p.approve(ctx, id, actor, allowEmpty)
	if rep.RunID == 0 {
		return orgsync.Run{}, err
	}
	runs, rerr := p.st.Runs(ctx, store.RunFilter{ID: rep.RunID, Limit: 1, WithPlan: true})
	if rerr != nil || len(runs) == 0 {
		return orgsync.Run{}, errors.Join(err, rerr)
	}
	return runs[0], err
}

func (a *app) runsApproveCommand() *cobra.Command {
	var out reportFlags
	var allowEmpty bool
	cmd := &cobra.Command{
		Use:   "approve ID",
		Short: "Apply the recorded plan of run ID, which a guard blocked, if the source and the org still give that plan",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(out.format, render.Formats...); err != nil {
				return err
			}
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return fmt.Errorf("run id %q: not a run id (see orgsync runs list): %w", args[0], orgsync.ErrInvalid)
			}
			st, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			runner, prog, err := a.runner(cmd.Context())
			if err != nil {
				return err
			}
			rep, err := approver{st: st, runner: runner, jobs: a.jobs}.approve(cmd.Context(), id, "cli", allowEmpty)
			prog.done()
			switch {
			case errors.Is(err, orgsync.ErrStale):
				return exitWith(exitStale, fmt.Errorf("run %d: %w", id, err))
			case rep.Source == "":
				return err // refused before anything was read
			}
			if rerr := render.Reports(a.stdout, []reconciler.Report{rep}, a.reportOptions(out, a.stdout, nil)); rerr != nil {
				return errors.Join(err, rerr)
			}
			if errors.Is(err, orgsync.ErrGuard) {
				return exitWith(3, fmt.Errorf("%w\nnothing was applied: a source that returned no users needs runs approve --allow-empty", err))
			}
			return err
		},
	}
	out.register(cmd)
	cmd.Flags().BoolVar(&allowEmpty, "allow-empty", false, "also approve a plan the empty-source guard blocked (the source returned no users)")
	return cmd
}
