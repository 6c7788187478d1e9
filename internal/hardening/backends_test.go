package hardening_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
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

var dbSeq atomic.Int64

func postgresConfig(t testing.TB) store.Config {
	t.Helper()
	dsn := testenv.Require(t, testenv.PostgresDSNVar)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("orgsync_hard_%d_%d", os.Getpid(), dbSeq.Add(1))
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return store.Config{Driver: store.DriverPostgres, DSN: u.String(), MaxOpenConns: 20}
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
