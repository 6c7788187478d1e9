package targets

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"
)

// tlsKMS is an HTTPS server answering an empty SCIM user list and the KMS
// admin API's login and listing; it counts TLS connections opened.
type tlsKMS struct {
	*httptest.Server
	conns atomic.Int64
}

func newTLSKMS(t *testing.T) *tlsKMS {
	t.Helper()
	k := &tlsKMS{}
	k.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/scim/v2/Users":
			json.NewEncoder(w).Encode(map[string]any{"totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []any{}})
		case "/api/v1/auth/universal-auth/login":
			json.NewEncoder(w).Encode(map[string]any{"accessToken": "at-1"})
		case "/api/v1/admin/organization-management/organizations":
			json.NewEncoder(w).Encode(map[string]any{"organizations": []any{}, "total": 0})
		default:
			http.NotFound(w, r)
		}
	}))
	k.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			k.conns.Add(1)
		}
	}
	k.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	k.StartTLS()
	t.Cleanup(k.Close)
	return k
}

// caFile writes the server's certificate (httptest's is its own CA) as PEM.
func (k *tlsKMS) caFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kms-ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.Certificate().Raw})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTargetTLS(t *testing.T) {
	k := newTLSKMS(t)
	ca := k.caFile(t)
	cases := []struct {
		name       string
		tls        TLSConfig
		setupTLS   *TLSConfig
		wantErr    string // of the SCIM read; "" succeeds
		wantSetup  string // of the setup-status read; "" succeeds
		wantWarned []string
	}{
		{name: "system roots refuse an unknown CA", wantErr: "set tls.ca_file to that CA's PEM file", wantSetup: "set setup_status.tls.ca_file"},
		{name: "ca_file trusted", tls: TLSConfig{CAFile: ca}},
		{name: "server_name held by the certificate", tls: TLSConfig{CAFile: ca, ServerName: "example.com"}},
		{name: "server_name not held", tls: TLSConfig{CAFile: ca, ServerName: "kms.invalid"}, wantErr: "set tls.server_name", wantSetup: "set setup_status.tls.server_name"},
		{name: "insecure accepted with a warning", tls: TLSConfig{InsecureSkipVerify: true},
			wantWarned: []string{"tls.insecure_skip_verify", "setup_status.tls.insecure_skip_verify"}},
		{name: "setup_status has its own tls", tls: TLSConfig{CAFile: ca}, setupTLS: &TLSConfig{InsecureSkipVerify: true},
			wantWarned: []string{"setup_status.tls.insecure_skip_verify"}},
		{name: "setup_status's own tls verifies", tls: TLSConfig{InsecureSkipVerify: true}, setupTLS: &TLSConfig{},
			wantSetup: "set setup_status.tls.ca_file", wantWarned: []string{"tls.insecure_skip_verify"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{Name: "kms", Org: org, Type: TypeSCIM, URL: k.URL + "/scim/v2", Token: "scim-token-xyz", TLS: tc.tls,
				SetupStatus: &SetupConfig{URL: k.URL, ClientID: "id", ClientSecret: "client-secret-xyz", TLS: tc.setupTLS}}
			c.SetDefaults()
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			var logs bytes.Buffer
			tg, err := c.Open(nil, zerolog.New(&logs))
			if err != nil {
				t.Fatal(err)
			}
			before := k.conns.Load()
			_, err = tg.Client.Users(context.Background())
			checkErr(t, "users", err, tc.wantErr)
			if tc.wantErr != "" {
				if n := k.conns.Load() - before; n != 1 {
					t.Errorf("a refused certificate was tried %d times, want once (no retry)", n)
				}
				if !strings.Contains(err.Error(), "certificate") {
					t.Errorf("error %q does not say it is the certificate", err)
				}
			}
			_, err = tg.Setup.Memberships(context.Background())
			checkErr(t, "setup status", err, tc.wantSetup)
			if !equalStrings(tg.Insecure, tc.wantWarned) {
				t.Errorf("Insecure = %q, want %q", tg.Insecure, tc.wantWarned)
			}
			for _, k := range tc.wantWarned {
				if !strings.Contains(logs.String(), `"level":"warn"`) || !strings.Contains(logs.String(), k+" is set") {
					t.Errorf("no warning for %s at open; logs:\n%s", k, logs.String())
				}
			}
			if len(tc.wantWarned) == 0 && strings.Contains(logs.String(), "warn") {
				t.Errorf("a warning though TLS is verified:\n%s", logs.String())
			}
			for _, secret := range []string{"scim-token-xyz", "client-secret-xyz"} {
				if strings.Contains(logs.String(), secret) {
					t.Errorf("a secret in the logs:\n%s", logs.String())
				}
			}
		})
	}
}

func checkErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: %v", what, err)
	case want != "" && err == nil:
		t.Errorf("%s: no error, want one with %q", what, want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("%s: error %q does not contain %q", what, err, want)
	}
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, ",") == strings.Join(b, ",")
}

func TestTargetTLSValidate(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		tls      TLSConfig
		setupTLS *TLSConfig
		want     []string
	}{
		{name: "missing ca_file", tls: TLSConfig{CAFile: "/nonexistent/ca.pem"}, want: []string{"tls.ca_file: open /nonexistent/ca.pem"}},
		{name: "ca_file without a certificate", tls: TLSConfig{CAFile: notPEM}, want: []string{"tls.ca_file: " + notPEM + ": no PEM certificate found"}},
		{name: "insecure with ca_file", tls: TLSConfig{CAFile: notPEM, InsecureSkipVerify: true}, want: []string{"tls.insecure_skip_verify: set together", "tls.ca_file"}},
		{name: "setup_status's own", setupTLS: &TLSConfig{CAFile: "/nonexistent/admin.pem"}, want: []string{"setup_status.tls.ca_file: open /nonexistent/admin.pem"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{Name: "kms", Org: org, Type: TypeKMS, URL: "https://kms.example.com", TLS: tc.tls,
				SetupStatus: &SetupConfig{ClientID: "id", TLS: tc.setupTLS}}
			c.SetDefaults()
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate accepted it")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if n := strings.Count(err.Error(), "ca_file:"); n > len(tc.want) {
				t.Errorf("a problem listed twice (the inherited setup_status.tls): %q", err)
			}
		})
	}
}

// A target API that redirects elsewhere is not followed: neither the SCIM
// token nor the login's client secret goes to another origin.
func TestTargetRedirectsStayInOrigin(t *testing.T) {
	var leaked atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := new(bytes.Buffer)
		body.ReadFrom(r.Body)
		if r.Header.Get("Authorization") != "" || strings.Contains(body.String(), "client-secret-xyz") {
			leaked.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer other.Close()
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirecting.Close()
	c := Config{Name: "kms", Org: org, Type: TypeKMS, URL: redirecting.URL, Token: "scim-token-xyz",
		SetupStatus: &SetupConfig{ClientID: "id", ClientSecret: "client-secret-xyz"}}
	c.SetDefaults()
	tg, err := c.Open(nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	_, err = tg.Client.Users(context.Background())
	checkErr(t, "users", err, "redirected to another origin")
	_, err = tg.Setup.Memberships(context.Background())
	checkErr(t, "setup status", err, "redirected to another origin")
	if n := leaked.Load(); n != 0 {
		t.Errorf("%d requests carried a secret to the other origin", n)
	}
	if err != nil && strings.Contains(err.Error(), "client-secret-xyz") {
		t.Errorf("the secret in an error: %v", err)
	}
}
