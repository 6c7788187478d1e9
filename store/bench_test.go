package store_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// bigPlan provisions n members and g groups with n group memberships
// (each member in one group).
func bigPlan(n, g int) orgsync.Plan {
	p := orgsync.Plan{Org: "acme", Owner: "ldap"}
	for i := 0; i < g; i++ {
		name := fmt.Sprintf("group-%04d", i)
		p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionGroupCreate, GroupName: name, GroupKey: name,
			Group: &orgsync.Group{DisplayName: name}})
	}
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("uuid-%07d", i)
		name := fmt.Sprintf("user%07d@example.org", i)
		p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionProvision, UserName: name, MemberKey: key,
			Member: &orgsync.Member{UserName: name, ExternalID: key, GivenName: "Given", FamilyName: fmt.Sprint("Family", i),
				DisplayName: fmt.Sprint("User ", i), Emails: []orgsync.Email{{Value: name, Type: "work", Primary: true}}}})
	}
	for i := 0; i < n; i++ {
		p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionMemberAdd, GroupKey: fmt.Sprintf("group-%04d", i%g),
			MemberKey: fmt.Sprintf("uuid-%07d", i)})
	}
	return p
}

func openBench(b *testing.B) *store.Store { return openBenchOn(b, sqliteConfig(b)) }

func openBenchOn(b *testing.B, cfg store.Config) *store.Store {
	b.Helper()
	s, err := store.Open(context.Background(), cfg, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	if err := s.EnsureOrgs(context.Background(), []orgsync.Org{{ID: "acme", Name: "Acme", DefaultRole: "member"}}); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkApplyProvision100k applies a plan provisioning 100k members in
// 1k groups into an empty store, on each backend (PostgreSQL under CI or
// with ORGSYNC_TEST_POSTGRES_DSN). Reports members/s.
func BenchmarkApplyProvision100k(b *testing.B) { benchProvision(b, 100_000, 1_000) }

// BenchmarkApplyProvision10k is the CI-sized first full apply: 10k members
// in 100 groups.
func BenchmarkApplyProvision10k(b *testing.B) { benchProvision(b, 10_000, 100) }

func benchProvision(b *testing.B, n, g int) {
	plan := bigPlan(n, g)
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				s := openBenchOn(b, be.config(b))
				b.StartTimer()
				a, err := s.Apply(context.Background(), plan)
				if err != nil {
					b.Fatal(err)
				}
				if a.Counts[orgsync.ActionProvision] != n || a.Counts[orgsync.ActionMemberAdd] != n {
					b.Fatalf("applied %v", a.Counts)
				}
				b.StopTimer()
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "members/s")
		})
	}
}

// cpuTime is the process's CPU time, all threads: steadier than wall time
// on a shared machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkObserved100k reads back the full snapshot of an org of 100k
// members, 1k groups and 100k memberships.
func BenchmarkObserved100k(b *testing.B) {
	s := openBench(b)
	defer s.Close()
	if _, err := s.Apply(context.Background(), bigPlan(100_000, 1_000)); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	defer func() { b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op") }()
	for i := 0; i < b.N; i++ {
		snap, err := s.Observed(context.Background(), "acme")
		if err != nil {
			b.Fatal(err)
		}
		if len(snap.Members) != 100_000 || len(snap.Groups) != 1_000 {
			b.Fatalf("snapshot has %d members, %d groups", len(snap.Members), len(snap.Groups))
		}
	}
}

// BenchmarkApplyDeprovision20k applies a plan deprovisioning 20k members,
// then one reactivating them: the member lifecycle path of Apply (load,
// ownership check, transition, save, event) rather than bulk inserts.
// Reports members/s over both plans.
func BenchmarkApplyDeprovision20k(b *testing.B) {
	const n = 20_000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := openBench(b)
		if _, err := s.Apply(context.Background(), bigPlan(n, 1)); err != nil {
			b.Fatal(err)
		}
		snap, err := s.Observed(context.Background(), "acme")
		if err != nil {
			b.Fatal(err)
		}
		deprov := orgsync.Plan{Org: "acme", Owner: "ldap"}
		react := orgsync.Plan{Org: "acme", Owner: "ldap"}
		for _, m := range snap.Members {
			deprov.Changes = append(deprov.Changes, orgsync.Change{Action: orgsync.ActionDeprovision, UserName: m.UserName, MemberID: m.ID})
			react.Changes = append(react.Changes, orgsync.Change{Action: orgsync.ActionReactivate, UserName: m.UserName, MemberID: m.ID})
		}
		b.StartTimer()
		for _, p := range []orgsync.Plan{deprov, react} {
			a, err := s.Apply(context.Background(), p)
			if err != nil {
				b.Fatal(err)
			}
			if a.Total() != n {
				b.Fatalf("applied %v", a.Counts)
			}
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(2*n*b.N)/b.Elapsed().Seconds(), "members/s")
}

// populate provisions n members in 10 groups into s and returns the org
// as the store reads it back.
func populate(b *testing.B, s *store.Store, n int) orgsync.Snapshot {
	b.Helper()
	ctx := context.Background()
	if _, err := s.Apply(ctx, bigPlan(n, 10)); err != nil {
		b.Fatal(err)
	}
	snap, err := s.Observed(ctx, "acme")
	if err != nil {
		b.Fatal(err)
	}
	return snap
}

// BenchmarkApplyUpdate1k applies a plan updating 1% of an org of 100k
// members (a new family name each), on each backend: the write of an
// incremental run (issue 13). Reports members/s.
func BenchmarkApplyUpdate1k(b *testing.B) {
	const n, changed = 100_000, 1_000
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := openBenchOn(b, be.config(b))
			defer s.Close()
			ctx := context.Background()
			snap := populate(b, s, n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p := orgsync.Plan{Org: "acme", Owner: "ldap"}
				for k := 0; k < changed; k++ {
					m := snap.Members[k*(n/changed)]
					want := m
					want.FamilyName = fmt.Sprintf("Changed %d-%d", i, k)
					p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionUpdate, UserName: m.UserName, MemberID: m.ID,
						MemberKey: m.ExternalID, Member: &want})
				}
				a, err := s.Apply(ctx, p)
				if err != nil {
					b.Fatal(err)
				}
				if a.Counts[orgsync.ActionUpdate] != changed {
					b.Fatalf("applied %v", a.Counts)
				}
			}
			b.ReportMetric(float64(changed*b.N)/b.Elapsed().Seconds(), "members/s")
		})
	}
}

