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
	// Snapshot would: read whole, or rebuilt from req.Prev.State and what
	// changed at the server since req.Prev.Position. It reads whole when
	// req.FullReason is not "" (and says so in Read.Reason), and whenever
	// it cannot honour the cursor (none, another server or config, a
	// position the server no longer has): never skipping a change. With
	// req.SkipUnchanged, when the server reports no change at all since the
	// cursor (and its State's Snapshot still holds: Cursor.Until), it may
	// return no Snapshot and set Read.Unchanged instead. next is the
	// cursor to save with the applied run. Errors are those of Snapshot.
	SnapshotFrom(ctx context.Context, req ReadRequest) (snap orgsync.Snapshot, next orgsync.Cursor, read orgsync.Read, err error)
}

// ReadRequest is what an incremental read starts from.
type ReadRequest struct {
	// Prev is the cursor of the last applied run (zero: none).
	Prev orgsync.Cursor
	// FullReason, when not "", asks for a full read and says why.
	FullReason string
	// SkipUnchanged: the org was settled at Prev and has not been written
	// since, so if the source did not change either the plan is empty and
	// the source need not build its Snapshot.
	SkipUnchanged bool
	// Changing, when set, is called (once or more, from the reading
	// goroutine) as soon as the source knows it will return a Snapshot:
	// the runner then starts reading the store alongside.
	Changing func()
	// Part: the runner plans from the part of the org a Scope reaches
	// (scopedPlan), so a source that names one may return the Snapshot
	// without its members and give them by key (orgsync.Read.Rest).
	Part bool
}

// Changed is for sources: it calls Changing when it is set.
func (req ReadRequest) Changed() {
	if req.Changing != nil {
		req.Changing()
	}
}

// StateHolder is implemented by Incremental sources that may hold the
// State of their last read between runs (a daemon's): the store then need
// not read it back.
type StateHolder interface {
	// HeldState returns the ID of the State held (internal/statepatch's
	// ID.String of its bytes), "" when none. A cursor the store returns
	// with StateHeld set has that State.
	HeldState() string
}

// CursorStore is implemented by stores that keep a cursor per source.
type CursorStore interface {
	// Cursor returns the cursor of the last applied run of source in org;
	// the zero Cursor when there is none. held, when not "", names a State
	// the reader holds (StateHolder): when the stored State is that one,
	// the cursor comes without it (State nil, StateHeld set).
	Cursor(ctx context.Context, org, source, held string) (orgsync.Cursor, error)
	// ApplyCursor applies p like Store.Apply and saves c as the cursor of
	// p.Owner in the same transaction (an empty plan too), with
	// c.Settled.StoreSeq set to the last event's Seq after the apply and,
	// when c.Settled.Counted, its counts advanced by what the apply changed
	// (to the counts of the org after it), or without c.Settled when the
	// apply skipped a change. On error the
	// stored cursor is kept.
	ApplyCursor(ctx context.Context, p orgsync.Plan, c orgsync.Cursor) (orgsync.Applied, error)
	// StoreSeq returns the Seq of the last event (every write of a member
	// or group appends one).
	StoreSeq(ctx context.Context) (int64, error)
}

// jobDigest is what besides the Snapshot a job's plan depends on.
func jobDigest(job Job) string {
	return fmt.Sprintf("default_role=%s recreated=%v", job.DefaultRole, job.Recreated)
}

// sourceRead is how a run reads its source: incrementally (inc set) or
// in full.
type sourceRead struct {
	inc Incremental
	cs  CursorStore
	req ReadRequest
}

// prepareRead reads the cursor when both the source and the store can
// read incrementally, and decides whether the source may skip an
// unchanged Snapshot.
func (r *Runner) prepareRead(ctx context.Context, job Job, skipUnchanged bool) (sourceRead, error) {
	inc, ok := job.Source.(Incremental)
	cs, csOK := r.Store.(CursorStore)
	if !ok || !csOK {
		return sourceRead{}, nil
	}
	held := ""
	if h, ok := job.Source.(StateHolder); ok {
		held = h.HeldState()
	}
	prev, err := cs.Cursor(ctx, job.Org, job.Name, held)
	if err != nil {
		return sourceRead{}, fmt.Errorf("read cursor: %w", err)
	}
	sr := sourceRead{inc: inc, cs: cs, req: ReadRequest{Prev: prev, FullReason: fullReason(prev, job.FullEvery, r.now())}}
	if skipUnchanged && sr.req.FullReason == "" && prev.Settled != nil && prev.Settled.Job == jobDigest(job) {
		seq, err := cs.StoreSeq(ctx)
		if err != nil {
			return sourceRead{}, fmt.Errorf("read the store's last event: %w", err)
		}
		sr.req.SkipUnchanged = seq == prev.Settled.StoreSeq
	}
	return sr, nil
}

// read reads the source; cursor is what to save with the applied run
// (nil: nothing to save).
func (sr sourceRead) read(ctx context.Context, job Job) (orgsync.Snapshot, *orgsync.Read, *orgsync.Cursor, error) {
	if sr.inc == nil {
		snap, err := job.Source.Snapshot(ctx)
		return snap, nil, nil, err
	}
	snap, next, read, err := sr.inc.SnapshotFrom(ctx, sr.req)
	if err != nil {
		return orgsync.Snapshot{}, &read, nil, err
	}
	if read.Unchanged && !sr.req.SkipUnchanged {
		return orgsync.Snapshot{}, &read, nil, fmt.Errorf("the source returned no snapshot, which it was not allowed to")
	}
	if read.Unchanged {
		// Carried over: the same desired state, still settled.
		next.Settled = sr.req.Prev.Settled
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

// applyPlan applies rep's plan, with its cursor when it has one. The
// cursor is marked settled when the plan is clean (see below) and the
// store skips no change: only then does the applied plan leave nothing to
// plan or report.
func (r *Runner) applyPlan(ctx context.Context, rep Report) (orgsync.Applied, error) {
	if rep.cursor != nil {
		if cs, ok := r.Store.(CursorStore); ok {
			c := *rep.cursor
			// Settled only when the report of a run that plans nothing
			// would have nothing to say: no conflict, held entry or warning
			// (those are shown by every run, so every run must diff).
			clean := len(rep.Plan.Conflicts) == 0 && len(rep.Plan.Warnings) == 0 && rep.Plan.Held == (orgsync.HeldCount{})
			if c.Settled == nil && clean {
				c.Settled = &orgsync.Settled{Job: rep.jobDigest, Users: rep.Plan.Read, Disabled: rep.Plan.Disabled,
					Counted: true, Owned: rep.Plan.Owned, OwnedMemberships: rep.Plan.OwnedMemberships}
			}
			return cs.ApplyCursor(ctx, rep.Plan, c)
		}
	}
	if rep.Plan.Empty() {
		return orgsync.Applied{Counts: orgsync.Plan{}.Summary(), Provisioned: []string{}}, nil
	}
	return r.Store.Apply(ctx, rep.Plan)
}
