package hardening_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/testenv"
	"github.com/orgsync/orgsync/store"
)

// backend opens a fresh store of one kind (the pattern of
// store/backends_test.go).
type backend struct {
	name   string
	config func(t testing.TB) store.Config
}

var backends = []backend{
	{"sqlite", func(t testing.TB) store.Config {
		return store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "orgsync.db"), MaxOpenConns: 10}
	}},
	{"postgres", postgresConfig},
}

// postgresConfig uses a fresh database on the test cluster.
func postgresConfig(t testing.TB) store.Config {
	return store.Config{Driver: store.DriverPostgres, DSN: testenv.PostgresDatabase(t), MaxOpenConns: 20}
}

func openStore(t testing.TB, cfg store.Config) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.EnsureOrgs(context.Background(), []orgsync.Org{
		{ID: "acme", Name: "Acme", DefaultRole: orgsync.RoleMember, PurgeAfter: 720 * time.Hour},
		{ID: "beta", Name: "Beta", DefaultRole: orgsync.RoleMember, PurgeAfter: 720 * time.Hour},
	}); err != nil {
		t.Fatal(err)
	}
	return st
}
