package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// Source faults at run level: whatever breaks while a source is read, the
// run fails, is recorded as failed, and no member is deprovisioned — even
// with guards that would let a mass deprovision through, since only the
// all-or-nothing Snapshot stands between a broken read and an emptied org.

const openGuard = "{max_deprovision: 100000, max_deprovision_percent: 100, allow_empty: true}"

// orgState is every member's status in org, by userName.
func orgState(t *testing.T, cfg, org string) map[string]orgsync.Status {
	t.Helper()
	st := configStore(t, cfg)
	defer st.Close()
	ms, err := st.Members(context.Background(), org, store.MemberFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]orgsync.Status{}
	for _, m := range ms {
		out[m.UserName] = m.Status
	}
	return out
}

// lastRun is the newest recorded run of source.
func lastRun(t *testing.T, cfg, source string) orgsync.Run {
	t.Helper()
	st := configStore(t, cfg)
	defer st.Close()
	runs, err := st.Runs(context.Background(), store.RunFilter{Source: source, Limit: 1})
	if err != nil || len(runs) == 0 {
		t.Fatalf("runs of %s: %v", source, err)
	}
	return runs[0]
}

// expectFailedRun runs `reconcile --source source` and checks: exit 1, a
// run recorded as failed with an error, and the org unchanged.
func expectFailedRun(t *testing.T, cfg, org, source, fault string, before map[string]orgsync.Status) {
	t.Helper()
	start := time.Now()
	code, out, errOut := cli(t, cfg, "reconcile", "--source", source)
	if code != 1 {
		t.Fatalf("%s: reconcile exit %d, want 1\n%s\n%s", fault, code, out, errOut)
	}
	r := lastRun(t, cfg, source)
	if r.Result != orgsync.RunFailed || r.Error == "" || r.StartedAt.Before(start.Add(-time.Second)) {
		t.Fatalf("%s: last run %+v, want a failed run with its error", fault, r)
	}
	after := orgState(t, cfg, org)
	if len(after) != len(before) {
		t.Fatalf("%s: %d members after, %d before", fault, len(after), len(before))
	}
	for name, st := range before {
		if after[name] != st {
			t.Fatalf("%s: %s went from %s to %s", fault, name, st, after[name])
		}
	}
	t.Logf("%s: run failed in %v (%.120s); %d members unchanged", fault, time.Since(start).Round(time.Millisecond), r.Error, len(before))
}

// tcpProxy forwards to target and counts the bytes the server sends; when
// they pass at, it calls fault once (and cuts the connection if fault
// returns true).
func tcpProxy(t *testing.T, target string, at int64, fault func() bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var sent atomic.Int64
	var once sync.Once
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go func() { io.Copy(s, c); s.Close() }()
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					n, err := s.Read(buf)
					if n > 0 {
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
						if sent.Add(int64(n)) > at {
							cut := false
							once.Do(func() { cut = fault() })
							if cut {
								s.Close()
								return
							}
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func ldapFaultConfig(t *testing.T, cfg, url, extra string) {
	t.Helper()
	body := fmt.Sprintf(`database: {driver: sqlite, dsn: %s}
server: {listen: 127.0.0.1:0, admin_token: %s}
log: {level: error, format: json}
orgs:
  - {id: acme, name: Acme}
sources:
  - name: corp-ldap
    org: acme
    type: ldap
    timeout: 5s
    guard: %s
    ldap:
      url: %s
      bind_dn: cn=sync,dc=example,dc=org
      bind_password: sync
      page_size: 200
      dial_timeout: 2s
      bind_timeout: 2s
      search_timeout: 3s
      user: {base_dn: "ou=people,dc=example,dc=org"}
      group: {base_dn: "ou=groups,dc=example,dc=org"}
%s`, filepath.Join(filepath.Dir(cfg), "orgsync.db"), testAdminToken, openGuard, url, extra)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestLDAPSourceFaultsDeprovisionNothing: TLS failures, a server that
// never answers, and the test's own slapd killed in the middle of a paged
// read of a 5,000-user directory.
func TestLDAPSourceFaultsDeprovisionNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own slapd with a generated directory")
	}
	dir := t.TempDir()
	ldif := filepath.Join(dir, "dir.ldif")
	out, err := exec.Command("go", "run", "../../tools/ldifgen", "-mode", "bench", "-users", "5000", "-groups", "20", "-members", "50").Output()
	if err != nil {
		t.Fatalf("ldifgen: %v", err)
	}
	os.WriteFile(ldif, out, 0o600)
	ldap := startSlapd(t, ldif)
	hostPort := strings.TrimPrefix(ldap.url, "ldap://")
	host, port, _ := net.SplitHostPort(hostPort)
	var p int
	fmt.Sscan(port, &p)
	cfg := filepath.Join(dir, "orgsync.yaml")

	ldapFaultConfig(t, cfg, ldap.url, "")
	if code, _, errOut := cli(t, cfg, "reconcile"); code != 0 {
		t.Fatalf("first reconcile: %d %s", code, errOut)
	}
	before := orgState(t, cfg, "acme")
	if len(before) < 4000 {
		t.Fatalf("only %d members provisioned", len(before))
	}

	// TLS: the server's certificate is not trusted; TLS to a plain port.
	ldapFaultConfig(t, cfg, fmt.Sprintf("ldaps://%s:%d", host, p+1), "")
	expectFailedRun(t, cfg, "acme", "corp-ldap", "ldaps with an untrusted certificate", before)
	ldapFaultConfig(t, cfg, "ldaps://"+hostPort, "")
	expectFailedRun(t, cfg, "acme", "corp-ldap", "ldaps to a plain LDAP port", before)

	// A server that accepts and never answers.
	mute, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	go func() {
		for {
			c, err := mute.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, c)
		}
	}()
	ldapFaultConfig(t, cfg, "ldap://"+mute.Addr().String(), "")
	start := time.Now()
	expectFailedRun(t, cfg, "acme", "corp-ldap", "a server that never answers", before)
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("the silent server held the run for %v", d)
	}

	// The connection cut after 300 kB of answers (mid-page), then slapd
	// itself killed during the read.
	cut := tcpProxy(t, hostPort, 300<<10, func() bool { return true })
	ldapFaultConfig(t, cfg, "ldap://"+cut, "")
	expectFailedRun(t, cfg, "acme", "corp-ldap", "connection cut mid-page", before)
	kill := tcpProxy(t, hostPort, 300<<10, func() bool { ldap.stop(); return false })
	ldapFaultConfig(t, cfg, "ldap://"+kill, "")
	expectFailedRun(t, cfg, "acme", "corp-ldap", "slapd killed mid-read", before)
}

