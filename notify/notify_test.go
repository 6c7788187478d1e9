package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
)

// receiver is a local webhook receiver that answers with the statuses
// given, one per request (then 200), and records what it got.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	bodies   [][]byte
	events   []string
	got      chan struct{}
}

func newReceiver(t *testing.T, statuses ...int) (*receiver, *httptest.Server) {
	r := &receiver{statuses: statuses, got: make(chan struct{}, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.events = append(r.events, req.Header.Get("X-Orgsync-Event"))
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "0")
		}
		w.WriteHeader(status)
		r.got <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *receiver) requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

func webhook(name, url string, mod func(*Config)) Config {
	c := Config{Name: name, URL: orgsync.Secret(url)}
	c.SetDefaults()
	c.Backoff, c.MaxBackoff = orgsync.Duration(time.Millisecond), orgsync.Duration(5*time.Millisecond)
	if mod != nil {
		mod(&c)
	}
	return c
}

// logBuffer collects the log lines of several delivery goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func start(t *testing.T, log *logBuffer, cfgs ...Config) *Notifier {
	t.Helper()
	for i := range cfgs {
		if err := cfgs[i].Validate(); err != nil {
			t.Fatalf("config %d: %v", i, err)
		}
	}
	n, err := Open(cfgs, zerolog.New(log))
	if err != nil {
		t.Fatal(err)
	}
	n.Start(context.Background())
	return n
}

func closeNow(n *Notifier) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n.Close(ctx)
}

var (
	t0      = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	blocked = orgsync.Run{ID: 7, Org: "acme", Source: "corp-ldap", StartedAt: t0, FinishedAt: t0.Add(1500 * time.Millisecond),
		Result: orgsync.RunBlocked, Guard: orgsync.Decision{Blocked: true, Reason: "40 deprovisions exceed guard.max_deprovision (25)"},
		Summary: orgsync.Summary{orgsync.ActionDeprovision: 40}}
	failed  = orgsync.Run{ID: 8, Org: "acme", Source: "corp-ldap", Result: orgsync.RunFailed, Error: "ldap: bind: <@channel> & co"}
	forced  = orgsync.Run{ID: 9, Org: "beta", Source: "idp", Result: orgsync.RunApplied, Guard: orgsync.Decision{Forced: true, Reason: "r"}}
	applied = orgsync.Run{ID: 10, Org: "acme", Source: "corp-ldap", Result: orgsync.RunApplied}
)

func TestOutcome(t *testing.T) {
	for run, want := range map[*orgsync.Run]string{&blocked: OnBlocked, &failed: OnFailed, &forced: OnForced, &applied: ""} {
		if got := Outcome(*run); got != want {
			t.Errorf("run %d: Outcome = %q, want %q", run.ID, got, want)
		}
	}
}

func TestJSONBodyOfABlockedRun(t *testing.T) {
	rec, srv := newReceiver(t)
	var log logBuffer
	n := start(t, &log, webhook("ops", srv.URL+"/hook", nil))
	n.Notify(blocked)
	n.Notify(applied) // needs nobody
	closeNow(n)
	if rec.requests() != 1 {
		t.Fatalf("%d requests, want 1", rec.requests())
	}
	var p map[string]any
	if err := json.Unmarshal(rec.bodies[0], &p); err != nil {
		t.Fatal(err)
	}
	if p["event"] != "run.blocked" || p["run_id"] != float64(7) || p["org"] != "acme" || p["source"] != "corp-ldap" ||
		p["result"] != "blocked" || p["duration_ms"] != float64(1500) {
		t.Errorf("body = %s", rec.bodies[0])
	}
	if g, _ := p["guard"].(map[string]any); g["reason"] != blocked.Guard.Reason || g["blocked"] != true {
		t.Errorf("guard = %v", p["guard"])
	}
	if s, _ := p["summary"].(map[string]any); s["deprovision"] != float64(40) {
		t.Errorf("summary = %v", p["summary"])
	}
	if rec.events[0] != "run.blocked" {
		t.Errorf("X-Orgsync-Event = %q", rec.events[0])
	}
}

func TestSlackBody(t *testing.T) {
	rec, srv := newReceiver(t)
	var log logBuffer
	n := start(t, &log, webhook("slack", srv.URL, func(c *Config) { c.Format = FormatSlack }))
	n.Notify(failed)
	closeNow(n)
	if rec.requests() != 1 {
		t.Fatalf("%d requests, want 1", rec.requests())
	}
	var p map[string]string
	if err := json.Unmarshal(rec.bodies[0], &p); err != nil || len(p) != 1 {
		t.Fatalf("body %s: %v", rec.bodies[0], err)
	}
	text := p["text"]
	if !strings.Contains(text, "run 8 of source corp-ldap (org acme) failed") ||
		!strings.Contains(text, "&lt;@channel&gt; &amp; co") || strings.Contains(text, "<@channel>") {
		t.Errorf("text = %q", text)
	}
}

