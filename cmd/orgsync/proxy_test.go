package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// doFrom sends a SCIM GET as a trusted proxy forwarding for xff.
func doFrom(t *testing.T, url, token, xff string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestFailedAuthBehindProxy: serve behind a trusted proxy (loopback) keys
// the failed-auth limit by the forwarded client. Malformed hops never
// count as the proxy (which would lock out every client behind it), hops
// with ports are the address, IPv6 clients count per /64, and a client
// guessing tokens does not get a log line per guess.
func TestFailedAuthBehindProxy(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "orgsync.yaml")
	if err := os.WriteFile(cfg, []byte("database: {driver: sqlite, dsn: "+filepath.Join(dir, "orgsync.db")+"}\n"+
		"server: {listen: 127.0.0.1:0, admin_token: "+testAdminToken+", trusted_proxies: [127.0.0.1]}\n"+
		"log: {level: warn, format: json}\norgs:\n  - {id: acme, name: Acme}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base, a, logs, stop := startServeLogged(t, cfg)
	defer stop()
	good, _, _ := a.st.CreateToken(context.Background(), "acme", "idp", 0)
	users := base + "/scim/v2/Users"

	fail := func(n int, xff func(i int) string) {
		t.Helper()
		for i := 0; i < n; i++ {
			if code := doFrom(t, users, "osk_wrong"+strconv.Itoa(i), xff(i)); code != 401 && code != 429 {
				t.Fatalf("wrong token forwarded for %q: %d", xff(i), code)
			}
		}
	}
	// 21 forged, malformed chains.
	fail(21, func(i int) string { return "not-an-address-" + strconv.Itoa(i) })
	for _, xff := range []string{"203.0.113.7", "", "203.0.113.7:5000"} {
		if code := doFrom(t, users, good, xff); code != 200 {
			t.Fatalf("after 21 malformed X-Forwarded-For failures, a good client forwarded as %q got %d; want 200 (the proxy must not be locked out)", xff, code)
		}
	}
	// A hop with a port is its address.
	fail(20, func(int) string { return "198.51.100.1:5555" })
	if code := doFrom(t, users, good, "198.51.100.1"); code != 429 {
		t.Fatalf("198.51.100.1 after 20 failures as 198.51.100.1:5555: %d, want 429", code)
	}
	if code := doFrom(t, users, good, "198.51.100.2"); code != 200 {
		t.Fatalf("198.51.100.2 after another client's failures: %d, want 200", code)
	}
	// IPv6 by /64.
	fail(20, func(i int) string { return "2001:db8:5:6::" + strconv.FormatInt(int64(i+1), 16) })
	if code := doFrom(t, users, good, "[2001:db8:5:6:ffff::1]:443"); code != 429 {
		t.Fatalf("another address of a /64 with 20 failures: %d, want 429", code)
	}
	if code := doFrom(t, users, good, "2001:db8:5:7::1"); code != 200 {
		t.Fatalf("the next /64: %d, want 200", code)
	}
	// 61 failures from 3 clients (21 + 20 + 20): a line for the first of
	// each and for the one reaching the limit, not one per failure.
	if n := strings.Count(logs.String(), "scim: authentication failed"); n == 0 || n > 6 {
		t.Fatalf("%d log lines for 61 failed authentications of 3 clients, want 1..6:\n%s", n, logs.String())
	}
}
