package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/buildinfo"
	"github.com/orgsync/orgsync/reconciler"
	"github.com/orgsync/orgsync/reconciler/render"
)

func (a *app) reconcileCommands() []*cobra.Command {
	return []*cobra.Command{a.planCommand(), a.reconcileCommand(), a.checkCommand(), a.purgeCommand()}
}

// runner builds the reconciler runner on the store, with a progress line
// on a terminal.
func (a *app) runner(ctx context.Context) (*reconciler.Runner, *progress, error) {
	st, err := a.store(ctx)
	if err != nil {
		return nil, nil, err
	}
	rs, err := a.runStore(ctx, st)
	if err != nil {
		return nil, nil, err
	}
	p := a.progress()
	return &reconciler.Runner{Store: rs, Logger: a.log, Progress: p.update}, p, nil
}

// terminalPerAction is how many changes of each action a report on a
// terminal lists without --full: a first provisioning's 100k lines help
// nobody at a prompt, and a pipe or a file gets them all.
const terminalPerAction = 20

// reportFlags are the flags saying how plan, reconcile and purge print
// their reports.
type reportFlags struct {
	format string
	full   bool
}

func (f *reportFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.format, "format", "text", "text, json or markdown")
	cmd.Flags().BoolVar(&f.full, "full", false, "on a terminal too, list every change (text and markdown list the first "+fmt.Sprint(terminalPerAction)+" of each action there)")
}

// reportOptions are the render options of a report written to w.
func (a *app) reportOptions(f reportFlags, w io.Writer, orphans []reconciler.Orphan) render.Options {
	return reportOptions(f, isTerminal(w), a.color(w), orphans)
}

func reportOptions(f reportFlags, terminal, color bool, orphans []reconciler.Orphan) render.Options {
	o := render.Options{Format: f.format, Color: f.format == "text" && color, Orphans: orphans,
		Generated: time.Now(), Version: buildinfo.Get().Version}
	if terminal && !f.full {
		o.PerAction = terminalPerAction
	}
	return o
}

