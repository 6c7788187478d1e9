package scim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/scimattr"
)

// usersServer serves n users on pages of the requested count (no groups),
// announcing total as totalResults (n when total < 0).
func usersServer(t *testing.T, n, total int) *httptest.Server {
	if total < 0 {
		total = n
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start, _ := strconv.Atoi(r.URL.Query().Get("startIndex"))
		count, _ := strconv.Atoi(r.URL.Query().Get("count"))
		var res []string
		for i := start; i < start+count && i <= n; i++ {
			res = append(res, fmt.Sprintf(`{"id":"u%d","userName":"u%d@example.org","active":true}`, i, i))
		}
		w.Header().Set("Content-Type", "application/scim+json")
		fmt.Fprintf(w, `{"schemas":["%s"],"totalResults":%d,"Resources":[%s]}`, scimattr.ListResponse, total, strings.Join(res, ","))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestReadLimits: more resources than scim.max_entries (announced or sent)
// and a body over scim.max_response_bytes fail the read naming the
// setting; nothing is returned.
func TestReadLimits(t *testing.T) {
	endless := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		w.Write([]byte(`{"schemas":["` + scimattr.ListResponse + `"],"totalResults":1,"Resources":[{"id":"x","userName":"`))
		chunk := []byte(strings.Repeat("a", 32<<10))
		for i := 0; i < 1<<10; i++ { // up to 32 MiB, unless the client stops reading
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	t.Cleanup(endless.Close)

	for _, tc := range []struct {
		name string
		url  string
		edit func(*Config)
		want []string // empty: the read succeeds
	}{
		{"resources over the cap", usersServer(t, 7, 5).URL, func(c *Config) { c.MaxEntries = 5 },
			[]string{"more than 5 resources", "scim.max_entries", "nothing was synced"}},
		{"totalResults over the cap", usersServer(t, 7, -1).URL, func(c *Config) { c.MaxEntries = 5 },
			[]string{"totalResults 7 is over scim.max_entries (5"}},
		{"resources at the cap", usersServer(t, 5, -1).URL, func(c *Config) { c.MaxEntries = 5 }, nil},
		{"a body over the cap", endless.URL, func(c *Config) { c.MaxResponseBytes = 64 << 10 },
			[]string{"response body exceeds the 65536 bytes limit of scim.max_response_bytes", "nothing was synced"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestSource(t, tc.url, func(c *Config) {
				c.SkipGroups = true
				if tc.edit != nil {
					tc.edit(c)
				}
			})
			snap, err := s.Snapshot(context.Background())
			if len(tc.want) == 0 {
				if err != nil || len(snap.Members) != 5 {
					t.Fatalf("Snapshot: %d members, %v", len(snap.Members), err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Snapshot = %d members, no error", len(snap.Members))
			}
			if len(snap.Members) != 0 {
				t.Errorf("a refused read returned %d members", len(snap.Members))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestReadLimitsValidated(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.MaxEntries = -1 }, "scim.max_entries: must be between 1 and"},
		{func(c *Config) { c.MaxEntries = maxMaxEntries + 1 }, "scim.max_entries"},
		{func(c *Config) { c.MaxResponseBytes = 1000 }, "scim.max_response_bytes: must be between 4096"},
		{func(c *Config) { c.MaxResponseBytes = 2 << 30 }, "scim.max_response_bytes"},
	} {
		c := Config{BaseURL: "https://idp.example.org/scim/v2", Token: testToken}
		c.SetDefaults()
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, orgsync.ErrInvalid) {
			t.Errorf("Validate = %v, want %q", err, tc.want)
		}
	}
	c := Config{}
	c.SetDefaults()
	if c.MaxEntries != DefaultMaxEntries || c.MaxResponseBytes != 64<<20 {
		t.Errorf("defaults: %d entries, %d bytes", c.MaxEntries, c.MaxResponseBytes)
	}
	// The source enforces the configured body limit (the default when unset).
	for _, want := range []int64{64 << 20, 1 << 20} {
		s, _ := newTestSource(t, "https://idp.example.org/scim/v2", func(c *Config) {
			if want != 64<<20 {
				c.MaxResponseBytes = want
			}
		})
		if s.maxBody != want {
			t.Errorf("maxBody = %d, want %d", s.maxBody, want)
		}
	}
}
