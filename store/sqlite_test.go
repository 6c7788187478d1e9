package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
)

func provisionPlan(n int) orgsync.Plan {
	p := orgsync.Plan{Org: "acme", Owner: "ldap"}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("user%05d@example.org", i)
		p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionProvision, UserName: name, MemberKey: fmt.Sprint("k", i),
			Member: &orgsync.Member{UserName: name, GivenName: "Given", FamilyName: fmt.Sprint("Family", i),
				Emails: []orgsync.Email{{Value: name, Type: "work", Primary: true}}}})
	}
	return p
}

func openSQLite(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "o.db")
	s, err := Open(context.Background(), Config{Driver: DriverSQLite, DSN: path, MaxOpenConns: 4}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.EnsureOrgs(context.Background(), []orgsync.Org{{ID: "acme", Name: "Acme", DefaultRole: "member"}}); err != nil {
		t.Fatal(err)
	}
	return s, path
}

// The write-ahead log of a commit is copied into the database file by the
// background checkpoint, not left to grow: the automatic checkpoint is off
// (but for its 256 MiB backstop), so without it the file would stay empty.
func TestBackgroundCheckpointCopiesTheLog(t *testing.T) {
	s, path := openSQLite(t)
	before := fileSize(t, path)
	if _, err := s.Apply(context.Background(), provisionPlan(5000)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for fileSize(t, path) < before+1<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("database file still %d bytes (was %d) 10 s after a 5,000-member commit: no checkpoint ran", fileSize(t, path), before)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// Statements on SQLite run without cancellation (see quiet), so Apply
// checks the context itself: a cancelled apply writes nothing.
func TestCancelledApplyWritesNothing(t *testing.T) {
	s, _ := openSQLite(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Apply(ctx, provisionPlan(3000)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Apply with a cancelled context: %v, want context.Canceled", err)
	}
	snap, err := s.Observed(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	evs, err := s.Events(context.Background(), "acme", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Members) != 0 || len(evs) != 0 {
		t.Fatalf("a cancelled apply wrote %d members, %d events", len(snap.Members), len(evs))
	}
}

// Ping answers whether the database serves queries, not merely whether a
// connection handle is open.
func TestPingQueriesTheDatabase(t *testing.T) {
	s, path := openSQLite(t)
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping of a healthy store: %v", err)
	}
	other, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Exec(`ALTER TABLE schema_migrations RENAME TO gone`); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Fatal("ping succeeded on a database that cannot answer")
	}
}

// Each pooled connection holds its own page cache outside the Go heap: it
// stays at 16 MiB (issue 16: 64 MiB cost a first reconcile of 100k
// members some 75 MB of peak RSS and no time).
func TestSQLitePageCacheIsBounded(t *testing.T) {
	s, _ := openSQLite(t)
	var kib int
	if err := s.db.Raw(`PRAGMA cache_size`).Scan(&kib).Error; err != nil {
		t.Fatal(err)
	}
	if want := -16 << 10; kib != want {
		t.Fatalf("PRAGMA cache_size = %d, want %d (16 MiB per connection)", kib, want)
	}
}
