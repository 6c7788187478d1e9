package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// TestMigrateFromV1 opens a database made by the first schema version,
// with a member in it, and checks that Open upgrades it without losing the
// member's address.
func TestMigrateFromV1(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			cfg := b.config(t)
			old, err := store.OpenAt(ctx, cfg, zerolog.Nop(), 1)
			if err != nil {
				t.Fatalf("open at v1: %v", err)
			}
			if err := old.EnsureOrgs(ctx, []orgsync.Org{{ID: "acme", Name: "Acme", DefaultRole: "member"}}); err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			if err := old.DBForTest().Exec(`INSERT INTO members (id, org_id, user_name, user_name_fold, external_id, email, role, status, owner, version, created_at, updated_at)
				VALUES ('m1', 'acme', 'Alice@Example.org', 'alice@example.org', 'k1', 'Alice@Example.org', 'member', 'pending_setup', 'ldap', 1, ?, ?)`, now, now).Error; err != nil {
				t.Fatalf("insert v1 member: %v", err)
			}
			var tables int
			old.DBForTest().Raw(`SELECT COUNT(*) FROM schema_migrations`).Scan(&tables)
			if tables != 1 {
				t.Fatalf("v1 database records %d migrations", tables)
			}
			old.Close()

			s, err := store.Open(ctx, cfg, zerolog.Nop())
			if err != nil {
				t.Fatalf("upgrade: %v", err)
			}
			defer s.Close()
			m, err := s.Member(ctx, "acme", "alice@example.org")
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Emails) != 1 || m.Emails[0].Value != "Alice@Example.org" || !m.Emails[0].Primary || m.Emails[0].Type != "work" {
				t.Fatalf("emails after upgrade = %+v", m.Emails)
			}
			var version int
			s.DBForTest().Raw(`SELECT MAX(version) FROM schema_migrations`).Scan(&version)
			if version != store.SchemaVersion() {
				t.Fatalf("schema version %d, want %d", version, store.SchemaVersion())
			}
		})
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	cfg := sqliteConfig(t)
	s, err := store.Open(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	s.DBForTest().Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', ?)`, time.Now())
	s.Close()
	if _, err := store.Open(ctx, cfg, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema = %v", err)
	}
}

func TestOpenErrorsNameTheSetting(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		cfg  store.Config
		want string
	}{
		{"unwritable sqlite dir", store.Config{Driver: "sqlite", DSN: "/proc/orgsync/orgsync.db", MaxOpenConns: 1}, "database.dsn"},
		{"unreachable postgres", store.Config{Driver: "postgres", DSN: "postgres://u:hunter2@127.0.0.1:1/db?sslmode=disable&connect_timeout=2", MaxOpenConns: 1}, "database.dsn: cannot connect to postgres"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := store.Open(ctx, tt.cfg, zerolog.Nop())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open = %v, want error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
}

// TestMigrateConcurrentOpens opens one SQLite file from several Stores at
// once, as processes started together do (serve and a CLI command), on a
// new database and on one to upgrade: every Open must succeed, and each
// step must be applied once.
//
// "no file" races in creating the file too: switching a new file to WAL
// takes a lock SQLite does not wait for, and Open must try again.
func TestMigrateConcurrentOpens(t *testing.T) {
	const rounds, opens = 30, 4
	for _, tt := range []struct {
		name string
		from int
	}{{"no file", -1}, {"new", 0}, {"upgrade", 1}} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			for range rounds {
				cfg := sqliteConfig(t)
				if tt.from >= 0 {
					old, err := store.OpenAt(ctx, cfg, zerolog.Nop(), tt.from)
					if err != nil {
						t.Fatal(err)
					}
					old.Close()
				}
				var wg sync.WaitGroup
				errs := make([]error, opens)
				for i := range opens {
					wg.Go(func() {
						s, err := store.Open(ctx, cfg, zerolog.Nop())
						if err == nil {
							s.Close()
						}
						errs[i] = err
					})
				}
				wg.Wait()
				for _, err := range errs {
					if err != nil {
						t.Fatalf("concurrent Open: %v", err)
					}
				}
				s, err := store.Open(ctx, cfg, zerolog.Nop())
				if err != nil {
					t.Fatal(err)
				}
				var got struct{ Steps, Version int }
				err = s.DBForTest().Raw(`SELECT COUNT(*) AS steps, MAX(version) AS version FROM schema_migrations`).Scan(&got).Error
				s.Close()
				if err != nil {
					t.Fatal(err)
				}
				if got.Steps != store.SchemaVersion() || got.Version != store.SchemaVersion() {
					t.Fatalf("schema_migrations has %d steps up to version %d, want %d", got.Steps, got.Version, store.SchemaVersion())
				}
			}
		})
	}
}

// TestOpenWithUpgrade: a read-only open creates a new database's schema but
// never upgrades an existing one, and --no-migrate's open upgrades nothing;
// both name `orgsync migrate`.
func TestOpenWithUpgrade(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			fresh := b.config(t)
			if _, err := store.OpenWith(ctx, fresh, zerolog.Nop(), store.UpgradeNever); !errors.Is(err, orgsync.ErrPrecondition) ||
				!strings.Contains(err.Error(), "orgsync migrate") {
				t.Fatalf("UpgradeNever on a new database: %v", err)
			}
			s, err := store.OpenWith(ctx, fresh, zerolog.Nop(), store.UpgradeNew)
			if err != nil {
				t.Fatalf("UpgradeNew on a new database: %v", err)
			}
			s.Close()

			old := b.config(t)
			o, err := store.OpenAt(ctx, old, zerolog.Nop(), 1)
			if err != nil {
				t.Fatal(err)
			}
			o.Close()
			for _, up := range []store.Upgrade{store.UpgradeNew, store.UpgradeNever} {
				if _, err := store.OpenWith(ctx, old, zerolog.Nop(), up); !errors.Is(err, orgsync.ErrPrecondition) ||
					!strings.Contains(err.Error(), "orgsync migrate") {
					t.Fatalf("Upgrade %d on a version 1 database: %v", up, err)
				}
			}
			s, err = store.OpenAt(ctx, old, zerolog.Nop(), 1)
			if err != nil {
				t.Fatal(err)
			}
			var v int
			s.DBForTest().Raw(`SELECT MAX(version) FROM schema_migrations`).Scan(&v)
			s.Close()
			if v != 1 {
				t.Fatalf("a refused open changed the schema to version %d", v)
			}
			s, err = store.OpenWith(ctx, old, zerolog.Nop(), store.UpgradeAlways)
			if err != nil {
				t.Fatalf("UpgradeAlways: %v", err)
			}
			s.Close()
			s, err = store.OpenWith(ctx, old, zerolog.Nop(), store.UpgradeNever)
			if err != nil {
				t.Fatalf("UpgradeNever on an upgraded database: %v", err)
			}
			s.Close()
		})
	}
}
