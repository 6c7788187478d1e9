package main

import (
	"bufio"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/admin"
	"github.com/orgsync/orgsync/reconciler/render"
	"github.com/orgsync/orgsync/store"
)

func (a *app) membersCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "members", Short: "List members and record master-key setup"}

	var org, status, format string
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
			if format == "json" {
				return writeJSONArray(a.stdout, len(members), func(i int) any { return admin.View(members[i]) })
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
	cmd.AddCommand(list, complete)
	return cmd
}
