package main

import (
	"bufio"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/admin"
	"github.com/orgsync/orgsync/reconciler/render"
	"github.com/orgsync/orgsync/store"
)

func (a *app) membersCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "members", Short: "List members and record master-key setup"}

	var org, status, format, owner string
	var includeDeleted bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List an org's members; pending_setup marks those who must still create their master key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format, "text", "json"); err != nil {
				return err
			}
			org, err := a.orgFlag(org)
			if err != nil {
				return err
			}
			if status != "" && !orgsync.Status(status).Valid() {
				return fmt.Errorf("--status %q: want one of %v", status, orgsync.Statuses)
			}
			st, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			members, err := st.Members(cmd.Context(), org, store.MemberFilter{Status: orgsync.Status(status)})
			if err != nil {
				return err
			}
			members = filterMembers(members, owner, includeDeleted || status == string(orgsync.StatusDeprovisioned))
			if format == "json" {
				return writeJSONArray(a.stdout, len(members), func(i int) any { return admin.NewMember(members[i]) })
			}
			// Buffered: tabwriter writes cell by cell, a system call each
			// on a bare stdout (most of listing 100k members).
			bw := bufio.NewWriterSize(a.stdout, 64<<10)
			tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "USER NAME\tSTATUS\tROLE\tOWNER\tGROUPS\tID")
			pending := 0
			for _, m := range members {
				s := string(m.Status)
				if m.Status == orgsync.StatusPendingSetup {
					pending++
					s += " (!)"
				}
				// Names come from IdPs and directories: escaped, so that
				// a forged one can fake no row (see render.SafeText).
				groups := make([]string, len(m.Groups))
				for i, g := range m.Groups {
					groups[i] = render.SafeText(g)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", render.SafeText(m.UserName), s, render.SafeText(m.Role),
					render.SafeText(m.Owner), strings.Join(groups, ","), render.SafeText(m.ID))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(bw, "\n%d members, %d awaiting master-key creation (pending_setup)\n", len(members), pending)
			return bw.Flush()
		},
	}
	list.Flags().StringVar(&org, "org", "", "org to list")
	list.Flags().StringVar(&status, "status", "", "only members in this status (pending_setup, active, deprovisioned)")
	list.Flags().StringVar(&format, "format", "text", "text or json")
	list.Flags().StringVar(&owner, "owner", "", `only members of this owner (a source name, "scim", or "none" for members nobody owns)`)
	list.Flags().BoolVar(&includeDeleted, "include-deleted", false, "also members deleted through SCIM and kept until purged (always with --status deprovisioned)")

	var completeOrg string
	complete := &cobra.Command{
		Use:   "complete-setup USER",
		Short: "Record that USER (id or userName) created their master key: pending_setup → active",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			org, err := a.orgFlag(completeOrg)
			if err != nil {
				return err
			}
			st, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			m, err := st.CompleteSetup(cmd.Context(), org, args[0], "cli")
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s is %s\n", render.SafeText(m.UserName), m.Status)
			return nil
		},
	}
	complete.Flags().StringVar(&completeOrg, "org", "", "org of the member")
	cmd.AddCommand(list, complete, a.memberShowCommand(), a.memberRekeyCommand())
	return cmd
}

func (a *app) memberShowCommand() *cobra.Command {
	var org, format string
	show := &cobra.Command{
		Use:   "show USER",
		Short: "Show one member (id or userName): status, owner, role, groups, setup and lifecycle times",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, "text", "json"); err != nil {
				return err
			}
			org, err := a.orgFlag(org)
			if err != nil {
				return err
			}
			st, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			m, err := st.MemberWithGroups(cmd.Context(), org, args[0])
			if err != nil {
				return err
			}
			if format == "json" {
				return a.writeJSON(admin.NewMember(m))
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
			when := func(t *time.Time) string {
				if t == nil {
					return "-"
				}
				return t.UTC().Format(time.RFC3339)
			}
			status := string(m.Status)
			switch {
			case m.Status == orgsync.StatusPendingSetup:
				status += " (has not created a master key yet)"
			case m.DeletedAt != nil:
				status += " (deleted through SCIM; kept until purged)"
			}
			groups := make([]string, len(m.Groups))
			for i, g := range m.Groups {
				groups[i] = render.SafeText(g)
			}
			row("id", render.SafeText(m.ID))
			row("user name", render.SafeText(m.UserName))
			row("email", render.SafeText(m.Email()))
			row("name", render.SafeText(strings.TrimSpace(m.GivenName+" "+m.FamilyName)))
			row("status", status)
			row("role", render.SafeText(m.Role))
			row("owner", render.SafeText(m.Owner))
			row("external id", render.SafeText(m.ExternalID))
			row("groups", strings.Join(groups, ", "))
			row("created", when(&m.CreatedAt))
			row("setup completed", when(m.SetupCompletedAt))
			row("deprovisioned", when(m.DeprovisionedAt))
			row("deleted", when(m.DeletedAt))
			return tw.Flush()
		},
	}
	show.Flags().StringVar(&org, "org", "", "org of the member")
	show.Flags().StringVar(&format, "format", "text", "text or json")
	return show
}

// filterMembers keeps the members of owner ("" any, "none" nobody's) and,
// unless withDeleted, drops the SCIM-deleted ones.
func filterMembers(ms []orgsync.Member, owner string, withDeleted bool) []orgsync.Member {
	anyOwner := owner == ""
	if owner == "none" {
		owner = ""
	}
	out := ms[:0]
	for _, m := range ms {
		if (anyOwner || m.Owner == owner) && (withDeleted || m.DeletedAt == nil) {
			out = append(out, m)
		}
	}
	return out
}
