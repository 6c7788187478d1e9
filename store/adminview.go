package store

import (
	"context"
	"fmt"

	"github.com/orgsync/orgsync"
)

// AdminView is the store as the admin API reads it (admin.Store): the
// members of one status, the runs of one source, one run with its plan.
// Every other method is the Store's own.
type AdminView struct{ *Store }

// Members lists the org's members of status ("" for all).
func (v AdminView) Members(ctx context.Context, org string, status orgsync.Status) ([]orgsync.Member, error) {
	return v.Store.Members(ctx, org, MemberFilter{Status: status})
}

// CompleteSetup is Store.CompleteSetup, ErrNotFound for an unknown org.
func (v AdminView) CompleteSetup(ctx context.Context, org, id, actor string) (orgsync.Member, error) {
	if _, err := v.Org(ctx, org); err != nil {
		return orgsync.Member{}, err
	}
	return v.Store.CompleteSetup(ctx, org, id, actor)
}

// Runs lists the runs of source ("" for every source), newest first,
// without their plans.
func (v AdminView) Runs(ctx context.Context, source string, limit int) ([]orgsync.Run, error) {
	return v.Store.Runs(ctx, RunFilter{Source: source, Limit: limit})
}

// Run returns one run with its plan; ErrNotFound for an unknown id.
func (v AdminView) Run(ctx context.Context, id int64) (orgsync.Run, error) {
	runs, err := v.Store.Runs(ctx, RunFilter{ID: id, WithPlan: true, Limit: 1})
	if err != nil {
		return orgsync.Run{}, err
	}
	if len(runs) == 0 {
		return orgsync.Run{}, fmt.Errorf("run %d: %w", id, orgsync.ErrNotFound)
	}
	return runs[0], nil
}
