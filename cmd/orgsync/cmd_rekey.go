package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler/render"
)

// memberRekeyCommand hands a member to its re-created directory entry: an
// entry deleted and added again has a new key (entryUUID, objectGUID) and
// the same name, which a run only reports as a conflict, as matching by
// name alone would be a guess. An operator who knows it is the same person
// says so here.
func (a *app) memberRekeyCommand() *cobra.Command {
	var org, source string
	cmd := &cobra.Command{
		Use:   "rekey USER",
		Short: "Move a member (id or userName) to the new key of its re-created entry in --source",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			org, err := a.orgFlag(org)
			if err != nil {
				return err
			}
			if source == "" {
				return fmt.Errorf("--source is required: the source whose entry the member is to follow: %w", orgsync.ErrInvalid)
			}
			jobs, err := a.jobs(source)
			if err != nil {
				return err
			}
			job := jobs[0]
			if job.Org != org {
				return fmt.Errorf("source %q reads org %q, not %q: %w", source, job.Org, org, orgsync.ErrInvalid)
			}
			st, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			m, err := st.Member(cmd.Context(), org, args[0])
			if err != nil {
				return err
			}
			if m.Owner != source {
				return fmt.Errorf("member %s is owned by %s, not by source %q: %w", render.SafeText(m.UserName), orgsync.OwnerName(m.Owner), source, orgsync.ErrConflict)
			}
			snap, err := job.Source.Snapshot(cmd.Context())
			if err != nil {
				return err
			}
			var keys []string
			for _, d := range snap.Members {
				switch {
				case d.ExternalID == m.ExternalID:
					return fmt.Errorf("the member's own entry (key %q) is still in the source: it was not re-created, nothing to rekey: %w",
						m.ExternalID, orgsync.ErrConflict)
				case orgsync.Fold(d.UserName) == orgsync.Fold(m.UserName) && d.ExternalID != "":
					keys = append(keys, d.ExternalID)
				}
			}
			switch len(keys) {
			case 0:
				return fmt.Errorf("source %q lists no entry named %s: %w", source, render.SafeText(m.UserName), orgsync.ErrNotFound)
			case 1:
			default:
				return fmt.Errorf("source %q lists %d entries named %s (%v): fix the directory first: %w", source, len(keys), render.SafeText(m.UserName), keys, orgsync.ErrConflict)
			}
			old := m.ExternalID
			m, err = st.RekeyMember(cmd.Context(), org, m.ID, source, keys[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s: key %q → %q. The next run of %s matches the member to its new entry (and reactivates it if it was deprovisioned); its id, setup state and groups stay.\n",
				render.SafeText(m.UserName), old, m.ExternalID, source)
			return nil
		},
	}
	cmd.Flags().StringVar(&org, "org", "", "org of the member")
	cmd.Flags().StringVar(&source, "source", "", "the source whose re-created entry the member is to follow")
	return cmd
}