func TestRetriesWithBackoffUntilAccepted(t *testing.T) {
	rec, srv := newReceiver(t, 503, 500, 429)
	var log logBuffer
	n := start(t, &log, webhook("ops", srv.URL, nil))
	n.Notify(blocked)
	closeNow(n)
	if rec.requests() != 4 {
		t.Fatalf("%d requests, want 3 failures and 1 success", rec.requests())
	}
	for i := 1; i < 4; i++ {
		if !bytes.Equal(rec.bodies[i], rec.bodies[0]) {
			t.Errorf("retry %d sent another body", i)
		}
	}
	if !strings.Contains(log.String(), "retrying") || strings.Contains(log.String(), "not delivered") {
		t.Errorf("log: %s", log.String())
	}
}

func TestGivesUp(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int
		attempts int
		want     int
	}{
		{"a 4xx is final", []int{400}, 6, 1},
		{"attempts are bounded", []int{500, 500, 500, 500, 500}, 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, srv := newReceiver(t, tt.statuses...)
			var log logBuffer
			n := start(t, &log, webhook("ops", srv.URL+"/secret-path-token", func(c *Config) { c.Attempts = tt.attempts }))
			n.Notify(failed)
			closeNow(n)
			if rec.requests() != tt.want {
				t.Fatalf("%d requests, want %d", rec.requests(), tt.want)
			}
			if !strings.Contains(log.String(), "not delivered") {
				t.Errorf("the give-up is not logged: %s", log.String())
			}
			if strings.Contains(log.String(), "secret-path-token") || strings.Contains(log.String(), srv.URL) {
				t.Errorf("the log holds the webhook URL: %s", log.String())
			}
		})
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	elsewhere, other := newReceiver(t)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/collect", http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	var log logBuffer
	n := start(t, &log, webhook("ops", redirector.URL, nil))
	n.Notify(blocked)
	closeNow(n)
	if elsewhere.requests() != 0 {
		t.Fatal("the notification followed a redirect to another server")
	}
	if !strings.Contains(log.String(), "answered 307") {
		t.Errorf("log: %s", log.String())
	}
}

func TestUnreachableReceiverKeepsTheURLSecret(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/T000/B000/XXXXsecret"
	srv.Close()
	var log logBuffer
	n := start(t, &log, webhook("ops", url, func(c *Config) { c.Attempts = 2 }))
	n.Notify(blocked)
	closeNow(n)
	if !strings.Contains(log.String(), "not delivered") || strings.Contains(log.String(), "XXXXsecret") {
		t.Errorf("log: %s", log.String())
	}
}

func TestFiltersByOutcomeAndOrg(t *testing.T) {
	rec, srv := newReceiver(t)
	var log logBuffer
	n := start(t, &log,
		webhook("failures-only", srv.URL+"/a", func(c *Config) { c.On = []string{OnFailed} }),
		webhook("beta-only", srv.URL+"/b", func(c *Config) { c.Orgs = []string{"beta"} }),
	)
	n.Notify(blocked) // acme: neither
	n.Notify(failed)  // acme: failures-only
	n.Notify(forced)  // beta: beta-only
	closeNow(n)
	if rec.requests() != 2 {
		t.Fatalf("%d requests, want 2", rec.requests())
	}
	got := strings.Join(rec.events, ",")
	if !strings.Contains(got, "run.failed") || !strings.Contains(got, "run.forced") || strings.Contains(got, "run.blocked") {
		t.Errorf("events = %s", got)
	}
}

func TestNotifyNeverBlocks(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-hang }))
	defer srv.Close()
	defer close(hang)
	var log logBuffer
	n := start(t, &log, webhook("slow", srv.URL, nil))
	done := make(chan struct{})
	go func() {
		for i := 0; i < queueSize+10; i++ {
			n.Notify(blocked)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Notify blocked on a receiver that does not answer")
	}
	if !strings.Contains(log.String(), "queue is full") {
		t.Error("dropped notifications are not logged")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	n.Close(ctx) // gives up at ctx's end
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "3": 3 * time.Second, "-1": 0, "soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
	} {
		if got := retryAfter(in, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want []string
	}{
		{"valid", func(*Config) {}, nil},
		{"nothing", func(c *Config) { *c = Config{}; c.SetDefaults() }, []string{"name: required", "url: required"}},
		{"both url forms", func(c *Config) { c.URLFile = "/run/secrets/hook" }, []string{"url and url_file"}},
		{"not http", func(c *Config) { c.URL = "ftp://x/y" }, []string{"url: not an absolute http or https URL"}},
		{"every bad value", func(c *Config) {
			c.Format, c.On, c.Attempts, c.Backoff, c.MaxBackoff = "xml", []string{"applied"}, 0, orgsync.Duration(time.Minute), orgsync.Duration(time.Second)
		}, []string{"format", "on: \"applied\"", "attempts", "backoff"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{Name: "x", URL: "https://hooks.example.org/secret123"}
			c.SetDefaults()
			tt.mod(&c)
			// The URL is Open's to read: its problems are listed with Validate's.
			_, openErr := Open([]Config{c}, zerolog.Nop())
			err := errors.Join(c.Validate(), openErr)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "secret123") {
				t.Errorf("the error repeats the URL: %v", err)
			}
		})
	}
}
