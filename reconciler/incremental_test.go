package reconciler

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler/reconcilertest"
)

// cursorStore is the reconcilertest fake with a cursor per source, saved only when
// the plan applies.
type cursorStore struct {
	*reconcilertest.Store
	cursors map[string]orgsync.Cursor
	gotHeld string // what the last Cursor call was told the reader holds
}

var _ CursorStore = (*cursorStore)(nil)

func (s *cursorStore) Cursor(_ context.Context, org, source, held string) (orgsync.Cursor, error) {
	s.gotHeld = held
	c := s.cursors[org+"/"+source]
	if held != "" && string(c.State) == held {
		c.State, c.StateHeld = nil, true
	}
	return c, nil
}

func (s *cursorStore) ApplyCursor(ctx context.Context, p orgsync.Plan, c orgsync.Cursor) (orgsync.Applied, error) {
	out := orgsync.Applied{Counts: orgsync.Plan{}.Summary()}
	if !p.Empty() {
		var err error
		if out, err = s.Store.Apply(ctx, p); err != nil {
			return out, err
		}
	} else if s.ApplyErr != nil {
		return out, s.ApplyErr
	}
	prev := s.cursors[p.Org+"/"+p.Owner]
	if c.State == nil {
		c.State = prev.State
	}
	if c.Settled != nil {
		st := *c.Settled
		st.StoreSeq, _ = s.Store.StoreSeq(ctx)
		if st.Counted { // the counts after the apply
			obs, _ := s.Store.Observed(ctx, p.Org)
			st.Owned, st.OwnedMemberships, _ = SnapshotScope(obs).Owned(p.Owner)
		}
		c.Settled = &st
		if len(out.Skipped) > 0 {
			c.Settled = nil
		}
	}
	c.Org, c.Source = p.Org, p.Owner
	s.cursors[p.Org+"/"+p.Owner] = c
	return out, nil
}

// incSource is an Incremental fake: it returns snap and, as next cursor,
// position next; it records what it was asked.
type incSource struct {
	snap       orgsync.Snapshot
	next       string
	err        error
	gotPrev    orgsync.Cursor
	gotReason  string
	gotSkip    bool
	unchanged  bool // answer Unchanged when allowed
	fullAtNext time.Time
}

var _ Incremental = (*incSource)(nil)

func (f *incSource) Snapshot(context.Context) (orgsync.Snapshot, error) { return f.snap, f.err }

func (f *incSource) SnapshotFrom(_ context.Context, req ReadRequest) (orgsync.Snapshot, orgsync.Cursor, orgsync.Read, error) {
	prev, reason := req.Prev, req.FullReason
	f.gotPrev, f.gotReason, f.gotSkip = prev, reason, req.SkipUnchanged
	if req.SkipUnchanged && f.unchanged {
		return orgsync.Snapshot{}, orgsync.Cursor{Position: prev.Position, FullAt: prev.FullAt},
			orgsync.Read{Kind: orgsync.ReadIncremental, Reason: "nothing changed", Unchanged: true}, nil
	}
	req.Changed()
	read := orgsync.Read{Kind: orgsync.ReadIncremental, Reason: "nothing changed"}
	full := prev.FullAt
	if reason != "" {
		read = orgsync.Read{Kind: orgsync.ReadFull, Reason: reason}
		full = f.fullAtNext
	}
	if f.err != nil {
		return orgsync.Snapshot{}, orgsync.Cursor{}, read, f.err
	}
	return f.snap, orgsync.Cursor{Position: f.next, FullAt: full, State: []byte(f.next)}, read, nil
}

