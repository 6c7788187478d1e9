package reconciler

// Diff against the real store: the plans Diff computes must be exactly
// what store.Apply applies (nothing skipped, every change counted) and the
// run after a run must plan nothing, on SQLite and on PostgreSQL.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/testenv"
	"github.com/orgsync/orgsync/store"
)

func openStore(t *testing.T, cfg store.Config, org string) *store.Store {
	t.Helper()
	ctx := context.Background()
	cfg.SetDefaults()
	st, err := store.Open(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.EnsureOrgs(ctx, []orgsync.Org{{ID: org, Name: org, DefaultRole: orgsync.RoleMember, PurgeAfter: 720 * time.Hour}}); err != nil {
		t.Fatal(err)
	}
	return st
}

func mustApplyAll(t *testing.T, st *store.Store, p orgsync.Plan) {
	t.Helper()
	a, err := st.Apply(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if a.Total() != len(p.Changes) || len(a.Skipped) > 0 {
		t.Fatalf("seed plan: applied %d of %d, skipped %q", a.Total(), len(p.Changes), a.Skipped)
	}
}

// seedRealStore puts in what other owners hold, like seedStore.
func seedRealStore(t *testing.T, st *store.Store, org string) {
	t.Helper()
	prov := func(key, userName, email string) orgsync.Change {
		m := desiredUser(key, userName, func(m *orgsync.Member) { m.Emails = []orgsync.Email{{Value: email, Primary: true}} })
		return orgsync.Change{Action: orgsync.ActionProvision, UserName: userName, MemberKey: key, Member: &m}
	}
	mustApplyAll(t, st, orgsync.Plan{Org: org, Owner: orgsync.OwnerSCIM, Changes: []orgsync.Change{
		{Action: orgsync.ActionGroupCreate, GroupName: "scim-group", GroupKey: "scim-g", Group: &orgsync.Group{DisplayName: "scim-group", ExternalID: "scim-g"}},
		prov("scim-1", "u3.v1@x", "u4.e0@x"),
		prov("scim-2", "s2@x", "s2@x"),
		{Action: orgsync.ActionMemberAdd, GroupName: "scim-group", GroupKey: "scim-g", UserName: "u3.v1@x", MemberKey: "scim-1"},
	}})
	mustApplyAll(t, st, orgsync.Plan{Org: org, Owner: "", Changes: []orgsync.Change{
		prov("legacy-5", "legacy5", "U5.E0@x"),
		prov("legacy-9", "legacy9", "nobody@x"),
	}})
}

// driftRealStore changes owned members and groups the way a local admin
// could, through the store.
func driftRealStore(t *testing.T, r *rand.Rand, st *store.Store, org string, obs orgsync.Snapshot) {
	t.Helper()
	ctx := context.Background()
	p := orgsync.Plan{Org: org, Owner: src}
	var scimID string
	for _, m := range obs.Members {
		if m.Owner == orgsync.OwnerSCIM && scimID == "" {
			scimID = m.ID
		}
		if m.Owner != src || r.IntN(4) != 0 {
			continue
		}
		switch r.IntN(3) {
		case 0:
			changed := m
			changed.Role = "auditor"
			p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionUpdate, UserName: m.UserName, MemberID: m.ID, Member: &changed})
		case 1:
			p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionDeprovision, UserName: m.UserName, MemberID: m.ID})
		case 2:
			if m.Status == orgsync.StatusPendingSetup {
				if _, err := st.CompleteSetup(ctx, org, m.ID, "test"); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, g := range obs.Groups {
		if g.Owner != src {
			continue
		}
		if len(g.Members) > 0 && r.IntN(3) == 0 {
			p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionMemberRemove, GroupName: g.DisplayName, GroupID: g.ID, MemberID: g.Members[0]})
		}
		if r.IntN(3) == 0 && !slices.Contains(g.Members, scimID) {
			p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionMemberAdd, GroupName: g.DisplayName, GroupID: g.ID, MemberID: scimID})
		}
	}
	sortChanges(p.Changes)
	if _, err := st.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
}

func TestConvergenceRealStore(t *testing.T) {
	backends := map[string]func(t *testing.T, org string) *store.Store{
		"sqlite": func(t *testing.T, org string) *store.Store {
			return openStore(t, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "orgsync.db")}, org)
		},
		"postgres": func(t *testing.T, org string) *store.Store {
			dsn := testenv.Require(t, testenv.PostgresDSNVar)
			return openStore(t, store.Config{Driver: store.DriverPostgres, DSN: dsn}, org)
		},
	}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			for seed := range uint64(4) {
				t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
					// A fresh org per run keeps a shared database usable.
					org := fmt.Sprintf("conv-%d-%d", seed, time.Now().UnixNano())
					st := backends[name](t, org)
					convergeOn(t, st, org, seed)
				})
			}
		})
	}
}

func convergeOn(t *testing.T, st *store.Store, org string, seed uint64) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, 7))
	states := make([]orgsync.Snapshot, 5)
	for i := range states {
		states[i] = randomState(r)
	}
	seedRealStore(t, st, org)
	obs, err := st.Observed(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	foreign := foreignFields(obs)
	opts := Options{Org: org, Owner: src, DefaultRole: orgsync.RoleMember}
	for round := range 4 * len(states) {
		i := r.IntN(len(states))
		if round > 0 && r.IntN(3) == 0 {
			driftRealStore(t, r, st, org, obs)
		}
		before, err := st.Observed(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		p := Diff(states[i], before, opts)
		applied, err := st.Apply(ctx, p)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if len(applied.Skipped) > 0 || applied.Total() != len(p.Changes) {
			t.Fatalf("round %d: applied %d of %d, skipped %q\nplan %q", round, applied.Total(), len(p.Changes), applied.Skipped, planLines(p))
		}
		if obs, err = st.Observed(ctx, org); err != nil {
			t.Fatal(err)
		}
		if again := Diff(states[i], obs, opts); !again.Empty() {
			t.Fatalf("round %d: the run after a run plans %q", round, planLines(again))
		}
		checkConverged(t, round, states[i], p, obs)
		checkKeptMemberships(t, round, before, obs)
		if got := foreignFields(obs); got != foreign {
			t.Fatalf("round %d: members or groups of other owners changed:\n got %s\nwant %s", round, got, foreign)
		}
	}
}

// foreignFields renders what other owners hold, leaving out what the
// store derives (group names of members, timestamps).
func foreignFields(s orgsync.Snapshot) string {
	var out []string
	for _, m := range s.Members {
		if m.Owner != src && m.UserName != "legacy5" {
			out = append(out, fmt.Sprintf("%s %s %s %v %s %s %s %s %d", m.ID, m.Owner, m.ExternalID, m.Emails, m.UserName, m.DisplayName, m.Role, m.Status, m.Version))
		}
	}
	for _, g := range s.Groups {
		if g.Owner != src {
			ms := slices.Sorted(slices.Values(g.Members))
			out = append(out, fmt.Sprintf("%s %s %s %s %v", g.ID, g.Owner, g.ExternalID, g.DisplayName, ms))
		}
	}
	slices.Sort(out)
	return fmt.Sprint(out)
}
