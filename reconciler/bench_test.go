package reconciler

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
)

// benchOrg builds a directory of users and groups of about perGroup
// members (some nested), and the store's view of it once reconciled.
func benchOrg(users, groups, perGroup int) (desired, observed orgsync.Snapshot) {
	r := rand.New(rand.NewPCG(1, 2))
	desired.Members = make([]orgsync.Member, users)
	observed.Members = make([]orgsync.Member, users)
	for i := range users {
		key := fmt.Sprintf("uuid-%08d", i)
		name := fmt.Sprintf("user%d@example.org", i)
		desired.Members[i] = orgsync.Member{
			ExternalID: key, UserName: name, Emails: []orgsync.Email{{Value: name, Primary: true}},
			GivenName: "Given", FamilyName: fmt.Sprint("Family", i), DisplayName: fmt.Sprint("User ", i),
			Status: orgsync.StatusActive,
		}
		if i%50 == 0 {
			desired.Members[i].Role = orgsync.RoleAdmin
		}
		m := desired.Members[i]
		m.ID, m.Org, m.Owner, m.Status, m.Role = fmt.Sprintf("id-%08d", i), "acme", src, orgsync.StatusActive, Options{}.role(m.Role)
		observed.Members[i] = m
	}
	desired.Groups = make([]orgsync.Group, groups)
	for j := range groups {
		g := orgsync.Group{ExternalID: fmt.Sprintf("guuid-%05d", j), DisplayName: fmt.Sprintf("group-%d", j)}
		for range perGroup {
			g.Members = append(g.Members, desired.Members[r.IntN(users)].ExternalID)
		}
		if j%10 == 0 && j+2 < groups {
			g.Subgroups = []string{fmt.Sprintf("guuid-%05d", j+1), fmt.Sprintf("guuid-%05d", j+2)}
		}
		desired.Groups[j] = g
	}
	flat := orgsync.Flatten(desired.Groups)
	idOf := func(key string) string { return "id-" + key[len("uuid-"):] }
	for _, g := range desired.Groups {
		og := orgsync.Group{ID: "g" + g.ExternalID, Org: "acme", Owner: src, ExternalID: g.ExternalID, DisplayName: g.DisplayName}
		for key := range flat[g.ExternalID] {
			og.Members = append(og.Members, idOf(key))
		}
		observed.Groups = append(observed.Groups, og)
	}
	return desired, observed
}

// BenchmarkDiff measures Diff over 100k members and 1k groups of about 200
// members: a first reconcile into an empty store, a no-op, and a run with
// 1% drift. The target is 300 ms per Diff on a 2-core machine.
func BenchmarkDiff(b *testing.B) {
	desired, observed := benchOrg(100_000, 1_000, 200)
	drifted := observed
	drifted.Members = append([]orgsync.Member(nil), observed.Members...)
	for i := 0; i < len(drifted.Members); i += 100 {
		drifted.Members[i].DisplayName = "edited"
	}
	opts := Options{Org: "acme", Owner: src}
	for _, bc := range []struct {
		name     string
		observed orgsync.Snapshot
	}{
		{"initial", orgsync.Snapshot{}},
		{"noop", observed},
		{"drift1pct", drifted},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var p orgsync.Plan
			cpu0 := cpuTime()
			for b.Loop() {
				p = Diff(desired, bc.observed, opts)
			}
			// CPU time (all threads, GC included) is steadier than wall
			// time on a shared machine.
			b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(len(p.Changes)), "changes")
		})
	}
}

// TestDiffLarge keeps the benchmark's scenarios honest: the no-op plan is
// empty and the first plan provisions everyone.
func TestDiffLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large")
	}
	desired, observed := benchOrg(20_000, 200, 200)
	opts := Options{Org: "acme", Owner: src}
	if p := Diff(desired, observed, opts); !p.Empty() || len(p.Conflicts) > 0 {
		t.Fatalf("no-op plan has %d changes, %d conflicts", len(p.Changes), len(p.Conflicts))
	}
	p := Diff(desired, orgsync.Snapshot{}, opts)
	if n := p.Summary()[orgsync.ActionProvision]; n != 20_000 {
		t.Fatalf("%d provisions", n)
	}
	if n := p.Summary()[orgsync.ActionGroupCreate]; n != 200 {
		t.Fatalf("%d group creates", n)
	}
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
