package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/orgsync/orgsync/internal/testenv"
)

// syncBuffer collects what goroutines log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestSecretsNeverLeak runs serve and the CLI at debug level through their
// failure paths (wrong bind password, wrong SCIM source token, wrong SCIM
// and admin tokens presented) and greps every log line, CLI output,
// report, run record, event, /metrics page and database row for the
// secrets: none may appear. The config file holds its secrets inline and
// is world-readable: `config validate` must warn, naming keys, not values.
func TestSecretsNeverLeak(t *testing.T) {
	ldapURL := testenv.Require(t, testenv.LDAPURLVar)
	const (
		adminSecret   = "admin-SECRET-7f3a9c0d1e"
		bindSecret    = "bind-SECRET-91be2d44ff"
		scimSrcSecret = "osk_scimsrc-SECRET-55aa90"
		wrongSCIM     = "osk_presented-SECRET-0b0b0b"
		wrongAdmin    = "admin-presented-SECRET-c1c1"
	)
	port := freePort(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "orgsync.yaml")
	body := fmt.Sprintf(`database: {driver: sqlite, dsn: %s}
server: {listen: "127.0.0.1:%d", admin_token: %s}
log: {level: debug, format: json}
orgs:
  - {id: acme, name: Acme}
  - {id: beta, name: Beta}
sources:
  - name: corp-ldap
    org: acme
    type: ldap
    ldap:
      url: %s
      bind_dn: cn=sync,dc=example,dc=org
      bind_password: %s
      user: {base_dn: "ou=people,dc=example,dc=org"}
  - name: idp-scim
    org: beta
    type: scim
    scim: {base_url: "http://127.0.0.1:%d/scim/v2", token: %s}
`, filepath.Join(dir, "orgsync.db"), port, adminSecret, ldapURL, bindSecret, port, scimSrcSecret)
	os.WriteFile(cfg, []byte(body), 0o644)
	os.Chmod(cfg, 0o644)

	var seen strings.Builder
	collect := func(what string, parts ...string) {
		for _, p := range parts {
			seen.WriteString("\n--- " + what + "\n" + p)
		}
	}
	code, out, errOut := cli(t, cfg, "config", "validate")
	if code != 0 {
		t.Fatalf("config validate: %d\n%s\n%s", code, out, errOut)
	}
	for _, key := range []string{"admin_token", "bind_password", "token"} {
		if !strings.Contains(out+errOut, "secret "+key+" inline") {
			t.Errorf("config validate does not warn about the inline %s in a world-readable file:\n%s", key, out+errOut)
		}
	}
	collect("config validate", out, errOut)
	os.Chmod(cfg, 0o600)
	if _, out, errOut := cli(t, cfg, "config", "validate"); strings.Contains(out+errOut, "inline") {
		t.Errorf("a 0600 config still warns:\n%s", out+errOut)
	}

	base, _, logs, stop := startServeLogged(t, cfg)
	code, idpToken, _ := cli(t, cfg, "tokens", "create", "--org", "acme")
	idpToken = strings.TrimSpace(idpToken)
	if code != 0 {
		t.Fatal("tokens create")
	}
	for _, tok := range []string{wrongSCIM, "Basic " + wrongSCIM, idpToken} {
		c, b := do(t, "GET", base+"/scim/v2/Users?filter="+urlQuery(`userName eq "x"`), tok, "")
		collect("scim answer", b)
		if tok == idpToken && c != 200 {
			t.Fatalf("valid token: %d", c)
		}
	}
	c, b := do(t, "POST", base+"/scim/v2/Users", idpToken, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"carol@example.org","password":"user-password-SECRET"}`)
	collect("scim create", b)
	if c != 201 {
		t.Fatalf("create: %d %s", c, b)
	}
	_, b = do(t, "GET", base+"/api/v1/runs", wrongAdmin, "")
	collect("admin answer", b)

	for _, args := range [][]string{
		{"check", "--source", "corp-ldap"}, {"plan", "--source", "corp-ldap"}, {"reconcile", "--source", "corp-ldap", "--format", "json"},
		{"plan", "--source", "idp-scim", "--format", "markdown"}, {"reconcile", "--source", "idp-scim"}, {"check", "--source", "idp-scim"},
		{"tokens", "list", "--format", "json"}, {"members", "list", "--org", "acme", "--format", "json"},
	} {
		code, out, errOut := cli(t, cfg, args...)
		if args[0] != "tokens" && args[0] != "members" && code != 1 {
			t.Errorf("%v with a wrong credential: exit %d, want 1\n%s%s", args, code, out, errOut)
		}
		collect(strings.Join(args, " "), out, errOut)
	}
	_, b = do(t, "GET", base+"/metrics", "", "")
	collect("metrics", b)
	for _, p := range []string{"/api/v1/runs", "/api/v1/events?after=0", "/api/v1/orgs/acme/members"} {
		c, b := do(t, "GET", base+p, adminSecret, "")
		if c != 200 {
			t.Fatalf("GET %s: %d", p, c)
		}
		collect(p, b)
	}
	if !strings.Contains(seen.String(), "corp-ldap") || !strings.Contains(seen.String(), "Invalid Credentials") && !strings.Contains(seen.String(), "invalid credentials") {
		t.Errorf("the failed bind is not reported at all:\n%s", seen.String())
	}
	stop()
	collect("serve log", logs.String())
	st := configStore(t, cfg) // opened as every command opens it
	db := configDB(t, cfg)
	d := dumpDB(t, db)
	db.Close()
	st.Close()
	for table, rows := range d.Tables {
		collect("table "+table, strings.Join(rows, "\n"))
	}

	all := seen.String()
	for name, secret := range map[string]string{"admin token": adminSecret, "bind password": bindSecret, "SCIM source token": scimSrcSecret,
		"presented SCIM token": wrongSCIM, "presented admin token": wrongAdmin, "IdP SCIM token": idpToken, "user password": "user-password-SECRET"} {
		if i := strings.Index(all, secret); i >= 0 {
			t.Errorf("the %s leaks: …%s…", name, all[max(0, i-300):min(len(all), i+100)])
		}
	}
	t.Logf("%d bytes of logs, CLI output, reports, answers, metrics and %d rows searched for 7 secrets", len(all), d.Rows())
}
