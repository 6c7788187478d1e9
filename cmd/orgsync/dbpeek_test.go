package main

import (
	"database/sql"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"

	"github.com/orgsync/orgsync/store"
)

// configDB opens the database of the config file cfg behind the store's
// back, for tests that check what was written (integrity, raw rows, dumps).
// It is closed when the test ends; a test that needs the store's close to
// be the last (SQLite folds its write-ahead log in then) closes it first.
func configDB(t *testing.T, cfg string) *sql.DB {
	t.Helper()
	loaded, err := (&app{configPath: cfg, stdout: os.Stdout, stderr: os.Stderr}).config()
	if err != nil {
		t.Fatalf("load %s: %v", cfg, err)
	}
	return openDB(t, loaded.Database)
}

// openDB opens the database c names with database/sql.
func openDB(t *testing.T, c store.Config) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", c.DSN
	if c.Driver == store.DriverSQLite {
		driver, dsn = "sqlite3", "file:"+c.SQLiteFile()+"?_busy_timeout=5000"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("open the database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// count is the single integer q returns.
func count(t *testing.T, db *sql.DB, q string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