func (a *app) planCommand() *cobra.Command {
	var source, outFile string
	var target targetFlags
	var out reportFlags
	var detailed, allowEmpty bool
	maxDeprovision := -1
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Dry run: print the plan of each source (or one); nothing is written (-out FILE saves one source's plan for reconcile FILE)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("max-deprovision") && maxDeprovision < 0 {
				return fmt.Errorf("--max-deprovision %d: want 0 or more: %w", maxDeprovision, orgsync.ErrInvalid)
			}
			if target.name != "" {
				if outFile != "" {
					return fmt.Errorf("-out: saved plans are of sources only, not of --target: %w", orgsync.ErrInvalid)
				}
				return a.planTarget(cmd.Context(), target.name, out, detailed, allowEmpty, maxDeprovision)
			}
			if outFile != "" {
				if err := a.oneSource(source); err != nil {
					return err
				}
			}
			res, err := a.eachJob(cmd.Context(), source, out, func(r *reconciler.Runner, j reconciler.Job) (reconciler.Report, error) {
				j.Guard = runGuard(j.Guard, allowEmpty, maxDeprovision)
				return r.Plan(cmd.Context(), j)
			})
			switch {
			case err != nil:
				return err
			case res.Failed != nil:
				return res.Failed
			}
			if outFile != "" {
				if err := a.savePlan(outFile, res.Reports[0], allowEmpty, maxDeprovision); err != nil {
					return err
				}
			}
			switch {
			case detailed:
				if code := reconciler.DetailedExitCode(res.Reports); code != 0 {
					return exitWith(code, errors.New(""))
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&source, "source", "", "only this source")
	target.register(cmd)
	out.register(cmd)
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 0 for no changes, 2 for changes, 3 when a guard would block")
	cmd.Flags().StringVar(&outFile, "out", "", "save the plan of the one source (--source) to FILE for `orgsync reconcile FILE` (also -out FILE)")
	cmd.Flags().BoolVar(&allowEmpty, "allow-empty", false, "plan as reconcile --allow-empty would (recorded in the -out file)")
	cmd.Flags().IntVar(&maxDeprovision, "max-deprovision", -1, "plan as reconcile --max-deprovision N would (recorded in the -out file)")
	return cmd
}

func (a *app) reconcileCommand() *cobra.Command {
	var source string
	var target targetFlags
	var out reportFlags
	var force, allowEmpty bool
	maxDeprovision := -1
	cmd := &cobra.Command{
		Use:   "reconcile [FILE]",
		Short: "Run each source (or one) now: plan, guard, apply, print the report; with FILE apply exactly that saved plan",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				for _, f := range []string{"source", "target", "allow-empty", "max-deprovision"} {
					if cmd.Flags().Changed(f) {
						return fmt.Errorf("--%s does not go with a plan FILE: the file records the source and the overrides it was planned with (give them to plan -out): %w", f, orgsync.ErrInvalid)
					}
				}
				return a.reconcileFile(cmd.Context(), args[0], out, force)
			}
			if cmd.Flags().Changed("max-deprovision") && maxDeprovision < 0 {
				return fmt.Errorf("--max-deprovision %d: want 0 or more: %w", maxDeprovision, orgsync.ErrInvalid)
			}
			if target.name != "" {
				return a.reconcileTarget(cmd.Context(), target.name, out, force, allowEmpty, maxDeprovision)
			}
			res, err := a.eachJob(cmd.Context(), source, out, func(r *reconciler.Runner, j reconciler.Job) (reconciler.Report, error) {
				j.Guard = runGuard(j.Guard, allowEmpty, maxDeprovision)
				return r.Run(cmd.Context(), j, force)
			})
			switch {
			case err != nil:
				return err
			case res.Failed != nil:
				return res.Failed
			case res.Blocked != nil:
				return exitWith(3, fmt.Errorf("%w\nnothing was applied; review the plan and re-run with --force to override (a source that returned no users needs --allow-empty)", res.Blocked))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&source, "source", "", "only this source")
	target.register(cmd)
	out.register(cmd)
	cmd.Flags().BoolVar(&force, "force", false, "apply even when a guard refuses (this run only; not an empty source: see --allow-empty)")
	cmd.Flags().BoolVar(&allowEmpty, "allow-empty", false, "apply even when a source returns no users while it owns active members (this run only)")
	cmd.Flags().IntVar(&maxDeprovision, "max-deprovision", -1, "allow up to N deprovisions in this run, whatever the deprovision limits say; the other guards still apply")
	return cmd
}

// runGuard is a job's guard with one run's overrides: --allow-empty, and
// --max-deprovision N (N deprovisions pass whatever the count and
// percentage limits say; maxDeprovision < 0 leaves them).
func runGuard(g reconciler.GuardConfig, allowEmpty bool, maxDeprovision int) reconciler.GuardConfig {
	if allowEmpty {
		g.AllowEmpty = true
	}
	if maxDeprovision >= 0 {
		g.MaxDeprovision, g.MaxDeprovisionPercent = maxDeprovision, -1
	}
	return g
}

func (a *app) purgeCommand() *cobra.Command {
	var org string
	var out reportFlags
	var force, dryRun bool
	cmd := &cobra.Command{
		Use:   "purge",
		Short: "Remove members deprovisioned or SCIM-deleted for longer than the org's purge_after (never admins)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			org, err := a.orgFlag(org)
			if err != nil {
				return err
			}
			runner, _, err := a.runner(cmd.Context())
			if err != nil {
				return err
			}
			var job reconciler.PurgeJob
			for _, j := range a.purgeJobs() {
				if j.Org == org {
					job = j
				}
			}
			var rep reconciler.Report
			if dryRun {
				rep, err = runner.PlanPurge(cmd.Context(), job)
			} else {
				rep, err = runner.Purge(cmd.Context(), job, force)
			}
			if rerr := render.Reports(a.stdout, []reconciler.Report{rep}, a.reportOptions(out, a.stdout, nil)); rerr != nil {
				return rerr
			}
			if errors.Is(err, orgsync.ErrGuard) {
				return exitWith(3, err)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&org, "org", "", "org to purge")
	out.register(cmd)
	cmd.Flags().BoolVar(&force, "force", false, "purge even above the org's purge_limit")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be purged")
	return cmd
}

func (a *app) checkCommand() *cobra.Command {
	var source string
	var target targetFlags
	var samples int
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Connect to each source (or one, or a target), bind, count users and groups, show a sample; changes nothing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if target.name != "" {
				return a.checkTarget(cmd.Context(), target.name)
			}
			jobs, err := a.jobs(source)
			if err != nil {
				return err
			}
			if len(jobs) == 0 {
				return errors.New("the config has no sources to check")
			}
			prog := a.progress()
			var failed error
			for _, j := range jobs {
				if p, ok := j.Source.(reconciler.Progresser); ok {
					p.OnProgress(func(pr orgsync.Progress) { prog.update(j.Name, pr) })
				}
				start := time.Now()
				snap, err := j.Source.Snapshot(cmd.Context())
				prog.done()
				if err != nil {
					fmt.Fprintf(a.stdout, "FAIL %s: %s\n", j.Name, render.SafeLines(err.Error()))
					failed = errors.Join(failed, fmt.Errorf("source %q failed its check", j.Name))
					continue
				}
				a.printCheck(j.Job, snap, time.Since(start), samples)
			}
			return failed
		},
	}
	cmd.Flags().StringVar(&source, "source", "", "only this source")
	target.register(cmd)
	cmd.Flags().IntVar(&samples, "samples", 5, "how many sample users to show")
	return cmd
}

