package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	elimity "github.com/elimity-com/scim"
	elimityerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/scimattr"
)

// The tests below read from a SCIM server built with elimity-com/scim, a
// third-party implementation: its own request parsing (startIndex, count
// capped at maxResults, filter validation and evaluation) and its own
// ListResponse encoding, which echoes the count in itemsPerPage and sends
// "Resources": null on an empty page. The resources are created through its
// POST endpoints, so they are shaped by its schema handling too.

// memHandler is an in-memory elimity ResourceHandler keeping creation order.
type memHandler struct {
	mu    sync.Mutex
	kind  string
	order []string
	data  map[string]elimity.ResourceAttributes
}

func newMemHandler(kind string) *memHandler {
	return &memHandler{kind: kind, data: map[string]elimity.ResourceAttributes{}}
}

func (h *memHandler) resource(id string) elimity.Resource {
	attrs := h.data[id]
	var ext optional.String
	if v, ok := attrs["externalId"].(string); ok {
		ext = optional.NewString(v)
	}
	return elimity.Resource{ID: id, ExternalID: ext, Attributes: attrs}
}

func (h *memHandler) Create(_ *http.Request, attrs elimity.ResourceAttributes) (elimity.Resource, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := fmt.Sprintf("%s-%03d", h.kind, len(h.order)+1)
	h.order = append(h.order, id)
	h.data[id] = attrs
	return h.resource(id), nil
}

func (h *memHandler) Get(_ *http.Request, id string) (elimity.Resource, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.data[id]; !ok {
		return elimity.Resource{}, elimityerrors.ScimErrorResourceNotFound(id)
	}
	return h.resource(id), nil
}

func (h *memHandler) GetAll(_ *http.Request, p elimity.ListRequestParams) (elimity.Page, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var matched []string
	for _, id := range h.order {
		if p.FilterValidator != nil {
			res := map[string]any{"id": id}
			for k, v := range h.data[id] {
				res[k] = v
			}
			if p.FilterValidator.PassesFilter(res) != nil {
				continue
			}
		}
		matched = append(matched, id)
	}
	page := elimity.Page{TotalResults: len(matched)}
	for i := p.StartIndex - 1; i >= 0 && i < len(matched) && i < p.StartIndex-1+p.Count; i++ {
		page.Resources = append(page.Resources, h.resource(matched[i]))
	}
	return page, nil
}

func (h *memHandler) Replace(*http.Request, string, elimity.ResourceAttributes) (elimity.Resource, error) {
	return elimity.Resource{}, errors.New("not used")
}
func (h *memHandler) Delete(*http.Request, string) error { return errors.New("not used") }
func (h *memHandler) Patch(*http.Request, string, []elimity.PatchOperation) (elimity.Resource, error) {
	return elimity.Resource{}, errors.New("not used")
}

// elimityPeer starts the peer with maxResults per page behind bearer-token
// auth and fills it through its own API: users, of whom every fifth is
// inactive, and groups of consecutive users.
func elimityPeer(t *testing.T, maxResults, users, groups int) (base string, userIDs, groupIDs []string, userLists *atomic.Int64) {
	t.Helper()
	srv, err := elimity.NewServer(&elimity.ServerArgs{
		ServiceProviderConfig: &elimity.ServiceProviderConfig{MaxResults: maxResults, SupportFiltering: true},
		ResourceTypes: []elimity.ResourceType{
			{ID: optional.NewString("User"), Name: "User", Endpoint: "/Users", Schema: schema.CoreUserSchema(), Handler: newMemHandler("u")},
			{ID: optional.NewString("Group"), Name: "Group", Endpoint: "/Groups", Schema: schema.CoreGroupSchema(), Handler: newMemHandler("g")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	userLists = new(atomic.Int64)
	auth := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/Users") {
			userLists.Add(1)
		}
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			http.Error(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401"}`, http.StatusUnauthorized)
			return
		}
		http.StripPrefix("/scim", srv).ServeHTTP(w, r)
	})
	hs := httptest.NewServer(auth)
	t.Cleanup(hs.Close)
	base = hs.URL + "/scim/v2"

	post := func(endpoint string, body map[string]any) string {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, base+endpoint, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var created struct{ ID string }
		if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST %s: HTTP %d %v", endpoint, resp.StatusCode, err)
		}
		return created.ID
	}
	for i := range users {
		userIDs = append(userIDs, post("/Users", map[string]any{
			"schemas":    []string{scimattr.User},
			"userName":   fmt.Sprintf("user%02d@example.org", i),
			"externalId": fmt.Sprintf("emp-%02d", i),
			"name":       map[string]any{"givenName": fmt.Sprintf("Given%02d", i), "familyName": "Family"},
			"emails":     []map[string]any{{"value": fmt.Sprintf("user%02d@example.org", i), "type": "work", "primary": true}},
			"active":     i%5 != 4,
		}))
	}
	for g := range groups {
		var members []map[string]any
		for i := g * 3; i < g*3+3 && i < users; i++ {
			members = append(members, map[string]any{"value": userIDs[i]})
		}
		groupIDs = append(groupIDs, post("/Groups", map[string]any{
			"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"displayName": fmt.Sprintf("Team %d", g),
			"members":     members,
		}))
	}
	return base, userIDs, groupIDs, userLists
}

