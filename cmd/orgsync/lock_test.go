package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

// lockedConfig is a config whose SQLite writers wait busy for another's
// lock; it returns the config and the database file.
func lockedConfig(t *testing.T, busy string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	db := filepath.Join(dir, "orgsync.db")
	path := filepath.Join(dir, "orgsync.yaml")
	body := "database: {driver: sqlite, dsn: " + db + ", busy_timeout: " + busy + "}\n" +
		"server: {listen: 127.0.0.1:0, admin_token: " + testAdminToken + "}\n" +
		"log: {level: error, format: json}\n" +
		"orgs:\n  - {id: acme, name: Acme}\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, db
}

// holdWriteLock takes SQLite's write lock on file from another connection
// (as a CLI reconcile in another process does) and returns its release.
func holdWriteLock(t *testing.T, file string) (*sql.DB, func()) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+file+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	return db, func() {
		if _, err := conn.ExecContext(context.Background(), `ROLLBACK`); err != nil {
			t.Error(err)
		}
		conn.Close()
	}
}

// doTimed is do with the answer's headers and how long it took.
func doTimed(t *testing.T, method, url, token, body string) (int, http.Header, string, time.Duration) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	start := time.Now()
	resp, err := (&http.Client{Timeout: 40 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b), time.Since(start)
}

// TestSQLiteWriteLockHeldElsewhere: while another connection holds
// SQLite's write lock (a CLI reconcile), reads through a real serve answer
// 200 at once (authenticating a token never used before writes nothing on
// the request path), writes answer 503 with Retry-After once the busy
// timeout runs out (never 500), nothing of a refused write is kept, and the
// token uses are written once the lock is free.
func TestSQLiteWriteLockHeldElsewhere(t *testing.T) {
	cfg, file := lockedConfig(t, "1s")
	base, a, stop := startServe(t, cfg)
	defer stop()
	ctx := context.Background()
	writer, _, _ := a.st.CreateToken(ctx, "acme", "writer", 0)
	reader, readerRec, _ := a.st.CreateToken(ctx, "acme", "reader", 0) // never used before the lock
	users := base + "/scim/v2/Users"
	uid := scimCreate(t, users, writer, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.org"}`)

	other, release := holdWriteLock(t, file)
	defer other.Close()
	locked := true
	defer func() {
		if locked {
			release()
		}
	}()

	for _, u := range []string{users + "/" + uid, users + "?filter=" + urlQuery(`userName eq "ada@example.org"`), base + "/scim/v2/Groups"} {
		code, _, body, took := doTimed(t, "GET", u, reader, "")
		if code != 200 || took > 3*time.Second {
			t.Fatalf("GET %s while another process holds the write lock: %d after %v (%s); want 200 at once", u, code, took, body)
		}
	}
	writes := []struct{ method, url, body string }{
		{"POST", users, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"grace@example.org"}`},
		{"PATCH", users + "/" + uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`},
		{"DELETE", users + "/" + uid, ""},
		{"POST", base + "/scim/v2/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"eng"}`},
	}
	for _, w := range writes {
		code, h, body, took := doTimed(t, w.method, w.url, writer, w.body)
		if code != 503 || h.Get("Retry-After") == "" || took > 10*time.Second {
			t.Fatalf("%s %s while the write lock is held: %d, Retry-After %q, after %v (%s); want 503 with Retry-After within the 1s busy timeout",
				w.method, w.url, code, h.Get("Retry-After"), took, body)
		}
		var e struct{ Status string }
		if json.Unmarshal([]byte(body), &e) != nil || e.Status != "503" {
			t.Fatalf("503 body is not a SCIM error: %s", body)
		}
	}

	release()
	locked = false
	if code, body := do(t, "GET", users+"/"+uid, writer, ""); code != 200 || !strings.Contains(body, `"active":true`) {
		t.Fatalf("after the refused writes: %d %s; want the user unchanged", code, body)
	}
	if _, body := do(t, "GET", users+"?filter="+urlQuery(`userName eq "grace@example.org"`), writer, ""); !strings.Contains(body, `"totalResults":0`) {
		t.Fatalf("a refused create was kept: %s", body)
	}
	scimCreate(t, users, writer, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"grace@example.org"}`)

	// The reader's use is written by the background writer.
	if err := a.st.FlushTokenUse(ctx); err != nil {
		t.Fatal(err)
	}
	var used sql.NullString
	if err := other.QueryRow(`SELECT last_used_at FROM scim_tokens WHERE id = ?`, readerRec.ID).Scan(&used); err != nil || !used.Valid {
		t.Fatalf("last_used_at of the reader token after the flush: %v, %v; want it set", used, err)
	}
}
