package main

import (
	"context"
	"fmt"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// An org taken out of the config keeps its row, members and tokens in the
// store (nothing is deleted behind the operator's back), but the daemon no
// longer serves it: its SCIM tokens authenticate nobody, and the admin API
// answers for it as for an org that never existed. These adapters put the
// config's list of orgs between the store and the HTTP handlers.

// configuredOrgs is the set of org ids in the config.
func (c *Config) configuredOrgs() map[string]bool {
	out := make(map[string]bool, len(c.Orgs))
	for _, o := range c.Orgs {
		out[o.ID] = true
	}
	return out
}

// scopedSCIM is the store as the SCIM receiver sees it: a token whose org
// is not configured fails like an unknown one (ErrUnauthorized), so the
// answer tells a caller nothing about which tokens once existed.
type scopedSCIM struct {
	store.OwnerView
	orgs map[string]bool
}

func (s scopedSCIM) Authenticate(ctx context.Context, token string) (orgsync.Token, error) {
	t, err := s.OwnerView.Authenticate(ctx, token)
	if err != nil {
		return orgsync.Token{}, err
	}
	if !s.orgs[t.Org] {
		// The reason is logged, never answered; it names the token's id,
		// never the token.
		return orgsync.Token{}, fmt.Errorf("token %s belongs to org %q, which is no longer in the config: %w",
			t.ID, t.Org, orgsync.ErrUnauthorized)
	}
	return t, nil
}

// scopedAdmin is the admin API's store limited to the configured orgs: the
// members of an org no longer configured are not served (404).
type scopedAdmin struct {
	store.AdminView
	orgs map[string]bool
}

func (s scopedAdmin) configured(org string) error {
	if !s.orgs[org] {
		return fmt.Errorf("org %q is not configured: %w", org, orgsync.ErrNotFound)
	}
	return nil
}

func (s scopedAdmin) Members(ctx context.Context, org string, status orgsync.Status) ([]orgsync.Member, error) {
	if err := s.configured(org); err != nil {
		return nil, err
	}
	return s.AdminView.Members(ctx, org, status)
}

func (s scopedAdmin) CompleteSetup(ctx context.Context, org, id, actor string) (orgsync.Member, error) {
	if err := s.configured(org); err != nil {
		return orgsync.Member{}, err
	}
	return s.AdminView.CompleteSetup(ctx, org, id, actor)
}

// Token states shown by `tokens list`.
const (
	tokenValid      = "valid"
	tokenRevoked    = "revoked"
	tokenExpired    = "expired"
	tokenOrgRemoved = "org_removed" // its org is no longer in the config: refused
)

// listedToken is a token as `tokens list --format json` shows it: the record
// and its state (an addition to the record's fields).
type listedToken struct {
	orgsync.Token
	State string `json:"state"`
}

// listState is tokenState, and org_removed for a usable token whose org is
// not in orgs (revoked and expired say more and stay as they are).
func listState(t orgsync.Token, now time.Time, orgs map[string]bool) string {
	s := tokenState(t, now)
	if s == tokenValid && !orgs[t.Org] {
		return tokenOrgRemoved
	}
	return s
}