// BenchmarkReadScope1k reads the part of an org of 100k members a scoped
// plan reads for 1% of them changed (by key, folded name and email, and
// their memberships) right after a write, as an incremental run does on
// SQLite: the write leaves the reading connection's page cache stale.
func BenchmarkReadScope1k(b *testing.B) {
	const n, part = 100_000, 1_000
	s := openBench(b)
	defer s.Close()
	ctx := context.Background()
	snap := populate(b, s, n)
	var keys, folded []string
	for k := 0; k < part; k++ {
		m := snap.Members[k*(n/part)]
		keys, folded = append(keys, m.ExternalID), append(folded, orgsync.Fold(m.UserName))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		m := snap.Members[i%n]
		m.FamilyName = fmt.Sprint("Written ", i)
		if _, err := s.Apply(ctx, orgsync.Plan{Org: "acme", Owner: "ldap", Changes: []orgsync.Change{{Action: orgsync.ActionUpdate,
			UserName: m.UserName, MemberID: m.ID, MemberKey: m.ExternalID, Member: &m}}}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		err := s.ReadScope(ctx, "acme", func(tx orgsync.ScopeTx) error {
			ms, err := tx.Members("ldap", keys, folded, nil)
			if err != nil {
				return err
			}
			if len(ms) != part {
				return fmt.Errorf("%d members read, want %d", len(ms), part)
			}
			ids := make([]string, len(ms))
			for i := range ms {
				ids[i] = ms[i].ID
			}
			_, err = tx.Memberships(nil, ids)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSCIMReads runs the SCIM receiver's hot reads outside any
// transaction against an org of 10k SCIM-owned members: a member by ID, a
// userName eq filter (one page of one), and a token's authentication. They
// are the statements the store prepares once and reuses.
func BenchmarkSCIMReads(b *testing.B) {
	ctx := context.Background()
	s := openBench(b)
	defer s.Close()
	plan := bigPlan(10_000, 10)
	plan.Owner = orgsync.OwnerSCIM
	if _, err := s.Apply(ctx, plan); err != nil {
		b.Fatal(err)
	}
	snap, err := s.Observed(ctx, "acme")
	if err != nil {
		b.Fatal(err)
	}
	secret, _, err := s.CreateToken(ctx, "acme", "bench", 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := snap.Members[i%len(snap.Members)]
		got, err := s.SCIMMember(ctx, "acme", m.ID)
		if err != nil || got.ID != m.ID {
			b.Fatalf("SCIMMember(%s) = %s, %v", m.ID, got.ID, err)
		}
		q := orgsync.Query{Filter: &orgsync.Filter{Op: orgsync.FilterEq, Attr: orgsync.AttrUserName, Value: m.UserName}, StartIndex: 1, Count: 1}
		list, total, err := s.SCIMMembers(ctx, "acme", q)
		if err != nil || total != 1 || len(list) != 1 {
			b.Fatalf("SCIMMembers(userName eq %s) = %d of %d, %v", m.UserName, len(list), total, err)
		}
		if _, err := s.Authenticate(ctx, secret); err != nil {
			b.Fatal(err)
		}
	}
}
