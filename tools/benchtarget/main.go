// Command benchtarget measures a KMS target run on loopback: it seeds an
// SQLite store with -members members in -groups groups (through a
// reconciler run, as a directory would), starts the KMS emulator
// (internal/kmsfake) and times three target runs, counting the requests
// the emulator answered:
//
//	first push  every member and group created
//	no-op       nothing to change: only the paged reads
//	1% drift    1% of the members changed (half suspended, half renamed):
//	            one write per changed member
//
// Each wall time is also given as a ratio to a floor measured in the same
// run: the same requests sent by the bare SCIM client (no store, no diff)
// for the push, and one bare paged read of the target for the other two.
// It exits 1 when a run sends a request the rules forbid (a write
// in a no-op run, more writes than changed members), unless -check=false.
// It is the Go half of scripts/bench-target.sh.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/kmsfake"
	"github.com/orgsync/orgsync/reconciler"
	"github.com/orgsync/orgsync/store"
	"github.com/orgsync/orgsync/targets"
	"github.com/orgsync/orgsync/targets/scim"
)

const token = "bench-scim-token-0123456789"

type static struct{ snap orgsync.Snapshot }

func (s *static) Snapshot(context.Context) (orgsync.Snapshot, error) { return s.snap, nil }

func main() {
	members := flag.Int("members", 10000, "members of the org")
	groups := flag.Int("groups", 100, "groups (each member in one)")
	concurrency := flag.Int("concurrency", 8, "the target's concurrency")
	dir := flag.String("dir", os.TempDir(), "where the SQLite store goes")
	check := flag.Bool("check", true, "exit 1 when a run breaks the request rules")
	flag.Parse()
	if err := run(*members, *groups, *concurrency, *dir, *check); err != nil {
		fmt.Fprintln(os.Stderr, "benchtarget:", err)
		os.Exit(1)
	}
}

func run(n, ng, conc int, dir string, check bool) error {
	ctx := context.Background()
	cfg := store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(dir, "bench-target.db")}
	cfg.SetDefaults()
	st, err := store.Open(ctx, cfg, zerolog.Nop())
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.EnsureOrgs(ctx, []orgsync.Org{{ID: "acme", Name: "acme", DefaultRole: orgsync.RoleMember, PurgeAfter: 720 * time.Hour}}); err != nil {
		return err
	}
	src := &static{snap: snapshot(n, ng)}
	seed := &reconciler.Runner{Store: st, Logger: zerolog.Nop()}
	open := reconciler.GuardConfig{MaxDeprovision: -1, MaxDeprovisionPercent: -1, MaxGroupDelete: -1, MaxGroupDeletePercent: -1,
		MaxMemberRemove: -1, MaxMemberRemovePercent: -1, MaxAdminDemotions: -1}
	hrJob := reconciler.Job{Name: "hr", Org: "acme", Source: src, Guard: open}
	if _, err := seed.Run(ctx, hrJob, false); err != nil {
		return fmt.Errorf("seed: %w", err)
	}

	pushFloor, err := floorPush(ctx, src.snap, conc)
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	kms := kmsfake.New(kmsfake.Options{Token: token})
	defer kms.Close()
	tc := targets.Config{Name: "kms", Org: "acme", Type: targets.TypeKMS, URL: kms.URL, Token: token, Concurrency: conc}
	tc.SetDefaults()
	tc.Guard = open
	if err := tc.Validate(); err != nil {
		return err
	}
	tg, err := tc.Open(st, zerolog.Nop())
	if err != nil {
		return err
	}
	base := &reconciler.Runner{Logger: zerolog.Nop()}
	measure := func(name string) (map[string]int, time.Duration, error) {
		kms.ResetCounts()
		start := time.Now()
		_, err := tg.Run(ctx, base, tg.Guard, false)
		return kms.Counts(), time.Since(start), err
	}
	fmt.Printf("org: %d members, %d groups; target concurrency %d; page size %d\n", n, ng, conc, tc.PageSize)
	c, d, err := measure("first push")
	if err != nil {
		return fmt.Errorf("first push: %w", err)
	}
	report("first push", c, d, pushFloor, "bare client sending the same creates")

	readFloor, err := floorRead(ctx, kms.URL, tc.PageSize)
	if err != nil {
		return err
	}
	c, d, err = measure("no-op")
	if err != nil {
		return fmt.Errorf("no-op: %w", err)
	}
	report("no-op", c, d, readFloor, "one bare paged read")
	// The KMS reports each page's length as its total: the pages are read
	// to an empty one.
	wantReads := n/tc.PageSize + 1 + ng/tc.PageSize + 1
	var problems []string
	if w := writes(c); w != 0 || c["GET"] != wantReads {
		problems = append(problems, fmt.Sprintf("no-op run: %d writes and %d GETs, want 0 and %d", w, c["GET"], wantReads))
	}

	changed := max(1, n/100)
	for i := 0; i < changed; i++ {
		m := &src.snap.Members[i*(n/changed)]
		if i%2 == 0 {
			m.Status = orgsync.StatusDeprovisioned
		} else {
			m.GivenName += " Renamed"
		}
	}
	if _, err := seed.Run(ctx, hrJob, false); err != nil {
		return fmt.Errorf("drift: %w", err)
	}
	c, d, err = measure("1% drift")
	if err != nil {
		return fmt.Errorf("drift run: %w", err)
	}
	report(fmt.Sprintf("1%% drift (%d members)", changed), c, d, readFloor, "one bare paged read")
	if w := writes(c); w != changed {
		problems = append(problems, fmt.Sprintf("drift run: %d writes for %d changed members", w, changed))
	}
	for _, p := range problems {
		fmt.Println("PROBLEM:", p)
	}
	if check && len(problems) > 0 {
		return fmt.Errorf("%d problems", len(problems))
	}
	return nil
}

