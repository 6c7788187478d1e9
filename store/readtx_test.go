package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// TestObservedNeverWaitsForAWriter: while another process holds SQLite's
// write lock (a CLI reconcile's apply), a run's read of the org answers at
// once from its snapshot instead of waiting busy_timeout and failing.
func TestObservedNeverWaitsForAWriter(t *testing.T) {
	ctx := context.Background()
	cfg := sqliteConfig(t)
	cfg.BusyTimeout = orgsync.Duration(3 * time.Second)
	s, err := store.Open(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.EnsureOrgs(ctx, []orgsync.Org{{ID: "acme", Name: "Acme", DefaultRole: "member"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SCIMCreateMember(ctx, "acme", orgsync.Member{UserName: "a@x"}); err != nil {
		t.Fatal(err)
	}

	other, err := sql.Open("sqlite3", cfg.DSN+"?_busy_timeout=100")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, `ROLLBACK`)

	for i := 0; i < 3; i++ { // the pooled connection is reused cleanly
		start := time.Now()
		snap, err := s.Observed(ctx, "acme")
		if took := time.Since(start); err != nil || took > time.Second {
			t.Fatalf("Observed while another process writes: %v after %v", err, took)
		}
		if len(snap.Members) != 1 || snap.Members[0].UserName != "a@x" {
			t.Fatalf("observed %+v", snap.Members)
		}
	}
}
