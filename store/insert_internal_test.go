package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/testenv"
)

// insertBackends are the backends of the insert tests: SQLite always,
// PostgreSQL under CI (or with its DSN set).
var insertBackends = []struct {
	name   string
	config func(t *testing.T) Config
}{
	{"sqlite", func(t *testing.T) Config {
		return Config{Driver: DriverSQLite, DSN: filepath.Join(t.TempDir(), "orgsync.db"), MaxOpenConns: 4}
	}},
	{"postgres", func(t *testing.T) Config {
		return Config{Driver: DriverPostgres, DSN: testenv.PostgresDatabase(t), MaxOpenConns: 4}
	}},
}

func openInsertStore(t *testing.T, cfg Config) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.EnsureOrgs(ctx, []orgsync.Org{{ID: "acme", Name: "Acme", DefaultRole: orgsync.RoleMember}}); err != nil {
		t.Fatal(err)
	}
	return s
}

// oddText is text that a bulk path must carry unchanged.
var oddText = []string{`quote " and back\slash`, "new\nline\ttab\r", "ünïcödé 😀 \u202eRTL", "ctrl \x01\x1f\x7f", `{"json":[1,2]}`, `\N`, ",;|"}

// TestInsertRoundTrip writes members, their documents and emails through
// conn.insert in a write transaction, below and above copyMin (on
// PostgreSQL: multi-row INSERT, then COPY), and reads every value back.
func TestInsertRoundTrip(t *testing.T) {
	for _, b := range insertBackends {
		for _, n := range []int{3, copyMin, 5 * copyMin} {
			t.Run(fmt.Sprintf("%s/%d", b.name, n), func(t *testing.T) {
				s := openInsertStore(t, b.config(t))
				now := time.Date(2026, 3, 4, 5, 6, 7, 891011000, time.UTC)
				var members, docs, emails [][]any
				for i := 0; i < n; i++ {
					id, text := fmt.Sprintf("m%03d", i), oddText[i%len(oddText)]
					members = append(members, []any{id, "acme", "u" + id, "u" + id, text, text, text, int64(i), s.stamp(now), s.stamp(now), nil})
					docs = append(docs, []any{id, docFor(text, i)})
					emails = append(emails, []any{id, 0, "acme", text, text, "work", i%2 == 0})
				}
				err := s.write(context.Background(), func(tx *gorm.DB) error {
					c := s.in(tx)
					if _, isCopy := c.pool.(*copyTx); isCopy != s.dialect.postgres {
						t.Errorf("write transaction on %s: COPY available %v", b.name, isCopy)
					}
					if err := c.insert("members", []string{"id", "org_id", "user_name", "user_name_fold", "external_id", "display_name",
						"given_name", "version", "created_at", "updated_at", "deprovisioned_at", "role", "status"}, withRoleStatus(members), ""); err != nil {
						return err
					}
					if err := c.insert("member_docs", []string{"member_id", "doc"}, docs, ""); err != nil {
						return err
					}
					return c.insert("member_emails", emailCols, emails, "")
				})
				if err != nil {
					t.Fatalf("insert %d rows: %v", n, err)
				}
				got := 0
				err = s.pool(context.Background()).each(`SELECT m.id, m.external_id, m.display_name, m.version, m.created_at, m.deprovisioned_at,
					d.doc, e.value, e.is_primary
					FROM members m JOIN member_docs d ON d.member_id = m.id JOIN member_emails e ON e.member_id = m.id ORDER BY m.id`, nil,
					func(scan func(...any) error) error {
						var id, ext, display, doc, email string
						var version int64
						var created time.Time
						var deprov *time.Time
						var primary bool
						if err := scan(&id, &ext, &display, &version, &created, &deprov, &doc, &email, &primary); err != nil {
							return err
						}
						i, text := got, oddText[got%len(oddText)]
						if id != fmt.Sprintf("m%03d", i) || ext != text || display != text || version != int64(i) || email != text || primary != (i%2 == 0) {
							t.Errorf("row %d read back as %q %q %q %d %q %v", i, id, ext, display, version, email, primary)
						}
						if !created.Equal(now) || deprov != nil {
							t.Errorf("row %d: created_at %v, deprovisioned_at %v", i, created, deprov)
						}
						if want := docFor(text, i); !sameJSON(doc, want) {
							t.Errorf("row %d: doc %s, want %s", i, doc, want)
						}
						got++
						return nil
					})
				if err != nil || got != n {
					t.Fatalf("read back %d rows of %d: %v", got, n, err)
				}
			})
		}
	}
}

func docFor(text string, i int) string {
	b, _ := json.Marshal(map[string]any{"k": text, "n": i})
	return string(b)
}

func sameJSON(a, b string) bool {
	var x, y any
	return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil && reflect.DeepEqual(x, y)
}

// withRoleStatus appends the role and status every member row needs.
func withRoleStatus(rows [][]any) [][]any {
	for i := range rows {
		rows[i] = append(rows[i], orgsync.RoleMember, string(orgsync.StatusPendingSetup))
	}
	return rows
}

// TestInsertErrors: a bulk insert that breaks a unique index or refers to
// a row that is not there fails as the store's domain kinds say, and the
// transaction writes nothing, on both paths.
func TestInsertErrors(t *testing.T) {
	for _, b := range insertBackends {
		for _, n := range []int{2, 3 * copyMin} {
			t.Run(fmt.Sprintf("%s/%d", b.name, n), func(t *testing.T) {
				s := openInsertStore(t, b.config(t))
				now := s.stamp(time.Now().UTC())
				links := make([][]any, n)
				for i := range links {
					links[i] = []any{"t", "member", fmt.Sprintf("l%d", i), fmt.Sprintf("r%d", i), "acme", "", now}
				}
				links[n-1][3] = "r0" // the remote id of the first again
				err := s.write(context.Background(), func(tx *gorm.DB) error {
					return s.in(tx).insert("target_links", []string{"target", "kind", "local_id", "remote_id", "org_id", "name", "created_at"}, links, "")
				})
				if !errors.Is(translate(err), orgsync.ErrConflict) {
					t.Errorf("duplicate remote id: %v, want ErrConflict", err)
				}
				var left int
				if _, err := s.pool(context.Background()).row(`SELECT COUNT(*) FROM target_links`, nil, &left); err != nil || left != 0 {
					t.Errorf("a failed insert left %d rows (%v)", left, err)
				}
				gm := make([][]any, n)
				for i := range gm {
					gm[i] = []any{"no-group", fmt.Sprintf("no-member-%d", i), "acme", now}
				}
				err = s.write(context.Background(), func(tx *gorm.DB) error {
					return s.in(tx).insert("group_members", []string{"group_id", "member_id", "org_id", "created_at"}, gm, "")
				})
				if err == nil || !foreignKeyViolation(err) {
					t.Errorf("memberships of nobody: %v, want a foreign-key violation", err)
				}
			})
		}
	}
}
