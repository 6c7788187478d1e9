package reconciler

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/statepatch"
	"github.com/orgsync/orgsync/store"
)

// benchSource is an Incremental fake for benchmarks: its first read is
// full, every later one incremental with the Scope it is given, and its
// cursor carries a State about the size of the LDAP source's.
type benchSource struct {
	snap  orgsync.Snapshot
	scope *orgsync.Scope
	pos   int
	state []byte
}

func (f *benchSource) Snapshot(context.Context) (orgsync.Snapshot, error) { return f.snap, nil }

func (f *benchSource) SnapshotFrom(_ context.Context, req ReadRequest) (orgsync.Snapshot, orgsync.Cursor, orgsync.Read, error) {
	f.pos++
	next := orgsync.Cursor{Position: strconv.Itoa(f.pos), FullAt: req.Prev.FullAt, State: f.state}
	if req.FullReason != "" {
		next.FullAt = time.Now()
		return f.snap, next, orgsync.Read{Kind: orgsync.ReadFull, Reason: req.FullReason}, nil
	}
	req.Changed()
	if bytes.Equal(req.Prev.State, f.state) {
		// As the LDAP source does: the state as a patch of what changed.
		next.StatePatch = statepatch.Build(f.state, f.state, []statepatch.Span{{Dst: 0, Src: 0, N: len(f.state)}})
	}
	return f.snap, next, orgsync.Read{Kind: orgsync.ReadIncremental, Reason: "changed", Scope: f.scope}, nil
}

// benchUsers is the directory size of BenchmarkScopedRun: $ORGSYNC_BENCH_USERS,
// else 10,000 (100,000 is the size of scripts/bench-incremental.sh).
func benchUsers(b *testing.B) int {
	if v := os.Getenv("ORGSYNC_BENCH_USERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 {
			b.Fatalf("ORGSYNC_BENCH_USERS=%q: want a number of at least 100", v)
		}
		return n
	}
	return 10_000
}

// BenchmarkScopedRun measures a steady-state incremental run on SQLite
// after 1% of the users changed (their family name): the scoped plan
// through the store's ReadScope, its apply, the cursor saved with it and
// the run's record. The directory is benchOrg's (users/100 groups of 200
// members), reconciled once before the timer starts.
func BenchmarkScopedRun(b *testing.B) {
	users := benchUsers(b)
	ctx := context.Background()
	cfg := store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(b.TempDir(), "orgsync.db")}
	cfg.SetDefaults()
	st, err := store.Open(ctx, cfg, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.EnsureOrgs(ctx, []orgsync.Org{{ID: "acme", Name: "acme", DefaultRole: orgsync.RoleMember}}); err != nil {
		b.Fatal(err)
	}
	desired, _ := benchOrg(users, users/100, 200)
	// About what the LDAP source keeps per user in its cursor.
	fake := &benchSource{snap: desired, state: []byte(strings.Repeat("x", 60*users))}
	r := &Runner{Store: st, Logger: zerolog.Nop()}
	job := Job{Name: src, Org: "acme", DefaultRole: orgsync.RoleMember, Source: fake, FullEvery: 24 * time.Hour,
		Guard: GuardConfig{MaxDeprovision: -1, MaxDeprovisionPercent: -1}}
	job.Guard.SetDefaults()
	if _, err := r.Run(ctx, job, false); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	round := 0
	for b.Loop() {
		b.StopTimer()
		round++
		scope := &orgsync.Scope{}
		for i := round % 100; i < len(desired.Members); i += 100 {
			desired.Members[i].FamilyName = fmt.Sprintf("changed-%d", round)
			scope.Users = append(scope.Users, desired.Members[i].ExternalID)
		}
		fake.scope = scope
		b.StartTimer()
		rep, err := r.Run(ctx, job, false)
		if err != nil {
			b.Fatal(err)
		}
		if !strings.Contains(rep.Read.Reason, "planned from") || rep.Applied == nil || rep.Applied.Total() != len(scope.Users) {
			b.Fatalf("round %d: not a scoped run applying %d updates: %s, applied %+v", round, len(scope.Users), rep.Read.Reason, rep.Applied)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
}
