package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/orgsync/orgsync/store"
)

// migrateCommand creates or upgrades the database schema, the one thing
// read-only commands never do to an existing database.
func (a *app) migrateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the database schema to this build's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			v, err := st.Schema(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "database schema at version %d (this build's: %d)\n", v, store.SchemaVersion())
			return nil
		},
	}
}
