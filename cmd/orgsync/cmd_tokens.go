package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler/render"
)

func (a *app) tokensCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "tokens", Short: "Manage the SCIM bearer tokens IdPs authenticate with"}

	var org, description, ttl string
	create := &cobra.Command{
		Use:   "create",
		Short: "Mint a SCIM token for an org; stdout is the token alone",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			org, err := a.orgFlag(org)
			if err != nil {
				return err
			}
			var d time.Duration
			if ttl != "" {
				if d, err = orgsync.ParseDuration(ttl); err != nil {
					return fmt.Errorf("--ttl: %w", err)
				}
			}
			st, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			token, rec, err := st.CreateToken(cmd.Context(), org, description, d)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, token)
			exp := "never expires"
			if rec.ExpiresAt != nil {
				exp = "expires " + rec.ExpiresAt.Format(time.RFC3339)
			}
			fmt.Fprintf(a.stderr, "SCIM token %s for org %q created (%s). It is shown only this once: store it now.\n", rec.ID, org, exp)
			return nil
		},
	}
	create.Flags().StringVar(&org, "org", "", "org the token provisions")
	create.Flags().StringVar(&description, "description", "", "what the token is for (e.g. the IdP)")
	create.Flags().StringVar(&ttl, "ttl", "", "lifetime, e.g. 90d or 720h (default: never expires)")

	var listOrg, format string
	list := &cobra.Command{
		Use:   "list",
		Short: "List tokens (never the tokens themselves)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, st, err := a.textOrJSON(cmd.Context(), format)
			if err != nil {
				return err
			}
			orgs := cfg.configuredOrgs()
			tokens, err := st.Tokens(cmd.Context(), listOrg)
			if err != nil {
				return err
			}
			// An org no longer in the config is accepted when the store
			// still has tokens of it, so they can be seen and revoked.
			if listOrg != "" && !orgs[listOrg] && len(tokens) == 0 {
				if _, err := a.orgFlag(listOrg); err != nil {
					return err
				}
			}
			now := time.Now()
			if format == "json" {
				out := make([]listedToken, 0, len(tokens))
				for _, t := range tokens {
					out = append(out, listedToken{Token: t, State: listState(t, now, orgs)})
				}
				return a.writeJSON(out)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tORG\tDESCRIPTION\tCREATED\tEXPIRES\tLAST USED\tSTATE")
			removed := 0
			for _, t := range tokens {
				state := listState(t, now, orgs)
				if state == tokenOrgRemoved {
					removed++
					state += " (org not configured: refused)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, render.SafeText(t.Org), render.SafeText(t.Description), day(&t.CreatedAt),
					day(t.ExpiresAt), day(t.LastUsedAt), state)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if removed > 0 {
				fmt.Fprintf(a.stdout, "\n%d %s of orgs no longer in the config: the SCIM receiver refuses them; revoke them with `orgsync tokens revoke ID`\n",
					removed, plural(removed, "token", "tokens"))
			}
			return nil
		},
	}
	list.Flags().StringVar(&listOrg, "org", "", "only this org's tokens")
	list.Flags().StringVar(&format, "format", "text", "text or json")

	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token; it fails at once from then on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.store(cmd.Context())
			if err != nil {
				return err
			}
			t, err := st.RevokeToken(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "revoked token %s of org %q\n", t.ID, t.Org)
			return nil
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func day(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func tokenState(t orgsync.Token, now time.Time) string {
	switch {
	case t.RevokedAt != nil:
		return tokenRevoked
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return tokenExpired
	}
	return tokenValid
}
