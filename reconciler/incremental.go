package reconciler

import (
	"context"
	"fmt"
	"time"

	"github.com/orgsync/orgsync"
)

// DefaultFullEvery is how often an incremental source is read in full
// when its job does not say (the safety net of incremental reads).
const DefaultFullEvery = 24 * time.Hour

// Incremental is implemented by sources that can read only what changed
// since the cursor of their last applied run.
type Incremental interface {
	// SnapshotFrom returns the complete desired Snapshot, exactly as
	// Snapshot would: read whole, or rebuilt from prev.State and what
	// changed at the server since prev.Position. It reads whole when
	// fullReason is not "" (and says so in Read.Reason), and whenever it
	// cannot honour prev (none, another server or config, a position the
	// server no longer has): never skipping a change. next is the cursor
	// to save with the applied run. Errors are those of Snapshot.
	SnapshotFrom(ctx context.Context, prev orgsync.Cursor, fullReason string) (snap orgsync.Snapshot, next orgsync.Cursor, read orgsync.Read, err error)
}

// CursorStore is implemented by stores that keep a cursor per source.
type CursorStore interface {
	// Cursor returns the cursor of the last applied run of source in org;
	// the zero Cursor when there is none.
	Cursor(ctx context.Context, org, source string) (orgsync.Cursor, error)
	// ApplyCursor applies p like Store.Apply and saves c as the cursor of
	// p.Owner in the same transaction (an empty plan too). On error the
	// stored cursor is kept.
	ApplyCursor(ctx context.Context, p orgsync.Plan, c orgsync.Cursor) (orgsync.Applied, error)
}

// readSource reads job's source: incrementally when both the source and
// the store can, in full otherwise. cursor is what to save with the
// applied run (nil: nothing to save).
func (r *Runner) readSource(ctx context.Context, job Job) (orgsync.Snapshot, *orgsync.Read, *orgsync.Cursor, error) {
	inc, ok := job.Source.(Incremental)
	cs, csOK := r.Store.(CursorStore)
	if !ok || !csOK {
		snap, err := job.Source.Snapshot(ctx)
		return snap, nil, nil, err
	}
	prev, err := cs.Cursor(ctx, job.Org, job.Name)
	if err != nil {
		return orgsync.Snapshot{}, nil, nil, fmt.Errorf("read cursor: %w", err)
	}
	snap, next, read, err := inc.SnapshotFrom(ctx, prev, fullReason(prev, job.FullEvery, r.now()))
	if err != nil {
		return orgsync.Snapshot{}, &read, nil, err
	}
	return snap, &read, &next, nil
}

// fullReason says why the next read must be full, "" when it may be
// incremental.
func fullReason(prev orgsync.Cursor, every time.Duration, now time.Time) string {
	if every == 0 {
		every = DefaultFullEvery
	}
	switch {
	case prev.Zero():
		return "first run: no cursor stored"
	case every < 0:
		return "full_every is negative: every read is full"
	case prev.FullAt.IsZero() || !now.Before(prev.FullAt.Add(every)):
		return fmt.Sprintf("full_every (%s) elapsed since the last full read", every)
	}
	return ""
}

// applyPlan applies rep's plan, with its cursor when it has one.
func (r *Runner) applyPlan(ctx context.Context, rep Report) (orgsync.Applied, error) {
	if rep.cursor != nil {
		if cs, ok := r.Store.(CursorStore); ok {
			return cs.ApplyCursor(ctx, rep.Plan, *rep.cursor)
		}
	}
	if rep.Plan.Empty() {
		return orgsync.Applied{Counts: orgsync.Plan{}.Summary(), Provisioned: []string{}}, nil
	}
	return r.Store.Apply(ctx, rep.Plan)
}