func TestRunnerCursor(t *testing.T) {
	ctx := context.Background()
	alice := orgsync.Member{ExternalID: "a", UserName: "alice@example.org", Status: orgsync.StatusActive}
	bob := orgsync.Member{ExternalID: "b", UserName: "bob@example.org", Status: orgsync.StatusActive}
	st := &cursorStore{Store: reconcilertest.NewStore(nil, nil), cursors: map[string]orgsync.Cursor{}}
	now := t0
	r := &Runner{Store: st, Logger: zerolog.Nop(), Now: func() time.Time { return now }}
	src := &incSource{snap: orgsync.Snapshot{Members: []orgsync.Member{alice, bob}}, next: "p1", fullAtNext: now}
	job := Job{Name: "corp", Org: "acme", DefaultRole: orgsync.RoleMember, Guard: GuardConfig{PercentMinCount: 1}, Source: src, FullEvery: time.Hour}
	job.Guard.SetDefaults()

	cursor := func() orgsync.Cursor { return st.cursors["acme/corp"] }
	lastRead := func() *orgsync.Read { return st.Runs[len(st.Runs)-1].Read }

	// 1. First run: full, cursor saved with the apply.
	if _, err := r.Run(ctx, job, false); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(src.gotReason, "first run") || cursor().Position != "p1" || lastRead().Kind != orgsync.ReadFull {
		t.Fatalf("first run: reason %q, cursor %+v, read %+v", src.gotReason, cursor(), lastRead())
	}

	// 2. A dry run reads from the cursor but saves nothing.
	src.next = "dry"
	if _, err := r.Plan(ctx, job); err != nil {
		t.Fatal(err)
	}
	if src.gotReason != "" || src.gotPrev.Position != "p1" || cursor().Position != "p1" {
		t.Fatalf("dry run: reason %q, prev %q, cursor %q", src.gotReason, src.gotPrev.Position, cursor().Position)
	}

	// 3. A blocked run (everyone gone) keeps the cursor.
	now = now.Add(10 * time.Minute)
	src.snap, src.next = orgsync.Snapshot{Members: []orgsync.Member{{ExternalID: "c", UserName: "carol@example.org", Status: orgsync.StatusActive}}}, "p2"
	if _, err := r.Run(ctx, job, false); !errors.Is(err, orgsync.ErrGuard) {
		t.Fatalf("blocked run: err %v", err)
	}
	if cursor().Position != "p1" || lastRead().Kind != orgsync.ReadIncremental {
		t.Fatalf("blocked run moved the cursor to %q (read %+v)", cursor().Position, lastRead())
	}

	// 4. A failed apply keeps the cursor.
	src.snap = orgsync.Snapshot{Members: []orgsync.Member{alice}}
	job.Guard.MaxDeprovision, job.Guard.MaxDeprovisionPercent = 10, 100
	st.ApplyErr = errors.New("disk full")
	if _, err := r.Run(ctx, job, false); err == nil || cursor().Position != "p1" {
		t.Fatalf("failed apply: err %v, cursor %q", err, cursor().Position)
	}
	st.ApplyErr = nil

	// 5. A failed read keeps it too.
	src.err = errors.New("connection reset")
	if _, err := r.Run(ctx, job, false); err == nil || cursor().Position != "p1" {
		t.Fatalf("failed read: err %v, cursor %q", err, cursor().Position)
	}
	src.err = nil

	// 6. An incremental run that applies moves it, an empty plan too.
	if _, err := r.Run(ctx, job, false); err != nil || cursor().Position != "p2" {
		t.Fatalf("applied run: err %v, cursor %q", err, cursor().Position)
	}
	src.next = "p3"
	rep, err := r.Run(ctx, job, false)
	if err != nil || !rep.Plan.Empty() || cursor().Position != "p3" {
		t.Fatalf("empty plan: err %v, %d changes, cursor %q", err, len(rep.Plan.Changes), cursor().Position)
	}

	// 7. full_every elapsed since the last full read: full again.
	now = t0.Add(time.Hour)
	if _, err := r.Run(ctx, job, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(src.gotReason, "full_every") || lastRead().Kind != orgsync.ReadFull {
		t.Fatalf("after full_every: reason %q, read %+v", src.gotReason, lastRead())
	}
}

func TestFullReason(t *testing.T) {
	at := t0
	for _, tc := range []struct {
		name  string
		prev  orgsync.Cursor
		every time.Duration
		now   time.Time
		want  string // a prefix; "" for incremental
	}{
		{"no cursor", orgsync.Cursor{}, time.Hour, at, "first run"},
		{"fresh", orgsync.Cursor{Position: "p", FullAt: at}, time.Hour, at.Add(59 * time.Minute), ""},
		{"elapsed", orgsync.Cursor{Position: "p", FullAt: at}, time.Hour, at.Add(time.Hour), "full_every (1h0m0s)"},
		{"default", orgsync.Cursor{Position: "p", FullAt: at}, 0, at.Add(25 * time.Hour), "full_every (24h0m0s)"},
		{"never full", orgsync.Cursor{Position: "p"}, time.Hour, at, "full_every"},
		{"negative", orgsync.Cursor{Position: "p", FullAt: at}, -1, at, "full_every is negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := fullReason(tc.prev, tc.every, tc.now)
			if (tc.want == "") != (got == "") || !strings.HasPrefix(got, tc.want) {
				t.Fatalf("got %q, want prefix %q", got, tc.want)
			}
		})
	}
}

