package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgsync/orgsync/store"
)

// TestReadOnlyCommandsNeverUpgradeTheSchema: a new database gets its schema
// from any command, but an older schema is upgraded only by migrate, serve
// and the commands that write; serve --no-migrate upgrades nothing.
func TestReadOnlyCommandsNeverUpgradeTheSchema(t *testing.T) {
	cfg := writeConfig(t, "")
	if code, out, errOut := cli(t, cfg, "migrate"); code != 0 || !strings.Contains(out, "database schema at version") {
		t.Fatalf("migrate of a new database: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := cli(t, cfg, "members", "list", "--org", "acme"); code != 0 {
		t.Fatalf("members list: %d %s", code, errOut)
	}
	// Make the database look one schema version behind this build: the
	// read-only commands must refuse it and leave it so.
	db, err := sql.Open("sqlite3", filepath.Join(filepath.Dir(cfg), "orgsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	latest := store.SchemaVersion()
	var name string
	db.QueryRow(`SELECT name FROM schema_migrations WHERE version = ?`, latest).Scan(&name)
	if _, err := db.Exec(`DELETE FROM schema_migrations WHERE version = ?`, latest); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"members", "list", "--org", "acme"},
		{"tokens", "list"},
		{"runs", "list"},
		{"plan"},
	} {
		code, _, errOut := cli(t, cfg, args...)
		if code != 1 || !strings.Contains(errOut, "orgsync migrate") || !strings.Contains(errOut, "read-only commands never do") {
			t.Errorf("%v on an older schema: exit %d %q", args, code, errOut)
		}
	}
	a := &app{configPath: cfg, stdout: os.Stderr, stderr: os.Stderr, noMigrate: true}
	if err := a.serve(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "--no-migrate") {
		t.Errorf("serve --no-migrate on an older schema: %v", err)
	}
	var v int
	db.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&v)
	if v != latest-1 {
		t.Fatalf("a refusing command changed the schema version to %d", v)
	}
	// Put the record back: the schema is this build's again, and
	// serve --no-migrate starts.
	db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, CURRENT_TIMESTAMP)`, latest, name)
	if code, _, errOut := cli(t, cfg, "members", "list", "--org", "acme"); code != 0 {
		t.Fatalf("members list on the current schema: %d %s", code, errOut)
	}
}

func TestServeNoMigrateStartsOnTheCurrentSchema(t *testing.T) {
	cfg := writeConfig(t, "")
	if code, _, errOut := cli(t, cfg, "migrate"); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := cli(t, cfg, "serve", "--no-migrate", "--help"); code != 0 || errOut != "" {
		t.Fatalf("serve --no-migrate --help: %d %q", code, errOut)
	}
	base, a, stop := startServeWith(t, cfg, func(a *app) { a.noMigrate = true })
	defer stop()
	if !a.noMigrate {
		t.Fatal("not started with --no-migrate")
	}
	if code, _ := do(t, "GET", base+"/readyz", "", ""); code != 200 {
		t.Fatalf("/readyz: %d", code)
	}
}
