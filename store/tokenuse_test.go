package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
)

// TestTokenUseIsWrittenAtClose: Authenticate writes nothing itself; the
// use it notes is written when the Store closes, and a reopened store
// lists it.
func TestTokenUseIsWrittenAtClose(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "o.db")
	cfg := Config{Driver: DriverSQLite, DSN: path, MaxOpenConns: 4}
	s, err := Open(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureOrgs(ctx, []orgsync.Org{{ID: "acme", Name: "Acme", DefaultRole: "member"}}); err != nil {
		t.Fatal(err)
	}
	tok, rec, err := s.CreateToken(ctx, "acme", "idp", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	var written int
	if err := s.db.Raw(`SELECT COUNT(*) FROM scim_tokens WHERE id = ? AND last_used_at IS NOT NULL`, rec.ID).Scan(&written).Error; err != nil || written != 0 {
		t.Fatalf("last_used_at right after Authenticate: %d rows set, %v; want nothing written on the request path", written, err)
	}
	if ts, _ := s.Tokens(ctx, "acme"); len(ts) != 1 || ts[0].LastUsedAt == nil {
		t.Fatalf("Tokens does not show the use noted: %+v", ts)
	}
	s.Close()

	s, err = Open(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts, err := s.Tokens(ctx, "acme")
	if err != nil || len(ts) != 1 || ts[0].LastUsedAt == nil {
		t.Fatalf("after Close and reopen: %+v, %v; want last_used_at written", ts, err)
	}
}

// TestWriterWaitsAtMostTheBusyTimeout: a write queued behind another of
// the same process fails with ErrUnavailable after busy_timeout, having
// written nothing, instead of waiting without bound.
func TestWriterWaitsAtMostTheBusyTimeout(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{Driver: DriverSQLite, DSN: filepath.Join(t.TempDir(), "o.db"), MaxOpenConns: 4,
		BusyTimeout: orgsync.Duration(300 * time.Millisecond)}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hold, done := make(chan struct{}), make(chan error, 1)
	started := make(chan struct{})
	go func() {
		done <- s.write(ctx, func(*gorm.DB) error { close(started); <-hold; return nil })
	}()
	<-started
	t0 := time.Now()
	err = s.EnsureOrgs(ctx, []orgsync.Org{{ID: "acme", Name: "Acme", DefaultRole: "member"}})
	if !errors.Is(err, orgsync.ErrUnavailable) || time.Since(t0) > 3*time.Second {
		t.Fatalf("a write behind a long one: %v after %v; want ErrUnavailable after ~300ms", err, time.Since(t0))
	}
	close(hold)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := s.Org(ctx, "acme"); !errors.Is(err, orgsync.ErrNotFound) {
		t.Fatalf("the refused write was kept: %v", err)
	}
	if err := s.EnsureOrgs(ctx, []orgsync.Org{{ID: "acme", Name: "Acme", DefaultRole: "member"}}); err != nil {
		t.Fatalf("once the lock is free: %v", err)
	}
}
