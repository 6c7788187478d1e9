package reconciler

import (
	"context"
	"fmt"

	"github.com/orgsync/orgsync"
)

// Reviewed is a plan a person looked at before it is applied: a plan file
// saved by `orgsync plan -out`, or the plan of a blocked run being
// approved.
type Reviewed struct {
	// Digest is the reviewed plan's: the run applies only a plan computed
	// now from a source and an org that give the same digest.
	Digest orgsync.Digest
	// Force applies the plan although a guard refuses it, as Run's force
	// does (never past the empty-source guard: that takes
	// GuardConfig.AllowEmpty).
	Force bool
	// Approves and Actor are recorded with the run (see orgsync.Run).
	Approves int64
	Actor    string
}

// RunReviewed reads the source and the store again, computes the plan and
// applies it, guarded as Run does, only when its digest is the reviewed
// one: then it is exactly the plan that was reviewed. When the source, the
// org or the plan differ, it applies and records nothing and returns an
// error wrapping orgsync.ErrStale that says which changed; the report then
// holds the plan computed now.
func (r *Runner) RunReviewed(ctx context.Context, job Job, rv Reviewed) (Report, error) {
	log := r.Logger.With().Str("source", job.Name).Str("org", job.Org).Logger()
	rep, observed, err := r.plan(ctx, job, false)
	if err != nil {
		return r.finish(ctx, log, rep, err)
	}
	if why := rv.Digest.Stale(rep.Digest); why != "" {
		rep.DryRun, rep.FinishedAt = true, r.now()
		err := fmt.Errorf("reconciler: %s: %w: %s; nothing was applied: plan again and review the new plan", job.Name, orgsync.ErrStale, why)
		rep.Error = err.Error()
		log.Warn().Str("reason", why).Int64("approves", rv.Approves).Msg("reviewed plan is stale: not applied")
		return rep, err
	}
	rep.Approves, rep.Actor = rv.Approves, rv.Actor
	return r.apply(ctx, log, rep, observed, rv.Force)
}

// Approve applies the plan of b, a run of job a guard blocked, on behalf of
// actor: the guard's refusal is overridden (except the empty-source
// guard's, unless job.Guard.AllowEmpty), and only while the plan is
// current (see RunReviewed). The new run is recorded with Approves = b.ID.
// A run that was not blocked, or was recorded without a digest, is
// orgsync.ErrConflict; a run of another source orgsync.ErrInvalid.
func (r *Runner) Approve(ctx context.Context, job Job, b orgsync.Run, actor string) (Report, error) {
	switch {
	case b.Source != job.Name || b.Org != job.Org:
		return Report{}, fmt.Errorf("reconciler: run %d is of source %q in org %q, not of %q in %q: %w", b.ID, b.Source, b.Org, job.Name, job.Org, orgsync.ErrInvalid)
	case b.Result != orgsync.RunBlocked:
		return Report{}, fmt.Errorf("reconciler: run %d was not blocked by a guard (result %s): there is nothing to approve: %w", b.ID, b.Result, orgsync.ErrConflict)
	case b.Digest == nil || b.Digest.IsZero():
		return Report{}, fmt.Errorf("reconciler: run %d was recorded without the digest of its inputs (before this version): it cannot be approved; run `orgsync plan -out FILE --source %s` and `orgsync reconcile FILE`: %w", b.ID, b.Source, orgsync.ErrConflict)
	}
	return r.RunReviewed(ctx, job, Reviewed{Digest: *b.Digest, Force: true, Approves: b.ID, Actor: actor})
}
