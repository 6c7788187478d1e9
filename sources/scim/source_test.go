package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
)

// The reconciler's interfaces, asserted here so that the source itself does
// not link the reconciler.
var (
	_ reconciler.Source     = (*Source)(nil)
	_ reconciler.Progresser = (*Source)(nil)
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const testToken = "s3cr3t-t0ken"

// testClock is the fixed time the tests run at.
var testClock = time.Date(2026, 11, 27, 13, 0, 0, 0, time.UTC)

// sleeps records the waits a Source asked for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// newTestSource returns a Source on baseURL with page size 2 and fake
// time; edit adjusts the config first.
func newTestSource(t testing.TB, baseURL string, edit func(*Config)) (*Source, *sleeps) {
	t.Helper()
	retries := 2
	cfg := Config{BaseURL: baseURL, Token: testToken, PageSize: 2, MaxRetries: &retries, Timeout: orgsync.Duration(5 * time.Second)}
	if edit != nil {
		edit(&cfg)
	}
	s, err := New("test", cfg, zerolog.New(zerolog.NewTestWriter(t)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	sl := &sleeps{}
	s.Sleep = sl.sleep
	s.Now = func() time.Time { return testClock }
	s.rand = func(n int64) int64 { return n - 1 } // the longest jitter: deterministic
	return s, sl
}

// checkGolden compares snap with testdata/name.golden.json.
func checkGolden(t *testing.T, name string, snap orgsync.Snapshot) {
	t.Helper()
	got, err := json.MarshalIndent(snap, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("snapshot differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

func TestSnapshot(t *testing.T) {
	roles := map[string]string{"kms admins": orgsync.RoleAdmin, "Engineering": "engineer"}
	tests := []struct {
		name   string // the recording under testdata/
		config func(*Config)
		// golden is the expected snapshot's golden file; "" when an error
		// is expected.
		golden string
		// errs must all appear in the error.
		errs   []string
		kind   error           // errors.Is(err, kind) when set
		sleeps []time.Duration // the exact waits, when set
		// calls: requests expected for a key, when set.
		calls map[string]int
		// before edits the recording.
		before func(*replay)
	}{
		{name: "normal", golden: "normal", config: func(c *Config) { c.RoleMap = roles }, sleeps: []time.Duration{}},
		{name: "items-per-page-echo", golden: "normal", config: func(c *Config) { c.RoleMap = roles }},
		{
			name: "server-caps-count", golden: "normal", config: func(c *Config) { c.RoleMap = roles },
			calls: map[string]int{pageKey("Users", 2, 2, ""): 1, pageKey("Users", 6, 2, ""): 1},
		},
		{
			name: "503-then-ok", golden: "normal", config: func(c *Config) { c.RoleMap = roles },
			// Retry-After first, then backoff: 500ms<<1 = 1s, half of it
			// fixed and the longest jitter.
			sleeps: []time.Duration{7 * time.Second, time.Second},
			calls:  map[string]int{pageKey("Users", 3, 2, ""): 3},
		},
		{
			name: "rate-limited", golden: "normal", config: func(c *Config) { c.RoleMap = roles },
			sleeps: []time.Duration{12 * time.Second, 3 * time.Second},
		},
		{
			name:  "page3-fails",
			errs:  []string{`scim: source "test"`, "GET http://", "/scim/v2/Users?count=2&startIndex=5", "HTTP 500", `"database unavailable"`, "giving up after 3 attempts"},
			calls: map[string]int{pageKey("Users", 5, 2, ""): 3, pageKey("Groups", 1, 2, ""): 0},
			// Backoff without Retry-After: 500ms then 1s, each d/2 + the
			// longest jitter.
			sleeps: []time.Duration{500 * time.Millisecond, time.Second},
		},
		{
			name: "page3-fails", config: func(c *Config) { zero := 0; c.MaxRetries = &zero },
			errs:  []string{"HTTP 500", "giving up after 1 attempts"},
			calls: map[string]int{pageKey("Users", 5, 2, ""): 1}, sleeps: []time.Duration{},
		},
		{
			name: "total-too-high", kind: orgsync.ErrInvalid,
			errs: []string{"/Users?count=2&startIndex=6", "empty page after 5 of the 7 resources announced by totalResults", "refusing a partial"},
		},
		{
			name: "total-too-low", kind: orgsync.ErrInvalid,
			errs: []string{"/Users?count=2&startIndex=5", "5 resources received but totalResults is 4"},
		},
		{
			name: "more-than-total", config: func(c *Config) { c.PageSize = 100 }, kind: orgsync.ErrInvalid,
			errs: []string{"3 resources received but totalResults is 2"},
		},
		{
			name: "ignores-startindex", kind: orgsync.ErrInvalid,
			errs:  []string{"/Users?count=2&startIndex=3", `id "2819c223-7f76-453a-919d-413861904646" came again at startIndex 3`, "ignores startIndex"},
			calls: map[string]int{pageKey("Users", 3, 2, ""): 1, pageKey("Users", 5, 2, ""): 0},
		},
		{name: "ignores-startindex-one-page", golden: "ignores-startindex-one-page"},
		{
			name: "truncated", kind: orgsync.ErrInvalid,
			errs: []string{"/Users?count=2&startIndex=3", "not a SCIM ListResponse", "unexpected end of JSON input"},
		},
		{
			name: "not-a-list", kind: orgsync.ErrInvalid,
			errs: []string{"/Users?count=2&startIndex=1", "not a SCIM ListResponse", "lack urn:ietf:params:scim:api:messages:2.0:ListResponse"},
		},
		{
			name: "unauthorized", kind: orgsync.ErrUnauthorized,
			errs:  []string{"HTTP 401", "refused the token (check scim.token)", "invalid token <redacted>"},
			calls: map[string]int{pageKey("Users", 1, 2, ""): 1}, // never retried
		},
		{
			name: "unauthorized", kind: orgsync.ErrUnauthorized,
			errs: []string{"HTTP 403", "refused the token (check scim.token)"},
			before: func(r *replay) {
				r.rec.Responses["/Users"] = []response{{Status: http.StatusForbidden}}
			},
		},
		{
			name: "total-changes", kind: orgsync.ErrInvalid,
			errs: []string{"/Groups?count=2&startIndex=3", "totalResults changed from 3 to 4"},
		},
		{name: "duplicate-usernames", golden: "duplicate-usernames"},
		{
			name: "group-page-size", golden: "normal",
			config: func(c *Config) { c.RoleMap = roles; c.GroupPageSize = 3 },
			calls:  map[string]int{pageKey("Groups", 1, 3, ""): 1, pageKey("Groups", 4, 3, ""): 1},
		},
		{
			name: "filter-ignored", golden: "filter-ignored",
			config: func(c *Config) { c.UserFilter = "active eq true" },
		},
		{
			name: "filter-ignored", errs: []string{"/scim/v2/Users?count=2&filter=active%20eq%20true&startIndex=1", "HTTP 503"},
			config: func(c *Config) { c.UserFilter = "active eq true"; zero := 0; c.MaxRetries = &zero; c.SkipGroups = true },
			// the error shows the URL as sent
			before: func(r *replay) {
				r.rec.Responses[pageKey("Users", 1, 2, "active eq true")] = []response{{Status: http.StatusServiceUnavailable}}
			},
		},
		{name: "no-groups", errs: []string{"/scim/v2/Groups?count=2&startIndex=1", "HTTP 404", "Resource type Groups not supported", "scim.skip_groups: true"}},
		{
			name: "users-only", golden: "users-only",
			config: func(c *Config) { c.SkipGroups = true; c.IDAttribute = "externalId" },
		},
		{
			name: "normal", golden: "normal-mapped",
			config: func(c *Config) {
				c.UserNameAttribute = "emails"
				c.EmailAttribute = "userName"
				c.DisplayNameAttribute = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"
			},
		},
	}
	for _, tc := range tests {
		label := tc.name
		if tc.golden != "" && tc.golden != tc.name {
			label += "/" + tc.golden
		}
		t.Run(label, func(t *testing.T) {
			srv := newReplay(t, loadRecording(t, tc.name))
			if tc.before != nil {
				tc.before(srv)
			}
			s, sl := newTestSource(t, srv.url(), tc.config)
			var progress []orgsync.Progress
			s.OnProgress(func(p orgsync.Progress) { progress = append(progress, p) })

			snap, err := s.Snapshot(context.Background())

			if tc.golden != "" {
				if err != nil {
					t.Fatalf("Snapshot: %v", err)
				}
				checkGolden(t, tc.golden, snap)
				if len(progress) == 0 {
					t.Error("no progress reported")
				} else if last := progress[len(progress)-1]; last.Users < len(snap.Members) {
					t.Errorf("last progress %+v, snapshot has %d members", last, len(snap.Members))
				}
			} else {
				if err == nil {
					t.Fatalf("Snapshot succeeded with %d members; want an error", len(snap.Members))
				}
				for _, want := range tc.errs {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q\n does not contain %q", err, want)
					}
				}
				if snap.Members != nil || snap.Groups != nil {
					t.Errorf("a failed read returned a snapshot: %+v", snap)
				}
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Errorf("the token leaked into the error: %v", err)
			}
			if tc.kind != nil && !errors.Is(err, tc.kind) {
				t.Errorf("error %v is not %v", err, tc.kind)
			}
			if tc.sleeps != nil {
				if got := sl.all(); !slices.Equal(got, tc.sleeps) && !(len(got) == 0 && len(tc.sleeps) == 0) {
					t.Errorf("waits %v, want %v", got, tc.sleeps)
				}
			}
			for key, n := range tc.calls {
				if got := srv.count(key); got != n {
					t.Errorf("%d requests for %s, want %d (all: %q)", got, key, n, srv.requests())
				}
			}
			for i, a := range srv.auths() {
				if a != "Bearer "+testToken {
					t.Errorf("request %d: Authorization %q", i, a)
				}
			}
		})
	}
}
