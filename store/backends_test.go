package store_test

import (
	"path/filepath"
	"testing"

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

// postgresConfig uses a fresh database on the test cluster.
func postgresConfig(t testing.TB) store.Config {
	return store.Config{Driver: store.DriverPostgres, DSN: testenv.PostgresDatabase(t), MaxOpenConns: 10}
}