// TestRunnerSettledSkipsTheStore: after a run that applied its whole plan,
// a source that reports no change and a store with no write since give an
// empty plan without reading the store; any write to the store, or another
// default role, makes the run diff again.
func TestRunnerSettledSkipsTheStore(t *testing.T) {
	ctx := context.Background()
	alice := orgsync.Member{ExternalID: "a", UserName: "alice@example.org", Status: orgsync.StatusActive}
	st := &cursorStore{Store: reconcilertest.NewStore(nil, nil), cursors: map[string]orgsync.Cursor{}}
	r := &Runner{Store: st, Logger: zerolog.Nop(), Now: func() time.Time { return t0 }}
	src := &incSource{snap: orgsync.Snapshot{Members: []orgsync.Member{alice}}, next: "p1", fullAtNext: t0, unchanged: true}
	job := Job{Name: "corp", Org: "acme", DefaultRole: orgsync.RoleMember, Source: src, FullEvery: time.Hour}
	job.Guard.SetDefaults()

	if _, err := r.Run(ctx, job, false); err != nil || src.gotSkip {
		t.Fatalf("first run: err %v, skip allowed %v", err, src.gotSkip)
	}
	if seq, _ := st.StoreSeq(ctx); seq == 0 {
		t.Fatal("the first run provisioned alice, yet the store's seq did not move")
	}
	if c, seq := st.cursors["acme/corp"], must(st.StoreSeq(ctx)); c.Settled == nil || c.Settled.Users != 1 || c.Settled.StoreSeq != seq {
		t.Fatalf("first run's cursor: settled %+v (store seq %d)", c.Settled, seq)
	}

	st.ObserveErr = errors.New("the store must not be read")
	rep, err := r.Run(ctx, job, false)
	if err != nil || !src.gotSkip || !rep.Plan.Empty() || rep.Plan.Read != 1 || rep.PendingSetup != nil {
		t.Fatalf("settled run: err %v, skip %v, %d changes, read %d, pending %v", err, src.gotSkip, len(rep.Plan.Changes), rep.Plan.Read, rep.PendingSetup)
	}
	if c := st.cursors["acme/corp"]; c.Settled == nil {
		t.Fatal("a settled, unchanged run dropped Settled")
	}
	st.ObserveErr = nil

	// Settled, but the source changed: it says so, the store is read
	// alongside and the plan is Diff's.
	src.unchanged = false
	src.snap.Members = append(src.snap.Members, orgsync.Member{ExternalID: "c", UserName: "carol@example.org", Status: orgsync.StatusActive})
	rep, err = r.Run(ctx, job, false)
	if err != nil || !src.gotSkip || rep.Plan.Summary()[orgsync.ActionProvision] != 1 || rep.PendingSetup == nil {
		t.Fatalf("settled, source changed: err %v, skip %v, summary %v, pending %v", err, src.gotSkip, rep.Plan.Summary(), rep.PendingSetup)
	}
	src.unchanged = true
	if _, err := r.Run(ctx, job, false); err != nil || !src.gotSkip {
		t.Fatalf("settled again after the change: err %v, skip %v", err, src.gotSkip)
	}

	// A write to the store (here: another owner's member) makes it diff.
	if _, err := st.Apply(ctx, orgsync.Plan{Org: "acme", Owner: "other", Changes: []orgsync.Change{{Action: orgsync.ActionProvision,
		UserName: "bob@example.org", MemberKey: "b", Member: &orgsync.Member{ExternalID: "b", UserName: "bob@example.org"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx, job, false); err != nil || src.gotSkip {
		t.Fatalf("after a store write: err %v, skip allowed %v", err, src.gotSkip)
	}
	// A run of another default role diffs too.
	if _, err := r.Run(ctx, job, false); err != nil || !src.gotSkip {
		t.Fatalf("settled again: err %v, skip %v", err, src.gotSkip)
	}
	job.DefaultRole = orgsync.RoleAdmin
	if _, err := r.Run(ctx, job, false); err != nil || src.gotSkip {
		t.Fatalf("another default role: err %v, skip allowed %v", err, src.gotSkip)
	}
}

// must is v, failing nothing: the fake's StoreSeq never errs.
func must(v int64, _ error) int64 { return v }

// holdingSource is an incSource that holds the State of its last read
// (reconciler.StateHolder): the State is its position's bytes.
type holdingSource struct{ incSource }

func (f *holdingSource) HeldState() string { return f.next }

// TestRunnerHeldState: the runner tells the store which State the source
// holds, and the source gets the cursor without it when it is the stored
// one, with it otherwise.
func TestRunnerHeldState(t *testing.T) {
	ctx := context.Background()
	st := &cursorStore{Store: reconcilertest.NewStore(nil, nil), cursors: map[string]orgsync.Cursor{}}
	r := &Runner{Store: st, Logger: zerolog.Nop(), Now: func() time.Time { return t0 }}
	alice := orgsync.Member{ExternalID: "a", UserName: "alice@example.org", Status: orgsync.StatusActive}
	src := &holdingSource{incSource{snap: orgsync.Snapshot{Members: []orgsync.Member{alice}}, next: "p1", fullAtNext: t0}}
	job := Job{Name: "corp", Org: "acme", DefaultRole: orgsync.RoleMember, Guard: GuardConfig{PercentMinCount: 1}, Source: src, FullEvery: time.Hour}
	job.Guard.SetDefaults()
	run := func() {
		t.Helper()
		if _, err := r.Run(ctx, job, false); err != nil {
			t.Fatal(err)
		}
	}
	run() // stores the State "p1", which the source then holds
	run()
	if st.gotHeld != "p1" || !src.gotPrev.StateHeld || src.gotPrev.State != nil || src.gotPrev.Position != "p1" {
		t.Fatalf("held p1: the store was told %q; the source got StateHeld %v, State %q, position %q",
			st.gotHeld, src.gotPrev.StateHeld, src.gotPrev.State, src.gotPrev.Position)
	}
	src.next = "p9" // holds another State than the stored one
	run()
	if st.gotHeld != "p9" || src.gotPrev.StateHeld || string(src.gotPrev.State) != "p1" {
		t.Fatalf("held p9: the store was told %q; the source got StateHeld %v and State %q, want p1's", st.gotHeld, src.gotPrev.StateHeld, src.gotPrev.State)
	}
}
