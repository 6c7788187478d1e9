package scim

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
)

// TestTimeoutPerRequest: a server that does not answer within scim.timeout
// is retried, and then the read fails saying so.
func TestTimeoutPerRequest(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	s, sl := newTestSource(t, srv.URL, func(c *Config) { c.Timeout = orgsync.Duration(50 * time.Millisecond) })
	start := time.Now()
	_, err := s.Snapshot(context.Background())
	if err == nil {
		t.Fatal("Snapshot succeeded against a server that never answers")
	}
	for _, want := range []string{"/Users?count=2&startIndex=1", "no complete answer within 50ms (scim.timeout)", "giving up after 3 attempts"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if got := len(sl.all()); got != 2 {
		t.Errorf("%d waits between attempts, want 2", got)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %s for 3 attempts of 50ms", took)
	}
}

// TestTimeoutMidBody: the timeout covers reading the body, not only the
// headers.
func TestTimeoutMidBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,`))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	s, _ := newTestSource(t, srv.URL, func(c *Config) { c.Timeout = orgsync.Duration(50 * time.Millisecond); zero := 0; c.MaxRetries = &zero })
	_, err := s.Snapshot(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no complete answer within 50ms") {
		t.Fatalf("error %v, want a timeout", err)
	}
}

// TestCancel: cancelling ctx stops the read promptly, whether a request is
// in flight or the source is waiting to retry.
func TestCancel(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		real    bool // use the real Sleep
	}{
		{
			name: "in flight",
			handler: func(w http.ResponseWriter, r *http.Request) {
				<-r.Context().Done()
			},
		},
		{
			name: "waiting to retry",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "120")
				w.WriteHeader(http.StatusServiceUnavailable)
			},
			real: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			arrived := make(chan struct{}, 10)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				arrived <- struct{}{}
				tc.handler(w, r)
			}))
			defer srv.Close()
			s, _ := newTestSource(t, srv.URL, func(c *Config) { c.Timeout = orgsync.Duration(time.Minute) })
			if tc.real {
				s.Sleep = defaultSleep
			}
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				<-arrived
				time.Sleep(20 * time.Millisecond)
				cancel()
			}()
			start := time.Now()
			snap, err := s.Snapshot(ctx)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v, want context.Canceled", err)
			}
			if snap.Members != nil {
				t.Errorf("a cancelled read returned members")
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("cancellation took %s", took)
			}
		})
	}
}

// TestNetworkError: a refused connection is retried, then fails the read.
func TestNetworkError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	s, sl := newTestSource(t, "http://"+addr+"/scim/v2", nil)
	_, err = s.Snapshot(context.Background())
	if err == nil {
		t.Fatal("Snapshot succeeded with no server")
	}
	for _, want := range []string{`scim: source "test"`, "/scim/v2/Users", "connection refused", "giving up after 3 attempts"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if n := len(sl.all()); n != 2 {
		t.Errorf("%d waits, want 2", n)
	}
}

// TestLimits: an oversized body and a Retry-After beyond reason fail the
// read with a message that says which limit.
func TestLimits(t *testing.T) {
	rec := loadRecording(t, "normal")
	t.Run("body size", func(t *testing.T) {
		srv := newReplay(t, rec)
		s, _ := newTestSource(t, srv.url(), nil)
		s.maxBody = 1 << 10
		_, err := s.Snapshot(context.Background())
		if err == nil || !strings.Contains(err.Error(), "response body exceeds the 1024 bytes limit") {
			t.Fatalf("error %v, want the size limit", err)
		}
		if n := srv.count(pageKey("Users", 1, 2, "")); n != 1 {
			t.Errorf("an oversized body was retried (%d requests)", n)
		}
	})
	t.Run("max pages", func(t *testing.T) {
		srv := newReplay(t, rec)
		s, _ := newTestSource(t, srv.url(), nil)
		s.maxPages = 2
		_, err := s.Snapshot(context.Background())
		if err == nil || !strings.Contains(err.Error(), "more than 2 pages") {
			t.Fatalf("error %v, want the page limit", err)
		}
	})
	t.Run("retry-after too long", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		}))
		defer srv.Close()
		s, sl := newTestSource(t, srv.URL, nil)
		_, err := s.Snapshot(context.Background())
		if err == nil || !strings.Contains(err.Error(), "server asks to retry after 1h0m0s, more than the 5m0s") {
			t.Fatalf("error %v, want the Retry-After limit", err)
		}
		if len(sl.all()) != 0 {
			t.Errorf("waited %v", sl.all())
		}
	})
}

func TestRetryAfter(t *testing.T) {
	s, _ := newTestSource(t, "http://127.0.0.1:1/scim/v2", nil)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"5", 5 * time.Second},
		{" 17 ", 17 * time.Second},
		{"-3", 0},
		{"soon", 0},
		{testClock.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{testClock.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"Friday, 27-Nov-26 13:00:30 GMT", 30 * time.Second}, // RFC 850, still legal
	}
	for _, tc := range tests {
		t.Run(tc.header, func(t *testing.T) {
			if got := s.retryAfter(tc.header); got != tc.want {
				t.Errorf("retryAfter(%q) = %s, want %s", tc.header, got, tc.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	s, _ := newTestSource(t, "http://127.0.0.1:1/scim/v2", nil)
	for _, tc := range []struct {
		attempt  int
		lo, hi   time.Duration
		jitterLo time.Duration
	}{
		{0, 250 * time.Millisecond, 500 * time.Millisecond, 0},
		{1, 500 * time.Millisecond, time.Second, 0},
		{3, 2 * time.Second, 4 * time.Second, 0},
		{10, 15 * time.Second, 30 * time.Second, 0},
		{60, 15 * time.Second, 30 * time.Second, 0},
	} {
		s.rand = func(n int64) int64 { return 0 }
		if got := s.backoff(tc.attempt); got != tc.lo {
			t.Errorf("backoff(%d) with no jitter = %s, want %s", tc.attempt, got, tc.lo)
		}
		s.rand = func(n int64) int64 { return n - 1 }
		if got := s.backoff(tc.attempt); got != tc.hi {
			t.Errorf("backoff(%d) with the most jitter = %s, want %s", tc.attempt, got, tc.hi)
		}
		s.rand = defaultRand
		for range 20 {
			if got := s.backoff(tc.attempt); got < tc.lo || got > tc.hi {
				t.Errorf("backoff(%d) = %s, outside [%s, %s]", tc.attempt, got, tc.lo, tc.hi)
			}
		}
	}
}

// TestTLS: certificates are verified against scim.ca_file; an unknown
// authority fails unless insecure_skip_verify is set.
func TestTLS(t *testing.T) {
	rec := loadRecording(t, "users-only")
	r := &replay{t: t, rec: rec, used: map[string]int{}}
	srv := httptest.NewUnstartedServer(r)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{"unknown authority", nil, "certificate signed by unknown authority"},
		{"ca_file", func(c *Config) { c.CAFile = caFile }, ""},
		{"insecure_skip_verify", func(c *Config) { c.InsecureSkipVerify = true }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestSource(t, srv.URL+testBase, func(c *Config) {
				c.SkipGroups = true
				zero := 0
				c.MaxRetries = &zero
				if tc.edit != nil {
					tc.edit(c)
				}
			})
			snap, err := s.Snapshot(context.Background())
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Snapshot: %v", err)
				}
				if len(snap.Members) != 4 {
					t.Errorf("%d members, want 4", len(snap.Members))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestTokenFile: the token comes from token_file, one trailing newline
// dropped.
func TestTokenFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := newReplay(t, loadRecording(t, "users-only"))
	s, _ := newTestSource(t, srv.url(), func(c *Config) { c.Token = ""; c.TokenFile = file; c.SkipGroups = true })
	if _, err := s.Snapshot(context.Background()); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	for _, a := range srv.auths() {
		if a != "Bearer "+testToken {
			t.Errorf("Authorization %q", a)
		}
	}
}

// TestRoleMapUnknownGroup: a role_map group that is not read fails the
// read instead of silently taking the role away.
func TestRoleMapUnknownGroup(t *testing.T) {
	srv := newReplay(t, loadRecording(t, "normal"))
	s, _ := newTestSource(t, srv.url(), func(c *Config) { c.RoleMap = map[string]string{"KMS Admins": "admin", "Auditors": "auditor"} })
	_, err := s.Snapshot(context.Background())
	if !errors.Is(err, orgsync.ErrNotFound) || !strings.Contains(err.Error(), `scim.role_map: group "Auditors" is not among the groups read`) {
		t.Fatalf("error %v, want the unknown role_map group", err)
	}
}

// TestInsecureWarns: turning verification off is logged as a warning, and
// the token is not.
func TestInsecureWarns(t *testing.T) {
	var buf strings.Builder
	_, err := New("test", Config{BaseURL: "https://idp.example.com/scim/v2", Token: testToken, InsecureSkipVerify: true},
		zerolog.New(&buf))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"level":"warn"`) || !strings.Contains(buf.String(), "insecure_skip_verify") {
		t.Errorf("no warning logged: %s", buf.String())
	}
	if strings.Contains(buf.String(), testToken) {
		t.Errorf("token logged: %s", buf.String())
	}
}
