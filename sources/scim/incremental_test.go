package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
)

// stampServer is a small SCIM provider over HTTP: users and groups with
// meta.lastModified, paged lists, the filter `meta.lastModified gt "T"`,
// attributes=id, and a ServiceProviderConfig saying whether it filters.
type stampServer struct {
	mu      sync.Mutex
	filter  bool
	users   map[string]map[string]any
	groups  map[string]map[string]any
	stamps  map[string]time.Time
	n       int
	queries []string
}

var gtFilter = regexp.MustCompile(`^meta\.lastModified gt "([^"]+)"$`)

func newStampServer(t *testing.T) (*stampServer, string) {
	p := &stampServer{filter: true, users: map[string]map[string]any{}, groups: map[string]map[string]any{}, stamps: map[string]time.Time{}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

func (p *stampServer) user(id, name, display string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.users[id] = map[string]any{"id": id, "userName": name, "displayName": display, "active": true,
		"emails": []any{map[string]any{"value": name, "primary": true}}}
	p.stamps[id] = time.Now()
}

func (p *stampServer) group(id, name string, members ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ms := []any{}
	for _, m := range members {
		ms = append(ms, map[string]any{"value": m})
	}
	p.groups[id] = map[string]any{"id": id, "displayName": name, "members": ms}
	p.stamps[id] = time.Now()
}

// remove deletes a user without touching the groups naming it, as some
// providers do.
func (p *stampServer) remove(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.users, id)
	for _, g := range p.groups {
		ms := g["members"].([]any)
		kept := []any{}
		for _, m := range ms {
			if m.(map[string]any)["value"] != id {
				kept = append(kept, m)
			}
		}
		g["members"] = kept
	}
}

func (p *stampServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w.Header().Set("Content-Type", "application/scim+json")
	path := strings.TrimPrefix(r.URL.Path, "/")
	if path == "ServiceProviderConfig" {
		json.NewEncoder(w).Encode(map[string]any{"filter": map[string]any{"supported": p.filter, "maxResults": 100}})
		return
	}
	var set map[string]map[string]any
	switch {
	case path == "Users":
		set = p.users
	case path == "Groups":
		set = p.groups
	case strings.HasPrefix(path, "Groups/"):
		g, ok := p.groups[strings.TrimPrefix(path, "Groups/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(g)
		return
	default:
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	p.queries = append(p.queries, path+"?"+q.Get("filter")+"&"+q.Get("attributes"))
	var after time.Time
	if f := q.Get("filter"); f != "" {
		m := gtFilter.FindStringSubmatch(f)
		if m == nil {
			http.Error(w, "unsupported filter", http.StatusBadRequest)
			return
		}
		after, _ = time.Parse(time.RFC3339, m[1])
	}
	var ids []string
	for id := range set {
		if p.stamps[id].After(after) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	start, _ := strconv.Atoi(q.Get("startIndex"))
	count, _ := strconv.Atoi(q.Get("count"))
	res := []any{}
	for i := start - 1; i >= 0 && i < len(ids) && len(res) < count; i++ {
		if q.Get("attributes") == "id" {
			res = append(res, map[string]any{"id": ids[i]})
			continue
		}
		res = append(res, set[ids[i]])
	}
	json.NewEncoder(w).Encode(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
		"totalResults": len(ids), "Resources": res})
}

func stampSource(t *testing.T, url string) *Source {
	t.Helper()
	s, err := New("idp", Config{BaseURL: url, Token: testToken, PageSize: 3}, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSCIMIncremental: with filter support, reads after the first ask for
// what changed since the cursor plus a keys-only listing, and give exactly
// the Snapshot a full read gives; without it, or with a cursor the
// provider's clock is behind, they read in full.
func TestSCIMIncremental(t *testing.T) {
	ctx := context.Background()
	p, url := newStampServer(t)
	for i := 1; i <= 7; i++ {
		p.user(fmt.Sprintf("u%d", i), fmt.Sprintf("user%d@example.org", i), fmt.Sprintf("User %d", i))
	}
	p.group("g1", "engineering", "u1", "u2", "u3")
	p.group("g2", "sales", "u4", "g1")
	s := stampSource(t, url)
	from := func(prev orgsync.Cursor, skip bool) (orgsync.Snapshot, orgsync.Cursor, orgsync.Read) {
		t.Helper()
		snap, next, read, err := s.SnapshotFrom(ctx, reconciler.ReadRequest{Prev: prev, SkipUnchanged: skip})
		if err != nil {
			t.Fatal(err)
		}
		return snap, next, read
	}
	full := func() string {
		t.Helper()
		snap, err := s.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return jsonOf(t, snap)
	}

	snap, c1, read := from(orgsync.Cursor{}, false)
	if read.Kind != orgsync.ReadFull || c1.Position == "" || len(c1.State) == 0 {
		t.Fatalf("first read: %+v, cursor %+v", read, c1)
	}
	if jsonOf(t, snap) != full() {
		t.Fatal("the first read differs from Snapshot")
	}

	snap, _, read = from(c1, false)
	if read.Kind != orgsync.ReadIncremental || read.Reason != "nothing changed since the cursor" || jsonOf(t, snap) != full() {
		t.Fatalf("unchanged: read %+v", read)
	}
	if _, _, read = from(c1, true); !read.Unchanged {
		t.Fatalf("unchanged, allowed to skip: read %+v", read)
	}

	p.user("u2", "user2@example.org", "User Two") // changed
	p.remove("u5")                                // gone, groups untouched
	p.user("u8", "user8@example.org", "User 8")   // new
	p.group("g1", "engineering", "u1", "u3", "u8")
	p.queries = nil
	snap, c2, read := from(c1, true)
	if read.Kind != orgsync.ReadIncremental || read.Changed == 0 || read.Listed != 9 || read.Unchanged {
		t.Fatalf("after edits: read %+v", read)
	}
	if got, want := jsonOf(t, snap), full(); got != want {
		t.Fatalf("incremental snapshot differs from the full one:\n got %s\nwant %s", got, want)
	}
	if len(c2.State) == 0 || c2.Position < c1.Position {
		t.Fatalf("cursor after edits: %+v", c2)
	}
	asked := strings.Join(p.queries, " ")
	if !strings.Contains(asked, `Users?meta.lastModified gt "`+c1.Position+`"&`) || !strings.Contains(asked, "Users?&id") {
		t.Fatalf("queries: %s", asked)
	}

	future := c2
	future.Position = time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	snap, _, read = from(future, false)
	if read.Kind != orgsync.ReadFull || !strings.Contains(read.Reason, "behind the stored cursor") || !strings.Contains(strings.Join(snap.Warnings, " "), "read in full") {
		t.Fatalf("cursor ahead of the provider: read %+v, warnings %q", read, snap.Warnings)
	}

	p.filter = false
	if _, _, read = from(c2, false); read.Kind != orgsync.ReadFull || !strings.Contains(read.Reason, "filter support") {
		t.Fatalf("no filter support: read %+v", read)
	}
}
