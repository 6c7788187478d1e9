package store_test

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/orgsync/orgsync/internal/testenv"
	"github.com/orgsync/orgsync/store"
)

type backend struct {
	name   string
	config func(t testing.TB) store.Config
}

var backends = []backend{
	{"sqlite", sqliteConfig},
	{"postgres", postgresConfig},
}

func sqliteConfig(t testing.TB) store.Config {
	return store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "orgsync.db"), MaxOpenConns: 10}
}

var dbSeq atomic.Int64

// postgresConfig creates a fresh database on the test cluster and drops it
// when the test ends.
func postgresConfig(t testing.TB) store.Config {
	t.Helper()
	dsn := testenv.Require(t, testenv.PostgresDSNVar)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("orgsync_test_%d_%d", dbSeq.Add(1), randSuffix())
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
	return store.Config{Driver: store.DriverPostgres, DSN: u.String(), MaxOpenConns: 10}
}

func randSuffix() int { return os.Getpid() }
