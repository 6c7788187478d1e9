package targets

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/kmsfake"
	"github.com/orgsync/orgsync/reconciler"
	"github.com/orgsync/orgsync/store"
)

const org = "acme"

type static struct{ snap orgsync.Snapshot }

func (s *static) Snapshot(context.Context) (orgsync.Snapshot, error) { return s.snap, nil }

// hr is an upstream source feeding the store, as LDAP would.
type hr struct {
	t   *testing.T
	st  *store.Store
	src static
}

func newStore(t *testing.T) *store.Store {
	t.Helper()
	cfg := store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "orgsync.db")}
	cfg.SetDefaults()
	st, err := store.Open(context.Background(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.EnsureOrgs(context.Background(), []orgsync.Org{{ID: org, Name: org, DefaultRole: orgsync.RoleMember, PurgeAfter: 720 * time.Hour}}); err != nil {
		t.Fatal(err)
	}
	return st
}

func user(i int) orgsync.Member {
	n := fmt.Sprintf("u%03d@example.org", i)
	return orgsync.Member{ExternalID: fmt.Sprintf("k%03d", i), UserName: n, Emails: []orgsync.Email{{Value: n, Primary: true}},
		GivenName: fmt.Sprintf("Given%d", i), FamilyName: "Family", Status: orgsync.StatusActive}
}

// newHR seeds n users and groups g0..g(ng-1) (user i in group i%ng).
func newHR(t *testing.T, st *store.Store, n, ng int) *hr {
	h := &hr{t: t, st: st}
	for i := range n {
		h.src.snap.Members = append(h.src.snap.Members, user(i))
	}
	for g := range ng {
		grp := orgsync.Group{ExternalID: fmt.Sprintf("g%d", g), DisplayName: fmt.Sprintf("team-%d", g)}
		for i := g; i < n; i += ng {
			grp.Members = append(grp.Members, fmt.Sprintf("k%03d", i))
		}
		h.src.snap.Groups = append(h.src.snap.Groups, grp)
	}
	h.sync()
	return h
}

func (h *hr) sync() {
	h.t.Helper()
	r := &reconciler.Runner{Store: h.st, Logger: zerolog.Nop()}
	g := reconciler.GuardConfig{MaxDeprovision: -1, MaxDeprovisionPercent: -1, MaxGroupDelete: -1, MaxGroupDeletePercent: -1, MaxMemberRemove: -1, MaxMemberRemovePercent: -1, MaxAdminDemotions: -1, AllowEmpty: true}
	if _, err := r.Run(context.Background(), reconciler.Job{Name: "hr", Org: org, Source: &h.src, Guard: g}, false); err != nil {
		h.t.Fatal(err)
	}
}

func (h *hr) disable(i int) {
	h.src.snap.Members[i].Status = orgsync.StatusDeprovisioned
	h.sync()
}

func newFake(t *testing.T, o kmsfake.Options) *kmsfake.Server {
	if o.Token == "" {
		o.Token = "scim-token-0123456789"
	}
	if o.ClientID == "" {
		o.ClientID, o.ClientSecret = "machine-id", "machine-secret-0123"
	}
	f := kmsfake.New(o)
	t.Cleanup(f.Close)
	return f
}

func openTarget(t *testing.T, st *store.Store, f *kmsfake.Server, adjust func(*Config)) *Target {
	t.Helper()
	c := Config{Name: "kms", Org: org, Type: TypeKMS, URL: f.URL, Token: orgsync.Secret("scim-token-0123456789"),
		SetupStatus: &SetupConfig{ClientID: "machine-id", ClientSecret: "machine-secret-0123"}}
	if adjust != nil {
		adjust(&c)
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	tg, err := c.Open(st, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

var base = &reconciler.Runner{Logger: zerolog.Nop()}

func run(t *testing.T, tg *Target) reconciler.Report {
	t.Helper()
	rep, err := tg.Run(context.Background(), base, tg.Guard, false)
	if err != nil {
		t.Fatalf("target run: %v", err)
	}
	return rep
}

func plan(t *testing.T, tg *Target) reconciler.Report {
	t.Helper()
	rep, err := tg.Plan(context.Background(), base, tg.Guard)
	if err != nil {
		t.Fatalf("target plan: %v", err)
	}
	return rep
}

func byName(f *kmsfake.Server) map[string]kmsfake.Membership {
	out := map[string]kmsfake.Membership{}
	for _, u := range f.Users() {
		out[u.UserName] = u
	}
	return out
}

func status(t *testing.T, st *store.Store, userName string) orgsync.Status {
	t.Helper()
	m, err := st.Member(context.Background(), org, userName)
	if err != nil {
		t.Fatal(err)
	}
	return m.Status
}

func fmtV(v any) string { return fmt.Sprintf("%v %+v %#v", v, v, v) }

func kmsfakeOptions() kmsfake.Options { return kmsfake.Options{} }
