package reconciler

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
)

// cursorStore is the memStore with a cursor per source, saved only when
// the plan applies.
type cursorStore struct {
	*memStore
	cursors map[string]orgsync.Cursor
}

var _ CursorStore = (*cursorStore)(nil)

func (s *cursorStore) Cursor(_ context.Context, org, source string) (orgsync.Cursor, error) {
	return s.cursors[org+"/"+source], nil
}

func (s *cursorStore) ApplyCursor(ctx context.Context, p orgsync.Plan, c orgsync.Cursor) (orgsync.Applied, error) {
	out := orgsync.Applied{Counts: orgsync.Plan{}.Summary()}
	if !p.Empty() {
		var err error
		if out, err = s.memStore.Apply(ctx, p); err != nil {
			return out, err
		}
	} else if s.applyErr != nil {
		return out, s.applyErr
	}
	prev := s.cursors[p.Org+"/"+p.Owner]
	if c.State == nil {
		c.State = prev.State
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
	fullAtNext time.Time
}

var _ Incremental = (*incSource)(nil)

func (f *incSource) Snapshot(context.Context) (orgsync.Snapshot, error) { return f.snap, f.err }

func (f *incSource) SnapshotFrom(_ context.Context, prev orgsync.Cursor, reason string) (orgsync.Snapshot, orgsync.Cursor, orgsync.Read, error) {
	f.gotPrev, f.gotReason = prev, reason
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
	st := &cursorStore{memStore: newMemStore(nil, nil), cursors: map[string]orgsync.Cursor{}}
	now := t0
	r := &Runner{Store: st, Logger: zerolog.Nop(), Now: func() time.Time { return now }}
	src := &incSource{snap: orgsync.Snapshot{Members: []orgsync.Member{alice, bob}}, next: "p1", fullAtNext: now}
	job := Job{Name: "corp", Org: "acme", DefaultRole: orgsync.RoleMember, Guard: GuardConfig{}, Source: src, FullEvery: time.Hour}
	job.Guard.SetDefaults()

	cursor := func() orgsync.Cursor { return st.cursors["acme/corp"] }
	lastRead := func() *orgsync.Read { return st.runs[len(st.runs)-1].Read }

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
	st.applyErr = errors.New("disk full")
	if _, err := r.Run(ctx, job, false); err == nil || cursor().Position != "p1" {
		t.Fatalf("failed apply: err %v, cursor %q", err, cursor().Position)
	}
	st.applyErr = nil

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