func (a *app) printCheck(j reconciler.Job, snap orgsync.Snapshot, took time.Duration, samples int) {
	disabled := 0
	for _, m := range snap.Members {
		if m.Status == orgsync.StatusDeprovisioned {
			disabled++
		}
	}
	fmt.Fprintf(a.stdout, "OK   %s (org %s): %d users (%d disabled at the source), %d groups, read in %s\n",
		j.Name, j.Org, len(snap.Members), disabled, len(snap.Groups), took.Round(time.Millisecond))
	for _, w := range snap.Warnings {
		fmt.Fprintf(a.stdout, "     warning: %s\n", render.SafeText(w))
	}
	// Held entries keep their members (groups) as they are: worth fixing
	// at the source, so check names them.
	for _, h := range snap.HeldUsers {
		fmt.Fprintf(a.stdout, "     held user: %s: %s (key %q, user name %q)\n", h.Ref, h.Reason, h.Key, h.Name)
	}
	for _, h := range snap.HeldGroups {
		fmt.Fprintf(a.stdout, "     held group: %s: %s (key %q, name %q)\n", h.Ref, h.Reason, h.Key, h.Name)
	}
	ms := append([]orgsync.Member(nil), snap.Members...)
	sort.Slice(ms, func(i, k int) bool { return ms[i].UserName < ms[k].UserName })
	if len(ms) > samples {
		ms = ms[:samples]
	}
	if len(ms) == 0 {
		return
	}
	fmt.Fprintln(a.stdout, "     sample users, as they would be provisioned:")
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "     USER NAME\tEMAIL\tNAME\tROLE\tSTATUS\tEXTERNAL ID")
	for _, m := range ms {
		role := m.Role
		if role == "" {
			role = j.DefaultRole
		}
		status := orgsync.StatusPendingSetup
		if m.Status == orgsync.StatusDeprovisioned {
			status = "disabled (not provisioned)"
		}
		fmt.Fprintf(tw, "     %s\t%s\t%s\t%s\t%s\t%s\n", render.SafeText(m.UserName), render.SafeText(m.Email()),
			render.SafeText(displayName(m)), render.SafeText(role), status, render.SafeText(m.ExternalID))
	}
	tw.Flush()
}

func displayName(m orgsync.Member) string {
	if m.DisplayName != "" {
		return m.DisplayName
	}
	return m.GivenName + " " + m.FamilyName
}
