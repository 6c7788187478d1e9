package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler/render"
	"github.com/orgsync/orgsync/store"
)

// runsCommand reads the recorded runs: what each scheduled or CLI run
// found, decided and applied.
func (a *app) runsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "runs", Short: "List and show recorded reconcile runs"}

	var source, format string
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List recorded runs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format, "text", "json"); err != nil {
				return err
			}
			st, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			runs, err := st.Runs(cmd.Context(), store.RunFilter{Source: source, Limit: limit})
			if err != nil {
				return err
			}
			if format == "json" {
				return a.writeJSON(runs)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTARTED\tORG\tSOURCE\tRESULT\tCHANGES\tDURATION\tGUARD")
			for _, r := range runs {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.ID, r.StartedAt.Format(time.RFC3339),
					render.SafeText(r.Org), render.SafeText(r.Source), runResult(r), changes(r.Summary),
					r.Duration().Round(time.Millisecond), guardText(r.Guard))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if len(runs) == 0 {
				fmt.Fprintln(a.stdout, "no runs recorded")
			}
			return nil
		},
	}
	list.Flags().StringVar(&source, "source", "", "only runs of this source")
	list.Flags().IntVar(&limit, "limit", 20, "at most this many runs (1-1000)")
	list.Flags().StringVar(&format, "format", "text", "text or json")

	var showFormat string
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one run: its result, guard decision, counts and recorded plan",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(showFormat, "text", "json"); err != nil {
				return err
			}
			id, err := parseRunID(args[0])
			if err != nil {
				return err
			}
			st, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			runs, err := st.Runs(cmd.Context(), store.RunFilter{ID: id, Limit: 1, WithPlan: true})
			if err != nil {
				return err
			}
			if len(runs) == 0 {
				return fmt.Errorf("run %d: %w (see orgsync runs list)", id, orgsync.ErrNotFound)
			}
			if showFormat == "json" {
				return a.writeJSON(runs[0])
			}
			return writeRun(a.stdout, runs[0])
		},
	}
	show.Flags().StringVar(&showFormat, "format", "text", "text or json")
	cmd.AddCommand(list, show, a.runsApproveCommand())
	return cmd
}

func runResult(r orgsync.Run) string {
	if r.Guard.Forced {
		return string(r.Result) + " (forced)"
	}
	return string(r.Result)
}

func changes(s orgsync.Summary) int {
	n := 0
	for _, v := range s {
		n += v
	}
	return n
}

func guardText(d orgsync.Decision) string {
	switch {
	case d.Blocked:
		return "blocked"
	case d.Forced:
		return "forced"
	}
	return "ok"
}

// writeRun prints one run for a person.
func writeRun(w io.Writer, r orgsync.Run) error {
	fmt.Fprintf(w, "run %d: source %s, org %s\n", r.ID, render.SafeText(r.Source), render.SafeText(r.Org))
	fmt.Fprintf(w, "  started  %s, took %s\n", r.StartedAt.Format(time.RFC3339), r.Duration().Round(time.Millisecond))
	fmt.Fprintf(w, "  result   %s\n", runResult(r))
	if r.Read != nil {
		fmt.Fprintf(w, "  read     %s: %s\n", r.Read.Kind, render.SafeLines(r.Read.Reason))
	}
	if r.Approves != 0 {
		fmt.Fprintf(w, "  approves run %d (approved by %s)\n", r.Approves, render.SafeText(r.Actor))
	}
	if r.Result == orgsync.RunBlocked && r.Digest != nil {
		fmt.Fprintf(w, "  approve  orgsync runs approve %d (applies this plan while the source and the org still give it)\n", r.ID)
	}
	if r.Guard.Reason != "" {
		fmt.Fprintf(w, "  guard    %s: %s\n", guardText(r.Guard), render.SafeLines(r.Guard.Reason))
	}
	if r.Error != "" {
		fmt.Fprintf(w, "  error    %s\n", render.SafeLines(r.Error))
	}
	var planned []string
	for _, act := range orgsync.Actions {
		if n := r.Summary[act]; n > 0 {
			planned = append(planned, fmt.Sprintf("%d %s", n, act))
		}
	}
	if len(planned) == 0 {
		planned = []string{"nothing"}
	}
	fmt.Fprintf(w, "  planned  %s\n", strings.Join(planned, ", "))
	if r.Applied != nil {
		fmt.Fprintf(w, "  applied  %d changes\n", r.Applied.Total())
	}
	if r.Plan == nil {
		return nil
	}
	const most = 50
	for i, c := range r.Plan.Changes {
		if i == most {
			fmt.Fprintf(w, "  … and %d more (orgsync runs show %d --format json has them all)\n", len(r.Plan.Changes)-most, r.ID)
			break
		}
		what := render.SafeText(c.UserName)
		if c.GroupName != "" {
			what = render.SafeText(c.GroupName) + " " + what
		}
		fmt.Fprintf(w, "    %-13s %s\n", c.Action, strings.TrimSpace(what))
	}
	for _, c := range r.Plan.Conflicts {
		fmt.Fprintf(w, "  ! %s: %s\n", render.SafeText(c.UserName+c.Key), render.SafeLines(c.Reason))
	}
	return nil
}

// eventsCommand reads the change feed the KMS consumes.
func (a *app) eventsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "events", Short: "Read the membership change feed"}
	var org string
	var after int64
	var limit int
	var follow bool
	var interval time.Duration
	tail := &cobra.Command{
		Use:   "tail",
		Short: "Print change events as JSON lines, oldest first; --follow waits for new ones",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if org != "" {
				if _, err := a.orgFlag(org); err != nil {
					return err
				}
			}
			if limit < 1 || limit > 10000 {
				return fmt.Errorf("--limit %d: want 1 to 10000: %w", limit, orgsync.ErrInvalid)
			}
			if interval < 100*time.Millisecond {
				return fmt.Errorf("--interval %s: want at least 100ms: %w", interval, orgsync.ErrInvalid)
			}
			st, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			return tailEvents(cmd.Context(), st, a.stdout, org, after, limit, follow, interval)
		},
	}
	tail.Flags().StringVar(&org, "org", "", "only this org's events (default: every org)")
	tail.Flags().Int64Var(&after, "after", -1, "start after this sequence number (default: the last --limit events)")
	tail.Flags().IntVar(&limit, "limit", 100, "events per read (1-10000); without --follow and --after, how many of the latest to print")
	tail.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new events until interrupted")
	tail.Flags().DurationVar(&interval, "interval", 2*time.Second, "with --follow, how often to look for new events")
	cmd.AddCommand(tail)
	return cmd
}

// eventReader is what tailEvents needs of the store.
type eventReader interface {
	Events(ctx context.Context, org string, after int64, limit int) ([]orgsync.Event, error)
	TailStart(ctx context.Context, org string, n int) (int64, error)
}

func tailEvents(ctx context.Context, st eventReader, w io.Writer, org string, after int64, limit int, follow bool, every time.Duration) error {
	if after < 0 {
		start, err := st.TailStart(ctx, org, limit)
		if err != nil {
			return err
		}
		after = start
	}
	enc := json.NewEncoder(w)
	for {
		events, err := st.Events(ctx, org, after, limit)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		for _, e := range events {
			if err := enc.Encode(e); err != nil {
				return err
			}
			after = e.Seq
		}
		if len(events) == limit {
			continue // more are waiting
		}
		if !follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(every):
		}
	}
}

// parseRunID reads a run id argument (runs show, runs approve).
func parseRunID(arg string) (int64, error) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("run id %q: not a run id (see orgsync runs list): %w", arg, orgsync.ErrInvalid)
	}
	return id, nil
}
