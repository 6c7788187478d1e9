package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
	"github.com/orgsync/orgsync/reconciler/render"
	"github.com/orgsync/orgsync/store"
)

// Source states `sources list` shows.
const (
	sourceConfigured = "configured"
	sourceOrphaned   = "orphaned"    // an owner no source of its org's config is named after
	sourceReceiver   = "receiver"    // owner "scim": the SCIM receiver
	sourceUnowned    = "unowned"     // no owner (kept from before owners, or released)
	sourceOrgRemoved = "org_removed" // its org is no longer in the config
)

// sourceRow is one line of `sources list`: a configured source, or an owner
// found in the store.
type sourceRow struct {
	Org        string `json:"org"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	Configured bool   `json:"configured"`
	State      string `json:"state"`
	Members    int    `json:"members"`
	Live       int    `json:"live"`
	Groups     int    `json:"groups"`
}

// sourceRows joins the config's sources with the owners in the store.
func sourceRows(cfg *Loaded, owners []store.OwnerCount) []sourceRow {
	type key struct{ org, name string }
	counts := map[key]store.OwnerCount{}
	for _, o := range owners {
		counts[key{o.Org, o.Owner}] = o
	}
	var out []sourceRow
	seen := map[key]bool{}
	for _, s := range cfg.Sources {
		k := key{s.Org, s.Name}
		c := counts[k]
		seen[k] = true
		out = append(out, sourceRow{Org: s.Org, Name: s.Name, Type: s.Type, Configured: true, State: sourceConfigured,
			Members: c.Members, Live: c.Live, Groups: c.Groups})
	}
	orgs := cfg.configuredOrgs()
	for _, o := range owners {
		if seen[key{o.Org, o.Owner}] {
			continue
		}
		r := sourceRow{Org: o.Org, Name: o.Owner, Type: "-", Members: o.Members, Live: o.Live, Groups: o.Groups}
		switch {
		case !orgs[o.Org]:
			r.State = sourceOrgRemoved
		case o.Owner == orgsync.OwnerSCIM:
			r.Type, r.State = "scim receiver", sourceReceiver
		case o.Owner == "":
			r.State = sourceUnowned
		default:
			r.State = sourceOrphaned
		}
		out = append(out, r)
	}
	return out
}

// orphans lists the orphaned owners of orgs (every configured org when orgs
// is empty).
func (a *app) orphans(ctx context.Context, st *store.Store, orgs map[string]bool) ([]reconciler.Orphan, error) {
	// Counting what every owner holds reads every member: only when there
	// is an orphan to show (after each run, most often there is none).
	names, err := st.OwnerNames(ctx)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(sourceRows(a.cfg, names), func(r sourceRow) bool {
		return r.State == sourceOrphaned && (len(orgs) == 0 || orgs[r.Org])
	}) {
		return nil, nil
	}
	owners, err := st.Owners(ctx, "")
	if err != nil {
		return nil, err
	}
	rows := sourceRows(a.cfg, owners)
	// A configured source that owns nothing yet, alone in its org, is
	// likely an orphan's new name.
	empty := map[string][]string{}
	for _, r := range rows {
		if r.Configured && r.Members+r.Groups == 0 {
			empty[r.Org] = append(empty[r.Org], r.Name)
		}
	}
	var out []reconciler.Orphan
	for _, r := range rows {
		if r.State == sourceOrphaned && (len(orgs) == 0 || orgs[r.Org]) {
			o := reconciler.Orphan{Org: r.Org, Owner: r.Name, Members: r.Members, Live: r.Live, Groups: r.Groups}
			if len(empty[r.Org]) == 1 {
				o.Successor = empty[r.Org][0]
			}
			out = append(out, o)
		}
	}
	return out, nil
}

func (a *app) sourcesCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "sources", Short: "List the sources and the owners in the store; hand a renamed source's members over"}

	var format string
	list := &cobra.Command{
		Use:   "list",
		Short: "List configured sources and the owners found in the store, with counts; orphaned owners are marked",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, st, err := a.textOrJSON(cmd.Context(), format)
			if err != nil {
				return err
			}
			owners, err := st.Owners(cmd.Context(), "")
			if err != nil {
				return err
			}
			rows := sourceRows(cfg, owners)
			if format == "json" {
				if rows == nil {
					rows = []sourceRow{}
				}
				return a.writeJSON(rows)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ORG\tSOURCE\tTYPE\tSTATE\tMEMBERS\tWITH ACCESS\tGROUPS")
			orphaned := 0
			for _, r := range rows {
				state := r.State
				switch r.State {
				case sourceOrphaned:
					orphaned++
					state += " (not in the config: never reconciled)"
				case sourceOrgRemoved:
					state += " (org not in the config)"
				}
				name := render.SafeText(r.Name)
				if r.Name == "" {
					name = "(none)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\n", render.SafeText(r.Org), name, r.Type, state,
					r.Members, r.Live, r.Groups)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if orphaned > 0 {
				fmt.Fprintln(a.stdout, "\nOrphaned members keep their access and no run deprovisions them. If a source was renamed,"+
					" hand them over with `orgsync sources rename OLD NEW --org ORG`; or put the source back in the config.")
			}
			return nil
		},
	}
	list.Flags().StringVar(&format, "format", "text", "text or json")

	var org string
	var merge bool
	rename := &cobra.Command{
		Use:   "rename OLD NEW",
		Short: "Hand the members and groups source OLD owns to source NEW (after renaming it in the config)",
		Long: "Hand every member and group that OLD owns in one org to NEW, in one transaction recorded as a\n" +
			"source.renamed event. Run it after renaming the source in the config: from then on NEW's runs\n" +
			"reconcile them (instead of provisioning them again under the new name, which the store refuses\n" +
			"because their user names are taken). Past runs stay recorded under OLD.\n\n" +
			"It refuses when OLD owns nothing, when OLD is still a source of the org in the config, and when\n" +
			"NEW already owns something there (unless --merge: then no external key may be owned by both).",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.renameSource(cmd.Context(), args[0], args[1], org, merge)
		},
	}
	rename.Flags().StringVar(&org, "org", "", "org whose members to hand over (default: NEW's org in the config, or the only org)")
	rename.Flags().BoolVar(&merge, "merge", false, "also when NEW already owns members or groups (no external key may be owned by both)")
	cmd.AddCommand(list, rename)
	return cmd
}

// renameSource is `orgsync sources rename OLD NEW`.
func (a *app) renameSource(ctx context.Context, from, to, org string, merge bool) error {
	cfg, err := a.config()
	if err != nil {
		return err
	}
	reserved := func(name string) bool {
		return name == "" || orgsync.ReservedOwner(name)
	}
	switch {
	case from == to:
		return fmt.Errorf("OLD and NEW are both %q: %w", from, orgsync.ErrInvalid)
	case reserved(from) || reserved(to):
		return fmt.Errorf("%q and %q are reserved (the SCIM receiver and the purge): only a source's members can be handed over: %w",
			orgsync.OwnerSCIM, orgsync.OwnerPurge, orgsync.ErrInvalid)
	case !idPattern.MatchString(to):
		return fmt.Errorf("NEW %q: a source name is lower-case letters, digits, '.', '_' or '-': %w", to, orgsync.ErrInvalid)
	}
	var newSrc *SourceConfig
	for i := range cfg.Sources {
		if cfg.Sources[i].Name == to {
			newSrc = &cfg.Sources[i]
		}
	}
	switch {
	case org != "":
		if org, err = a.orgFlag(org); err != nil {
			return err
		}
		if newSrc != nil && newSrc.Org != org {
			return fmt.Errorf("source %q reconciles org %q, not %q: %w", to, newSrc.Org, org, orgsync.ErrInvalid)
		}
	case newSrc != nil:
		org = newSrc.Org
	default:
		if org, err = a.orgFlag(""); err != nil {
			return errors.New("--org is required: NEW is no source in the config and the config has several orgs")
		}
	}
	for _, s := range cfg.Sources {
		if s.Name == from && s.Org == org {
			return fmt.Errorf("source %q is still in the config for org %q: rename it in the config first, then hand its members over: %w",
				from, org, orgsync.ErrConflict)
		}
	}
	st, err := a.store(ctx)
	if err != nil {
		return err
	}
	moved, err := st.RenameOwner(ctx, org, from, to, "cli", merge)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "moved %d %s and %d %s of org %q from %q to %q\n", moved.Members, plural(moved.Members, "member", "members"),
		moved.Groups, plural(moved.Groups, "group", "groups"), org, from, to)
	if newSrc == nil {
		fmt.Fprintf(a.stderr, "orgsync: note: %q is no source of org %q in the config: its members stay unreconciled until it is\n", to, org)
	} else {
		fmt.Fprintf(a.stdout, "the next run of %q reconciles them; past runs stay recorded under %q\n", to, from)
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// warnOrphans logs, when the daemon starts, every orphaned owner: the
// scheduler's runs do not show them, and nothing reconciles their members.
func (a *app) warnOrphans(ctx context.Context, st *store.Store) {
	orphans, err := a.orphans(ctx, st, nil)
	if err != nil {
		a.log.Warn().Err(err).Msg("cannot list orphaned owners")
		return
	}
	for _, o := range orphans {
		to := "NEW"
		if o.Successor != "" {
			to = o.Successor
		}
		a.log.Warn().Str("org", o.Org).Str("owner", o.Owner).Int("members", o.Members).Int("with_access", o.Live).Int("groups", o.Groups).
			Msgf("owner %q is no source of org %q in the config: its members keep their access and no run reconciles them; "+
				"if the source was renamed, run `orgsync sources rename %s %s --org %s`", o.Owner, o.Org, o.Owner, to, o.Org)
	}
}