func writes(c map[string]int) int { return c["POST"] + c["PUT"] + c["PATCH"] + c["DELETE"] }

func report(name string, c map[string]int, d, floor time.Duration, floorWhat string) {
	total := 0
	for _, v := range c {
		total += v
	}
	fmt.Printf("%-24s %6d requests (GET %d, POST %d, PUT %d, PATCH %d, DELETE %d)  %8s  = %.2f × floor (%s: %s)\n",
		name, total, c["GET"], c["POST"], c["PUT"], c["PATCH"], c["DELETE"], d.Round(time.Millisecond),
		float64(d)/float64(floor), floorWhat, floor.Round(time.Millisecond))
}

func snapshot(n, ng int) orgsync.Snapshot {
	var s orgsync.Snapshot
	for i := range n {
		name := fmt.Sprintf("user%05d@example.org", i)
		s.Members = append(s.Members, orgsync.Member{ExternalID: fmt.Sprintf("emp-%05d", i), UserName: name,
			Emails: []orgsync.Email{{Value: name, Primary: true}}, GivenName: fmt.Sprintf("Given%d", i), FamilyName: "Bench", Status: orgsync.StatusActive})
	}
	for g := range ng {
		grp := orgsync.Group{ExternalID: fmt.Sprintf("grp-%03d", g), DisplayName: fmt.Sprintf("team-%03d", g)}
		for i := g; i < n; i += ng {
			grp.Members = append(grp.Members, fmt.Sprintf("emp-%05d", i))
		}
		s.Groups = append(s.Groups, grp)
	}
	return s
}

// floorPush sends the creates of a first push with the bare client, at
// the same concurrency, into an emulator of its own.
func floorPush(ctx context.Context, snap orgsync.Snapshot, conc int) (time.Duration, error) {
	kms := kmsfake.New(kmsfake.Options{Token: token})
	defer kms.Close()
	c := scim.New(scim.Options{BaseURL: kms.URL, Token: token, Dialect: scim.DialectKMS})
	start := time.Now()
	ids := make(map[string]string, len(snap.Members))
	var mu sync.Mutex
	if err := parallel(len(snap.Members), conc, func(i int) error {
		m := snap.Members[i]
		u, err := c.CreateUser(ctx, scim.User{UserName: m.UserName, GivenName: m.GivenName, FamilyName: m.FamilyName, Email: m.Email(), Active: true})
		mu.Lock()
		ids[m.ExternalID] = u.ID
		mu.Unlock()
		return err
	}); err != nil {
		return 0, err
	}
	err := parallel(len(snap.Groups), conc, func(i int) error {
		g := snap.Groups[i]
		created, err := c.CreateGroup(ctx, g.DisplayName, nil)
		if err != nil {
			return err
		}
		refs := make([]scim.Ref, 0, len(g.Members))
		for _, k := range g.Members {
			refs = append(refs, scim.Ref{Value: ids[k]})
		}
		return c.PatchGroup(ctx, created.ID, "", refs, nil)
	})
	return time.Since(start), err
}

// floorRead is one bare paged read of the target's users and groups.
func floorRead(ctx context.Context, url string, pageSize int) (time.Duration, error) {
	c := scim.New(scim.Options{BaseURL: url, Token: token, Dialect: scim.DialectKMS, PageSize: pageSize})
	start := time.Now()
	if _, err := c.Users(ctx); err != nil {
		return 0, err
	}
	if _, err := c.Groups(ctx); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func parallel(n, conc int, fn func(int) error) error {
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	sem := make(chan struct{}, conc)
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(i); err != nil {
				once.Do(func() { first = err })
			}
		}()
	}
	wg.Wait()
	return first
}
