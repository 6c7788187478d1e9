package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orgsync/orgsync/internal/hardening"
)

// hardenedConfig is writeConfig with short server timeouts, so that the
// slow-client tests finish quickly.
func hardenedConfig(t *testing.T, extra string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "orgsync.yaml")
	body := "database: {driver: sqlite, dsn: " + filepath.Join(dir, "orgsync.db") + "}\n" +
		"server: {listen: 127.0.0.1:0, admin_token: " + testAdminToken + ", read_header_timeout: 1s, read_timeout: 2s, write_timeout: 10s, idle_timeout: 2s}\n" +
		"log: {level: error, format: json}\n" +
		"orgs:\n  - {id: acme, name: Acme}\n  - {id: beta, name: Beta}\n" + extra
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// scimCreate POSTs body and returns the new resource's id.
func scimCreate(t *testing.T, url, token, body string) string {
	t.Helper()
	code, resp := do(t, "POST", url, token, body)
	var r struct{ ID string }
	if code != 201 || json.Unmarshal([]byte(resp), &r) != nil || r.ID == "" {
		t.Fatalf("POST %s: %d %s", url, code, resp)
	}
	return r.ID
}

// hostileTarget seeds both orgs through SCIM and aims the generator at acme.
func hostileTarget(t *testing.T, base string, a *app) hardening.Target {
	t.Helper()
	ctx := context.Background()
	acme, _, err := a.st.CreateToken(ctx, "acme", "idp", 0)
	if err != nil {
		t.Fatal(err)
	}
	beta, _, _ := a.st.CreateToken(ctx, "beta", "idp", 0)
	scim := base + "/scim/v2"
	uid := scimCreate(t, scim+"/Users", acme, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"kelvin@example.org","externalId":"k-1",
		"emails":[{"value":"kelvin@example.org","type":"work","primary":true}],"name":{"givenName":"Kel","familyName":"Vin"}}`)
	gid := scimCreate(t, scim+"/Groups", acme, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"engineering","members":[{"value":"`+uid+`"}]}`)
	ouid := scimCreate(t, scim+"/Users", beta, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"betasecret@example.org","externalId":"beta-ext-1"}`)
	ogid := scimCreate(t, scim+"/Groups", beta, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"betagroupsecret","members":[{"value":"`+ouid+`"}]}`)
	return hardening.Target{Base: scim, Token: acme, UserID: uid, GroupID: gid, UserName: "kelvin@example.org",
		OtherUserID: ouid, OtherGroupID: ogid, Forbidden: []string{ouid, ogid, "betasecret", "beta-ext-1", "betagroupsecret", beta}}
}

// dumpStore dumps the tables of the database of a's config (a has loaded
// it), but for when tokens were last used.
func dumpStore(t *testing.T, a *app) hardening.Dump {
	t.Helper()
	if a.cfg == nil {
		t.Fatal("dumpStore: the app has not loaded its config")
	}
	db := openDB(t, a.cfg.Database)
	defer db.Close()
	return dumpDB(t, db)
}

// dumpDB dumps db's tables but for when tokens were last used.
func dumpDB(t *testing.T, db *sql.DB) hardening.Dump {
	t.Helper()
	d, err := hardening.DumpDB(context.Background(), db, false, "scim_tokens.last_used_at")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// envInt reads a size from the environment (the long variants in
// scripts/hardening.sh set them), else def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestHostileSCIMTraffic sends thousands of malformed and adversarial
// requests to a real `serve`: none may be answered 5xx, none may write, no
// answer may show another org's data, and every row of every table must be
// byte-identical afterwards.
func TestHostileSCIMTraffic(t *testing.T) {
	n := envInt("ORGSYNC_HOSTILE_REQUESTS", 3000)
	if testing.Short() {
		n = 500
	}
	base, a, stop := startServe(t, hardenedConfig(t, ""))
	defer stop()
	target := hostileTarget(t, base, a)
	before := dumpStore(t, a)

	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("ORGSYNC_HOSTILE_SEED"), 10, 64); err == nil {
		seed = s
	}
	reqs := hardening.Generate(seed, n, target)
	client := &http.Client{Timeout: 30 * time.Second}
	res := hardening.Run(context.Background(), client, target, reqs, 8)
	for _, f := range res.Failures {
		t.Error(f)
	}
	if res.Tried != n {
		t.Fatalf("tried %d of %d requests", res.Tried, n)
	}
	if code, _ := do(t, "GET", base+"/healthz", "", ""); code != 200 {
		t.Fatalf("server unhealthy after the run: %d", code)
	}
	after := dumpStore(t, a)
	if before.Hash() != after.Hash() {
		t.Fatalf("hostile traffic changed the store:\n%s", before.Diff(after))
	}
	t.Logf("seed %d: %s; %d rows in %d tables byte-identical (sha256 %s…)", seed, res, after.Rows(), len(after.Tables), after.Hash()[:12])
	t.Logf("by kind: %v", res.ByKind)
}

// TestServeCutsOffSlowClients: slowloris clients trickling headers or a
// body are cut off at read_header_timeout / read_timeout, idle keep-alive
// connections at idle_timeout, and the server keeps serving others.
func TestServeCutsOffSlowClients(t *testing.T) {
	base, a, stop := startServe(t, hardenedConfig(t, ""))
	defer stop()
	addr := strings.TrimPrefix(base, "http://")
	token, _, _ := a.st.CreateToken(context.Background(), "acme", "idp", 0)
	const max = 8 * time.Second

	type result struct {
		d   time.Duration
		err error
	}
	heads := make(chan result, 20)
	for i := 0; i < 20; i++ {
		go func() {
			d, err := hardening.SlowHeaders(addr, 150*time.Millisecond, max)
			heads <- result{d, err}
		}()
	}
	bodyc := make(chan result, 1)
	go func() {
		d, err := hardening.SlowBody(addr, token, 150*time.Millisecond, max)
		bodyc <- result{d, err}
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if code, _ := do(t, "GET", base+"/scim/v2/ServiceProviderConfig", "", ""); code != 200 || time.Since(start) > 3*time.Second {
		t.Fatalf("a normal client waited %v for %d while slow clients were connected", time.Since(start), code)
	}
	for i := 0; i < 20; i++ {
		r := <-heads
		if r.err != nil || r.d >= 3*time.Second {
			t.Fatalf("slow header client kept for %v (%v); read_header_timeout is 1s", r.d, r.err)
		}
	}
	if r := <-bodyc; r.err != nil || r.d >= 4*time.Second {
		t.Fatalf("slow body client kept for %v (%v); read_timeout is 2s", r.d, r.err)
	}

	// Idle keep-alive connections are closed after idle_timeout.
	tr := &http.Transport{MaxIdleConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	closedAt := make(chan time.Time, 1)
	var conn0 string
	for i := 0; i < 2; i++ {
		req, _ := http.NewRequest("GET", base+"/healthz", nil)
		var local string
		req = req.WithContext(withConnTrace(req.Context(), &local))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if i == 0 {
			conn0 = local
			time.Sleep(3 * time.Second) // past idle_timeout (2s)
		} else if local == conn0 {
			t.Fatalf("the idle connection %s was still open after idle_timeout", local)
		}
	}
	close(closedAt)
}
