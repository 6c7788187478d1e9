package reconciler

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/testenv"
	"github.com/orgsync/orgsync/reconciler/internal/fixture"
	"github.com/orgsync/orgsync/reconciler/reconcilertest"
	"github.com/orgsync/orgsync/store"
)

var _ ScopeReader = (*store.Store)(nil)

// scopeSource is an Incremental fake whose reads name, as their Scope, the
// true difference from the Snapshot of the cursor they read from.
type scopeSource struct {
	snap  orgsync.Snapshot
	pos   int
	sent  map[string]orgsync.Snapshot // by cursor position
	now   time.Time
	noTag bool // return no Scope
	// partial: asked for a part, return the Snapshot without members and
	// its Rest (the last one in rest).
	partial bool
	rest    *reconcilertest.Rest
}

func (f *scopeSource) Snapshot(context.Context) (orgsync.Snapshot, error) { return f.snap, nil }

func (f *scopeSource) SnapshotFrom(_ context.Context, req ReadRequest) (orgsync.Snapshot, orgsync.Cursor, orgsync.Read, error) {
	f.pos++
	next := orgsync.Cursor{Position: strconv.Itoa(f.pos), FullAt: req.Prev.FullAt, State: []byte("state")}
	f.sent[next.Position] = f.snap
	if req.FullReason != "" {
		next.FullAt = f.now
		return f.snap, next, orgsync.Read{Kind: orgsync.ReadFull, Reason: req.FullReason}, nil
	}
	req.Changed()
	read := orgsync.Read{Kind: orgsync.ReadIncremental, Reason: "changed"}
	if !f.noTag {
		read.Scope = reconcilertest.ScopeBetween(f.sent[req.Prev.Position], f.snap)
	}
	f.rest = nil
	if f.partial && req.Part && read.Scope != nil {
		part, rest := reconcilertest.Partial(f.snap)
		read.Rest, f.rest = rest, rest
		return part, next, read, nil
	}
	return f.snap, next, read, nil
}

// cursorSQL adds nothing to the SQL store but says it is one.
func scopedBackends() map[string]func(t *testing.T, org string) *store.Store {
	return map[string]func(t *testing.T, org string) *store.Store{
		"sqlite": func(t *testing.T, org string) *store.Store {
			return openStore(t, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "orgsync.db")}, org)
		},
		"postgres": func(t *testing.T, org string) *store.Store {
			return openStore(t, store.Config{Driver: store.DriverPostgres, DSN: testenv.Require(t, testenv.PostgresDSNVar)}, org)
		},
	}
}

// TestScopedRunsRealStore: runs whose source names its scope plan, through
// the SQL store's ReadScope, exactly the plan Diff makes over the whole
// org; and they do plan scoped while the org stays settled.
//
// A source that returns a partial Snapshot (its members by key, from
// orgsync.Read.Rest) gets the same plans; its whole Snapshot is built only
// for the runs that diff the whole org.
func TestScopedRunsRealStore(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			for seed := range uint64(4) {
				org := fmt.Sprintf("scoped-%d-%d", seed, time.Now().UnixNano())
				st := scopedBackends()[name](t, org)
				scopedRunsOn(t, st, org, seed, seed%2 == 1)
			}
		})
	}
}

func scopedRunsOn(t *testing.T, st *store.Store, org string, seed uint64, partial bool) {
	ctx := context.Background()
	seedRealStore(t, st, org)
	w := &scopedWorld{rng: rand.New(rand.NewPCG(seed, 11))}
	for range 40 {
		w.desired.Members = append(w.desired.Members, w.user())
	}
	for g := range 6 {
		var ks []string
		for _, m := range w.desired.Members[g*5 : g*5+9] {
			ks = append(ks, m.ExternalID)
		}
		w.desired.Groups = append(w.desired.Groups, fixture.Group(fmt.Sprintf("g%d", g), fmt.Sprintf("team %d", g), ks))
	}
	src := &scopeSource{snap: w.desired, sent: map[string]orgsync.Snapshot{}, now: fixture.T0, partial: partial}
	r := &Runner{Store: st, Logger: zerolog.Nop(), Now: func() time.Time { return fixture.T0 }}
	job := Job{Name: "ldap", Org: org, DefaultRole: orgsync.RoleMember, Source: src, FullEvery: 24 * time.Hour,
		Guard: GuardConfig{MaxDeprovision: -1, MaxDeprovisionPercent: -1, AllowEmpty: true}}
	job.Guard.SetDefaults()
	opts := Options{Org: org, Owner: "ldap", DefaultRole: orgsync.RoleMember}
	scoped, clean := 0, w.desired
	for round := range 30 {
		obs, err := st.Observed(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		want := Diff(src.snap, obs, opts)
		rep, err := r.Run(ctx, job, false)
		if err != nil {
			t.Fatalf("seed %d round %d: %v", seed, round, err)
		}
		if strings.Contains(rep.Read.Reason, "planned from") {
			scoped++
			if !reflect.DeepEqual(rep.Plan, want) {
				t.Fatalf("seed %d round %d: scoped plan\n%+v\nfull plan\n%+v", seed, round, rep.Plan, want)
			}
			if src.rest != nil && src.rest.Wholes != 0 {
				t.Fatalf("seed %d round %d: a scoped run built the whole Snapshot", seed, round)
			}
		} else {
			if !reflect.DeepEqual(rep.Plan.Changes, want.Changes) {
				t.Fatalf("seed %d round %d: plan differs from Diff", seed, round)
			}
			if src.rest != nil && src.rest.Wholes != 1 {
				t.Fatalf("seed %d round %d: a whole-org run from a partial Snapshot built it %d times", seed, round, src.rest.Wholes)
			}
		}
		if partial && rep.Read != nil && rep.Read.Rest != nil {
			t.Fatalf("seed %d round %d: the report holds the source's Rest", seed, round)
		}
		checkCounts(t, st, org, round)
		if len(rep.Plan.Conflicts) > 0 {
			// Undo the edit that made a conflict: the next run settles again.
			w.desired = clean
		} else {
			clean = w.desired
			w.edit()
		}
		src.snap = w.desired
	}
	if scoped < 10 {
		t.Fatalf("seed %d: only %d of 30 runs planned scoped", seed, scoped)
	}
}

// checkCounts: the owner's counts a settled cursor keeps, advanced by each
// apply, are those the store counts.
func checkCounts(t *testing.T, st *store.Store, org string, round int) {
	t.Helper()
	ctx := context.Background()
	c, err := st.Cursor(ctx, org, "ldap", "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Settled == nil {
		return
	}
	if !c.Settled.Counted {
		t.Fatalf("round %d: a settled cursor without counts", round)
	}
	err = st.ReadScope(ctx, org, func(tx orgsync.ScopeTx) error {
		owned, memberships, err := tx.Owned("ldap")
		if err != nil {
			return err
		}
		if owned != c.Settled.Owned || memberships != c.Settled.OwnedMemberships {
			t.Fatalf("round %d: cursor counts %d members, %d memberships; the store %d, %d",
				round, c.Settled.Owned, c.Settled.OwnedMemberships, owned, memberships)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