// TestSCIMSourceFaultsDeprovisionNothing: a SCIM source (orgsync's own
// receiver behind a faulty proxy) answering 500 on one page, a truncated
// body, or too slowly: the run fails and the mirror org keeps every member.
func TestSCIMSourceFaultsDeprovisionNothing(t *testing.T) {
	cfg := writeConfig(t, "")
	base, a, stop := startServe(t, cfg)
	defer stop()
	token, _, _ := a.st.CreateToken(context.Background(), "acme", "mirror", 0)
	for i := 0; i < 120; i++ {
		if code, resp := do(t, "POST", base+"/scim/v2/Users", token, fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"m%03d@example.org"}`, i)); code != 201 {
			t.Fatalf("POST: %d %s", code, resp)
		}
	}
	var mode atomic.Value
	mode.Store("")
	target, _ := url.Parse(base)
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page2 := strings.Contains(r.URL.RawQuery, "startIndex=41")
		switch m := mode.Load().(string); {
		case m == "500" && page2:
			http.Error(w, `{"status":"500"}`, 500)
		case m == "truncated" && page2:
			rec := httptest.NewRecorder()
			rp.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			hj, _ := w.(http.Hijacker)
			conn, buf, _ := hj.Hijack()
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/scim+json\r\nContent-Length: %d\r\n\r\n", len(body))
			buf.Write(body[:len(body)/2])
			buf.Flush()
			conn.Close()
		case m == "slow" && page2:
			time.Sleep(4 * time.Second)
			rp.ServeHTTP(w, r)
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	defer proxy.Close()
	body, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(string(body)+`sources:
  - name: acme-mirror
    org: beta
    type: scim
    guard: `+openGuard+`
    scim: {base_url: `+proxy.URL+`/scim/v2, token: `+token+`, page_size: 40, max_retries: 1, timeout: 2s}
`), 0o600)
	if code, _, errOut := cli(t, cfg, "reconcile"); code != 0 {
		t.Fatalf("first reconcile: %d %s", code, errOut)
	}
	before := orgState(t, cfg, "beta")
	if len(before) != 120 {
		t.Fatalf("%d members mirrored", len(before))
	}
	for _, m := range []string{"500", "truncated", "slow"} {
		mode.Store(m)
		expectFailedRun(t, cfg, "beta", "acme-mirror", "SCIM page 2: "+m, before)
	}
	mode.Store("")
	if code, _, errOut := cli(t, cfg, "reconcile"); code != 0 {
		t.Fatalf("reconcile after the faults: %d %s", code, errOut)
	}
}