func TestElimityPeer(t *testing.T) {
	const nUsers, nGroups = 25, 4
	base, userIDs, groupIDs, userLists := elimityPeer(t, 10, nUsers, nGroups)
	tests := []struct {
		name      string
		edit      func(*Config)
		wantUsers int
		requests  int64 // GET /Users: the pages plus the one past the total
	}{
		{"pages of 7", func(c *Config) { c.PageSize = 7 }, nUsers, 5},
		{"count above the server's maxResults", func(c *Config) { c.PageSize = 50 }, nUsers, 4},
		{"pages of 1", func(c *Config) { c.PageSize = 1 }, nUsers, 26},
		{"filter applied by the server", func(c *Config) { c.PageSize = 7; c.UserFilter = "active eq true" }, 20, 4},
		{"filter with sw", func(c *Config) { c.PageSize = 7; c.UserFilter = `userName sw "user1"` }, 10, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestSource(t, base, tc.edit)
			before := userLists.Load()
			snap, err := s.Snapshot(context.Background())
			if err != nil {
				t.Fatalf("Snapshot: %v", err)
			}
			if n := userLists.Load() - before; n != tc.requests {
				t.Errorf("%d GET /Users, want %d", n, tc.requests)
			}
			if len(snap.Members) != tc.wantUsers {
				t.Errorf("%d members, want %d", len(snap.Members), tc.wantUsers)
			}
			if len(snap.Groups) != nGroups {
				t.Errorf("%d groups, want %d", len(snap.Groups), nGroups)
			}
			for _, w := range snap.Warnings {
				if strings.Contains(w, "do not match") {
					t.Errorf("the local filter check disagreed with the server: %s", w)
				}
			}
			keys := map[string]bool{}
			for _, m := range snap.Members {
				keys[m.ExternalID] = true
				i := slices.Index(userIDs, m.ExternalID)
				if i < 0 {
					t.Fatalf("member %q is not a user id of the peer", m.ExternalID)
				}
				wantStatus := orgsync.StatusActive
				if i%5 == 4 {
					wantStatus = orgsync.StatusDeprovisioned
				}
				if m.UserName != fmt.Sprintf("user%02d@example.org", i) || m.Email() != m.UserName ||
					m.GivenName != fmt.Sprintf("Given%02d", i) || m.Status != wantStatus {
					t.Errorf("member %d mapped as %+v", i, m)
				}
			}
			for gi, g := range snap.Groups {
				if g.ExternalID != groupIDs[gi] || g.DisplayName != fmt.Sprintf("Team %d", gi) {
					t.Errorf("group %d is %q %q", gi, g.ExternalID, g.DisplayName)
				}
				var want []string
				for i := gi * 3; i < gi*3+3; i++ {
					if keys[userIDs[i]] {
						want = append(want, userIDs[i])
					}
				}
				if !slices.Equal(g.Members, want) {
					t.Errorf("group %q members %q, want %q", g.DisplayName, g.Members, want)
				}
			}
		})
	}

	t.Run("externalId as key", func(t *testing.T) {
		s, _ := newTestSource(t, base, func(c *Config) { c.IDAttribute = "externalId"; c.PageSize = 10 })
		snap, err := s.Snapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if snap.Members[3].ExternalID != "emp-03" || !slices.Equal(snap.Groups[1].Members, []string{"emp-03", "emp-04", "emp-05"}) {
			t.Errorf("members keyed by externalId: %q, group %q", snap.Members[3].ExternalID, snap.Groups[1].Members)
		}
	})

	t.Run("wrong token", func(t *testing.T) {
		s, _ := newTestSource(t, base, func(c *Config) { c.Token = "wrong" })
		_, err := s.Snapshot(context.Background())
		if !errors.Is(err, orgsync.ErrUnauthorized) {
			t.Fatalf("error %v, want ErrUnauthorized", err)
		}
	})
}
