package ldap

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/testenv"
	"github.com/orgsync/orgsync/reconciler"
)

// BenchmarkSlapdIncremental reads the fixture directory of the test slapd
// (3,000-odd users) in full, then from its own cursor: with nothing
// changed and the store settled (no Snapshot built), and with nothing
// changed but the Snapshot rebuilt from the stored state.
func BenchmarkSlapdIncremental(b *testing.B) {
	url := os.Getenv(testenv.LDAPURLVar)
	if url == "" {
		b.Skip("no test slapd (" + testenv.LDAPURLVar + ")")
	}
	cfg := Config{URL: url, BindDN: syncDN, BindPassword: "sync", PageSize: 1000,
		User:  UserConfig{BaseDN: "ou=people," + suffix, DisabledFilter: "(employeeType=disabled)"},
		Group: GroupConfig{BaseDN: "ou=groups," + suffix, Nested: true}}
	s, err := New("bench", cfg, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	_, c, _, err := s.SnapshotFrom(ctx, reconciler.ReadRequest{FullReason: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		req  reconciler.ReadRequest
		kind string
	}{
		{"full", reconciler.ReadRequest{Prev: c, FullReason: "bench"}, orgsync.ReadFull},
		{"unchanged-settled", reconciler.ReadRequest{Prev: c, SkipUnchanged: true}, orgsync.ReadIncremental},
		{"unchanged-rebuilt", reconciler.ReadRequest{Prev: c}, orgsync.ReadIncremental},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _, read, err := s.SnapshotFrom(ctx, bc.req)
				if err != nil || read.Kind != bc.kind {
					b.Fatalf("read %+v, err %v", read, err)
				}
			}
		})
	}
}

// BenchmarkMergeIncremental is the CPU part of an incremental read of 10k
// users and 100 groups with 1% of the users changed: merging the listing,
// the changed entries and the stored state, then building the Snapshot.
func BenchmarkMergeIncremental(b *testing.B) {
	users, groups := stateFixture(10000, 100, 200)
	keys := make([]listed, len(users))
	changed := map[string]user{}
	for i, u := range users {
		keys[i] = listed{dn: u.dn, id: u.id}
		if i%100 == 1 {
			u.display = "changed"
			changed[u.dn] = u
		}
	}
	s, err := New("bench", Config{URL: "ldap://x", User: UserConfig{BaseDN: "dc=example,dc=org"}, Group: GroupConfig{BaseDN: "dc=example,dc=org", Nested: true}}, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		r := newReader(s, nil)
		merged, _, err := r.mergeUsers(context.Background(), keys, changed, users)
		if err != nil {
			b.Fatal(err)
		}
		r.users, r.groups = merged, append([]group(nil), groups...)
		snap, err := r.snapshot()
		if err != nil || len(snap.Members) == 0 {
			b.Fatalf("%d members, %v", len(snap.Members), err)
		}
	}
}

// BenchmarkMergeSynced is the CPU part of an incremental read whose
// deletions came from a sync refresh, with 1% of the users changed:
// decoding the stored state, merging, building the Snapshot, naming the
// scope and encoding the new state; at 10k users and 100 groups, and at
// the benchmark script's 100k users and 1k groups (each of 200 members).
//
// The kept cases are serve's: the source keeps each read's state decoded
// (KeepDecodedState), and the next read starts from it.
func BenchmarkMergeSynced(b *testing.B) {
	for _, size := range []struct{ users, groups int }{{10000, 100}, {100000, 1000}} {
		b.Run(fmt.Sprintf("users=%d", size.users), func(b *testing.B) { benchMergeSynced(b, size.users, size.groups, false) })
		b.Run(fmt.Sprintf("users=%d/kept", size.users), func(b *testing.B) { benchMergeSynced(b, size.users, size.groups, true) })
	}
}

func benchMergeSynced(b *testing.B, nUsers, nGroups int, keep bool) {
	users, groups := stateFixture(nUsers, nGroups, 200)
	s, err := New("bench", Config{URL: "ldap://x", User: UserConfig{BaseDN: "dc=example,dc=org"}, Group: GroupConfig{BaseDN: "dc=example,dc=org", Nested: true}}, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	if keep {
		s.KeepDecodedState()
	}
	r := newReader(s, nil)
	r.users, r.groups = users, groups
	if _, err := r.snapshot(); err != nil {
		b.Fatal(err)
	}
	state, _, kept, err := encodeStatePatch(r.users, r.groups, syncState{}, nil, nil, keep)
	if err != nil {
		b.Fatal(err)
	}
	s.putDecoded(kept, r.snapGroups, r.dups)
	var changed []user
	for i := 1; i < len(users); i += 100 {
		u := users[i]
		u.display = "changed"
		changed = append(changed, u)
	}
	none := &refreshed{deleted: map[string]bool{}, named: map[string]bool{}}
	b.ReportAllocs()
	round := 0
	for b.Loop() {
		if keep {
			// The kept state has the last round's change: another one.
			round++
			for i := range changed {
				changed[i].display = fmt.Sprint("changed ", round)
			}
		}
		r := newReader(s, nil)
		r.part = true // as the runner asks, for a run it can plan from the scope
		oldUsers, oldGroups, err := r.loadState(state)()
		if err != nil {
			b.Fatal(err)
		}
		if r.keptState != keep {
			b.Fatalf("the read started from the kept state: %v, want %v", r.keptState, keep)
		}
		merged, _, _ := mergeSynced(oldUsers, changed, func(u *user) string { return u.id }, func(u *user) string { return u.dn }, none)
		_, read, next, err := r.finish(orgsync.Read{}, merged, oldGroups, syncState{}, time.Time{})
		if err != nil || read.Scope == nil || len(read.Scope.Users) < len(changed) { // managers reach the managed
			b.Fatalf("scope %+v, %v", read.Scope, err)
		}
		if keep {
			state = next // what the store hands back to serve's next read
		}
	}
}
