package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
	"github.com/orgsync/orgsync/reconciler/render"
	"github.com/orgsync/orgsync/store"
)

// tokenWarnWindow is how soon a token's expiry is worth a line in status.
const tokenWarnWindow = 14 * 24 * time.Hour

// status is what `orgsync status` reports.
type status struct {
	Sources      []sourceStatus    `json:"sources"`
	Expiring     []orgsync.Token   `json:"tokens_expiring"`
	PendingSetup map[string]int    `json:"pending_setup"`
	Members      map[string]counts `json:"members"`
}

type counts map[orgsync.Status]int

type sourceStatus struct {
	Org      string       `json:"org"`
	Name     string       `json:"name"`
	Type     string       `json:"type"`
	Schedule string       `json:"schedule,omitempty"`
	NextRun  *time.Time   `json:"next_run,omitempty"`
	LastRun  *orgsync.Run `json:"last_run,omitempty"`
	// Blocked: the last run was refused by a guard and its plan waits for
	// an operator.
	Blocked bool `json:"blocked"`
}

func (a *app) statusCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Per source the last and next run and any blocked plan; tokens expiring within 14 days; members awaiting setup",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, st, err := a.textOrJSON(cmd.Context(), format)
			if err != nil {
				return err
			}
			s, err := readStatus(cmd.Context(), cfg, st, time.Now())
			if err != nil {
				return err
			}
			if format == "json" {
				return a.writeJSON(s)
			}
			return writeStatus(a.stdout, s)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

func readStatus(ctx context.Context, cfg *Loaded, st *store.Store, now time.Time) (status, error) {
	s := status{Sources: []sourceStatus{}, Expiring: []orgsync.Token{}, PendingSetup: map[string]int{}, Members: map[string]counts{}}
	for _, src := range cfg.Sources {
		ss := sourceStatus{Org: src.Org, Name: src.Name, Type: src.Type, Schedule: src.Schedule}
		if src.Schedule != "" {
			if next, err := reconciler.NextRun(src.Schedule, now); err == nil {
				ss.NextRun = &next
			}
		}
		runs, err := st.Runs(ctx, store.RunFilter{Source: src.Name, Limit: 1})
		if err != nil {
			return s, err
		}
		if len(runs) > 0 {
			ss.LastRun = &runs[0]
			ss.Blocked = runs[0].Result == orgsync.RunBlocked
		}
		s.Sources = append(s.Sources, ss)
	}
	tokens, err := st.Tokens(ctx, "")
	if err != nil {
		return s, err
	}
	for _, t := range tokens {
		if t.RevokedAt == nil && t.ExpiresAt != nil && t.ExpiresAt.After(now) && t.ExpiresAt.Sub(now) <= tokenWarnWindow {
			s.Expiring = append(s.Expiring, t)
		}
	}
	all, err := st.StatusCounts(ctx)
	if err != nil {
		return s, err
	}
	for _, o := range cfg.Orgs {
		c := counts{}
		for _, st := range orgsync.Statuses {
			c[st] = all[o.ID][st]
		}
		s.Members[o.ID] = c
		s.PendingSetup[o.ID] = c[orgsync.StatusPendingSetup]
	}
	return s, nil
}

func writeStatus(w io.Writer, s status) error {
	q := render.SafeText
	fmt.Fprintln(w, "Sources:")
	if len(s.Sources) == 0 {
		fmt.Fprintln(w, "  none configured")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(s.Sources) > 0 {
		fmt.Fprintln(tw, "  ORG\tSOURCE\tLAST RUN\tRESULT\tNEXT RUN")
	}
	for _, src := range s.Sources {
		last, result, next := "never", "-", "by hand only"
		if r := src.LastRun; r != nil {
			last = fmt.Sprintf("#%d %s", r.ID, r.FinishedAt.Format(time.RFC3339))
			result = runResult(*r)
		}
		if src.NextRun != nil {
			next = src.NextRun.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", q(src.Org), q(src.Name), last, result, next)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, src := range s.Sources {
		switch r := src.LastRun; {
		case src.Blocked:
			fmt.Fprintf(w, "  ! %s: run #%d was blocked by a guard, nothing applied: %s\n    review it: orgsync runs show %d; apply that plan once reviewed, while it is current: orgsync runs approve %d\n",
				q(src.Name), r.ID, render.SafeLines(r.Guard.Reason), r.ID, r.ID)
		case r != nil && r.Result == orgsync.RunFailed:
			fmt.Fprintf(w, "  ! %s: run #%d failed: %s\n", q(src.Name), r.ID, render.SafeLines(r.Error))
		}
	}
	fmt.Fprintln(w, "\nSCIM tokens expiring within 14 days:")
	if len(s.Expiring) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, t := range s.Expiring {
		fmt.Fprintf(w, "  %s (org %s, %q) expires %s: mint a new one with orgsync tokens create --org %s\n",
			t.ID, q(t.Org), t.Description, t.ExpiresAt.Format(time.RFC3339), q(t.Org))
	}
	fmt.Fprintln(w, "\nMembers awaiting master-key creation (pending_setup):")
	orgs := make([]string, 0, len(s.PendingSetup))
	for o := range s.PendingSetup {
		orgs = append(orgs, o)
	}
	sort.Strings(orgs)
	for _, o := range orgs {
		c := s.Members[o]
		var parts []string
		for _, st := range orgsync.Statuses {
			parts = append(parts, fmt.Sprintf("%d %s", c[st], st))
		}
		fmt.Fprintf(w, "  %s: %d (of %s)\n", q(o), s.PendingSetup[o], strings.Join(parts, ", "))
	}
	return nil
}
