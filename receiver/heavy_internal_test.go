package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
)

// groupStore is a hand-written fake of the group reads: every org has
// groups g0..g{n-1}, each with size members; tokens name their org.
type groupStore struct {
	OwnerView // the rest is not called
	n         int
	size      int
	fail      string // GroupsMembers fails when it meets this group
}

func (f *groupStore) Authenticate(_ context.Context, token string) (orgsync.Token, error) {
	return orgsync.Token{ID: token, Org: token}, nil
}

func (f *groupStore) group(org string, i int) orgsync.Group {
	return orgsync.Group{ID: fmt.Sprintf("g%d", i), Org: org, DisplayName: fmt.Sprintf("group %d", i), Version: 1}
}

func (f *groupStore) Group(_ context.Context, org, id string, members bool) (orgsync.Group, map[string]orgsync.Member, error) {
	if members {
		return orgsync.Group{}, nil, errors.New("the receiver reads members with GroupsMembers")
	}
	var i int
	if _, err := fmt.Sscanf(id, "g%d", &i); err != nil || i >= f.n {
		return orgsync.Group{}, nil, orgsync.ErrNotFound
	}
	return f.group(org, i), nil, nil
}

func (f *groupStore) Groups(_ context.Context, org string, q orgsync.Query, members bool) ([]orgsync.Group, map[string]orgsync.Member, int, error) {
	if members {
		return nil, nil, 0, errors.New("the receiver reads members with GroupsMembers")
	}
	var out []orgsync.Group
	for i := q.StartIndex - 1; i < f.n && len(out) < q.Count; i++ {
		out = append(out, f.group(org, i))
	}
	return out, nil, f.n, nil
}

// GroupsMembers keeps the store's contract: the leading groups while
// their members fit budget.
func (f *groupStore) GroupsMembers(_ context.Context, org string, ids []string, budget int) (map[string][]orgsync.Member, error) {
	out := map[string][]orgsync.Member{}
	for _, id := range ids {
		if id == f.fail {
			return nil, errors.New("disk on fire")
		}
		if f.size > budget {
			break
		}
		budget -= f.size
		ms := make([]orgsync.Member, f.size)
		for i := range ms {
			ms[i] = orgsync.Member{ID: fmt.Sprintf("%s-m%d", id, i), UserName: fmt.Sprintf("u%d@example.org", i), Status: orgsync.StatusActive}
		}
		out[id] = ms
	}
	return out, nil
}

func (f *groupStore) UpdateGroup(_ context.Context, org, id string, _ int64, _ orgsync.GroupPatch) (orgsync.Group, error) {
	return f.group(org, 1), nil
}

func getJSON(t *testing.T, url, token string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &doc)
	return resp.StatusCode, resp.Header, doc
}

// TestHeavyGroupReadsAreBoundedPerOrg: with every slot of an org taken,
// its group reads with members wait HeavyWait, then get 503 with
// Retry-After; the same read without members, and another org's read with
// members, are served at once.
func TestHeavyGroupReadsAreBoundedPerOrg(t *testing.T) {
	s := New(&groupStore{n: 3, size: 10}, zerolog.Nop(), Options{HeavyPerOrg: 2, HeavyWait: 200 * time.Millisecond})
	srv := httptest.NewServer(s)
	defer srv.Close()
	var releases []func()
	for i := 0; i < 2; i++ {
		release, err := s.heavy.acquire(context.Background(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
	}
	for _, path := range []string{"/Groups", "/Groups/g1"} {
		start := time.Now()
		code, h, doc := getJSON(t, srv.URL+path, "acme")
		if code != 503 || h.Get("Retry-After") == "" || doc["status"] != "503" || time.Since(start) < 150*time.Millisecond {
			t.Fatalf("GET %s with the org's slots taken: %d, Retry-After %q, after %v: %v; want 503 with Retry-After after waiting",
				path, code, h.Get("Retry-After"), time.Since(start), doc)
		}
		if code, _, _ := getJSON(t, srv.URL+path+"?excludedAttributes=members", "acme"); code != 200 {
			t.Fatalf("GET %s without members: %d, want 200", path, code)
		}
		if code, _, _ := getJSON(t, srv.URL+path, "beta"); code != 200 {
			t.Fatalf("GET %s of another org: %d, want 200", path, code)
		}
	}
	// The answer to a write never waits for a slot: the write is done.
	req, _ := http.NewRequest("PUT", srv.URL+"/Groups/g1", strings.NewReader(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"group 1"}`))
	req.Header.Set("Authorization", "Bearer acme")
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT with the org's slots taken: %d, want 200 (the write happened)", resp.StatusCode)
	}
	for _, r := range releases {
		r()
	}
	if code, _, _ := getJSON(t, srv.URL+"/Groups", "acme"); code != 200 {
		t.Fatalf("after the slots are free: %d", code)
	}
}

// TestGroupListMemberCap: members come for the leading groups while they
// fit MaxListMembers, whole or not at all; a single GET has its own cap.
func TestGroupListMemberCap(t *testing.T) {
	s := New(&groupStore{n: 5, size: 40}, zerolog.Nop(), Options{MaxListMembers: 100, MaxGroupMembers: 40})
	srv := httptest.NewServer(s)
	defer srv.Close()
	code, _, doc := getJSON(t, srv.URL+"/Groups", "acme")
	res, _ := doc["Resources"].([]any)
	if code != 200 || len(res) != 5 || doc["itemsPerPage"] != float64(5) || doc["totalResults"] != float64(5) {
		t.Fatalf("list: %d %v", code, doc)
	}
	for i, r := range res {
		ms, has := r.(map[string]any)["members"].([]any)
		if want := i < 2; has != want || (has && len(ms) != 40) {
			t.Fatalf("group %d: members %v (%d); want them for the first two groups only (100 values per list)", i, has, len(ms))
		}
	}
	if _, _, g := getJSON(t, srv.URL+"/Groups/g4", "acme"); len(g["members"].([]any)) != 40 {
		t.Fatalf("GET of one group: %v", g)
	}
	s = New(&groupStore{n: 1, size: 41}, zerolog.Nop(), Options{MaxGroupMembers: 40})
	srv2 := httptest.NewServer(s)
	defer srv2.Close()
	if code, _, g := getJSON(t, srv2.URL+"/Groups/g0", "acme"); code != 200 || g["members"] != nil || g["displayName"] != "group 0" {
		t.Fatalf("GET of a group past MaxGroupMembers: %d %v; want it without members", code, g)
	}
}

// TestGroupListStoreFailure: a failing member read is a 500 before
// anything of the list is sent, never a list without the members.
func TestGroupListStoreFailure(t *testing.T) {
	srv := httptest.NewServer(New(&groupStore{n: 3, size: 2, fail: "g1"}, zerolog.Nop(), Options{}))
	defer srv.Close()
	if code, _, doc := getJSON(t, srv.URL+"/Groups", "acme"); code != 500 || doc["Resources"] != nil {
		t.Fatalf("failing member read: %d %v, want 500", code, doc)
	}
	if code, _, _ := getJSON(t, srv.URL+"/Groups?excludedAttributes=members", "acme"); code != 200 {
		t.Fatalf("the same list without members: %d, want 200", code)
	}
}
