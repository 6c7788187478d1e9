package targets

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	elimity "github.com/elimity-com/scim"
	elimityerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"

	"github.com/orgsync/orgsync"
)

// The target run against a SCIM server built on elimity-com/scim, a
// third-party implementation: its request parsing, PATCH validation and
// list encoding, with an in-memory handler of ours behind it.

type elimityStore struct {
	mu    sync.Mutex
	kind  string // "u" or "g"
	key   string // userName or displayName: unique
	order []string
	data  map[string]elimity.ResourceAttributes
	n     int
}

func (h *elimityStore) res(id string) elimity.Resource {
	return elimity.Resource{ID: id, Attributes: h.data[id]}
}

func (h *elimityStore) Create(_ *http.Request, a elimity.ResourceAttributes) (elimity.Resource, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range h.order {
		if strings.EqualFold(fmt.Sprint(h.data[id][h.key]), fmt.Sprint(a[h.key])) {
			return elimity.Resource{}, elimityerrors.ScimErrorUniqueness
		}
	}
	h.n++
	id := fmt.Sprintf("%s-%d", h.kind, h.n)
	h.order = append(h.order, id)
	h.data[id] = a
	return h.res(id), nil
}

func (h *elimityStore) Get(_ *http.Request, id string) (elimity.Resource, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.data[id] == nil {
		return elimity.Resource{}, elimityerrors.ScimErrorResourceNotFound(id)
	}
	return h.res(id), nil
}

func (h *elimityStore) GetAll(_ *http.Request, p elimity.ListRequestParams) (elimity.Page, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []string
	for _, id := range h.order {
		if p.FilterValidator != nil {
			r := map[string]any{"id": id}
			for k, v := range h.data[id] {
				r[k] = v
			}
			if p.FilterValidator.PassesFilter(r) != nil {
				continue
			}
		}
		ids = append(ids, id)
	}
	page := elimity.Page{TotalResults: len(ids)}
	for i := p.StartIndex - 1; i >= 0 && i < len(ids) && i < p.StartIndex-1+p.Count; i++ {
		page.Resources = append(page.Resources, h.res(ids[i]))
	}
	return page, nil
}

func (h *elimityStore) Replace(_ *http.Request, id string, a elimity.ResourceAttributes) (elimity.Resource, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.data[id] == nil {
		return elimity.Resource{}, elimityerrors.ScimErrorResourceNotFound(id)
	}
	h.data[id] = a
	return h.res(id), nil
}

func (h *elimityStore) Delete(_ *http.Request, id string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.data[id] == nil {
		return elimityerrors.ScimErrorResourceNotFound(id)
	}
	delete(h.data, id)
	for i, o := range h.order {
		if o == id {
			h.order = append(h.order[:i], h.order[i+1:]...)
			break
		}
	}
	return nil
}

// Patch applies the operations the target sends: replace of top-level
// attributes, add and remove of members by value.
func (h *elimityStore) Patch(_ *http.Request, id string, ops []elimity.PatchOperation) (elimity.Resource, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	a := h.data[id]
	if a == nil {
		return elimity.Resource{}, elimityerrors.ScimErrorResourceNotFound(id)
	}
	for _, op := range ops {
		switch {
		case op.Op == "replace" && op.Path == nil:
			for k, v := range op.Value.(map[string]any) {
				a[k] = v
			}
		case op.Path != nil && op.Path.AttributePath.AttributeName == "members":
			cur, _ := a["members"].([]any)
			vals, _ := op.Value.([]any)
			for _, v := range vals {
				ref := v.(map[string]any)["value"]
				kept := cur[:0:0]
				for _, m := range cur {
					if m.(map[string]any)["value"] != ref {
						kept = append(kept, m)
					}
				}
				cur = kept
				if op.Op == "add" {
					cur = append(cur, map[string]any{"value": ref})
				}
			}
			a["members"] = cur
		default:
			return elimity.Resource{}, elimityerrors.ScimErrorInvalidPath
		}
	}
	return h.res(id), nil
}

func elimityTarget(t *testing.T) (string, *elimityStore, *elimityStore) {
	t.Helper()
	users := &elimityStore{kind: "u", key: "userName", data: map[string]elimity.ResourceAttributes{}}
	groups := &elimityStore{kind: "g", key: "displayName", data: map[string]elimity.ResourceAttributes{}}
	srv, err := elimity.NewServer(&elimity.ServerArgs{
		ServiceProviderConfig: &elimity.ServiceProviderConfig{MaxResults: 7, SupportFiltering: true, SupportPatch: true},
		ResourceTypes: []elimity.ResourceType{
			{ID: optional.NewString("User"), Name: "User", Endpoint: "/Users", Schema: schema.CoreUserSchema(), Handler: users},
			{ID: optional.NewString("Group"), Name: "Group", Endpoint: "/Groups", Schema: schema.CoreGroupSchema(), Handler: groups},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer scim-token-0123456789" {
			http.Error(w, `{"status":"401"}`, http.StatusUnauthorized)
			return
		}
		http.StripPrefix("/scim/v2", srv).ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return hs.URL + "/scim/v2", users, groups
}

func TestTargetAgainstElimity(t *testing.T) {
	st := newStore(t)
	h := newHR(t, st, 20, 3)
	url, users, groups := elimityTarget(t)
	tg := openTarget(t, st, newFake(t, kmsfakeOptions()), func(c *Config) {
		c.Type, c.URL, c.SetupStatus = TypeSCIM, url, nil
		c.PageSize = 50 // above the server's maxResults of 7: it pages by its own
	})
	run(t, tg)
	if len(users.order) != 20 || len(groups.order) != 3 {
		t.Fatalf("%d users, %d groups in the peer; want 20 and 3", len(users.order), len(groups.order))
	}
	if p := plan(t, tg); !p.Plan.Empty() {
		t.Fatalf("plan after the first push: %+v", p.Plan.Changes)
	}
	// Disable one, move one out of its group, rename a user's given name.
	h.disable(5)
	g := &h.src.snap.Groups[1]
	g.Members = g.Members[1:]
	h.src.snap.Members[7].GivenName = "Renamed"
	h.sync()
	rep := run(t, tg)
	c := rep.Applied.Counts
	if c[orgsync.ActionDeprovision] != 1 || c[orgsync.ActionMemberRemove] != 1 || c[orgsync.ActionUpdate] != 1 {
		t.Fatalf("applied %v", c)
	}
	var suspended int
	for _, id := range users.order {
		if users.data[id]["active"] == false {
			suspended++
		}
	}
	if suspended != 1 {
		t.Fatalf("%d suspended in the peer, want 1", suspended)
	}
	if p := plan(t, tg); !p.Plan.Empty() {
		t.Fatalf("plan after converging: %+v", p.Plan.Changes)
	}
	// Lost links are rebuilt from the peer's names: nothing is created twice.
	st.DB().Exec(`DELETE FROM target_links`)
	run(t, tg)
	if len(users.order) != 20 || len(groups.order) != 3 {
		t.Fatalf("after losing the links: %d users, %d groups", len(users.order), len(groups.order))
	}
	if _, err := tg.Plan(context.Background(), base, tg.Guard); err != nil {
		t.Fatal(err)
	}
}
