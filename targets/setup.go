package targets

import (
	"context"
	"errors"
	"fmt"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/targets/kmsadmin"
)

// SyncSetup reads the KMS's membership statuses and makes active every
// pending_setup member whose linked membership is accepted, recording the
// target as the actor. It returns how many became active. Without
// setup_status it does nothing.
func (t *Target) SyncSetup(ctx context.Context) (int, error) {
	if t.Setup == nil {
		return 0, nil
	}
	n, err := t.syncSetup(ctx)
	if t.OnSetup != nil {
		t.OnSetup(n, err)
	}
	return n, err
}

func (t *Target) syncSetup(ctx context.Context) (int, error) {
	ms, err := t.Setup.Memberships(ctx)
	if err != nil {
		return 0, fmt.Errorf("target %s: setup status: %w", t.Name, err)
	}
	links, err := t.Store.TargetLinks(ctx, t.Name)
	if err != nil {
		return 0, err
	}
	obs, err := t.Store.Observed(ctx, t.Org)
	if err != nil {
		return 0, err
	}
	pending := map[string]bool{}
	for i := range obs.Members {
		if m := &obs.Members[i]; m.Status == orgsync.StatusPendingSetup && m.DeletedAt == nil {
			pending[m.ID] = true
		}
	}
	n := 0
	var errs error
	for _, l := range links {
		if l.Kind != orgsync.LinkMember || !pending[l.LocalID] || ms[l.RemoteID].Status != kmsadmin.StatusAccepted {
			continue
		}
		if _, err := t.Store.CompleteSetup(ctx, t.Org, l.LocalID, orgsync.TargetActor(t.Name)); err != nil {
			if !errors.Is(err, orgsync.ErrInvalid) && !errors.Is(err, orgsync.ErrNotFound) {
				errs = errors.Join(errs, err)
			}
			continue
		}
		n++
		t.Log.Info().Str("member", l.LocalID).Str("user_name", l.Name).Msg("setup completed in the KMS: member active")
	}
	return n, errs
}
