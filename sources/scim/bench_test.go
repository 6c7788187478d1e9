package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync/internal/scimattr"
)

// benchUsers returns n SCIM users shaped like an IdP's.
func benchUsers(n int) []map[string]any {
	users := make([]map[string]any, n)
	for i := range users {
		id := fmt.Sprintf("%08x-7f76-453a-919d-%012x", i, i)
		users[i] = map[string]any{
			"schemas":     []string{scimattr.User},
			"id":          id,
			"externalId":  fmt.Sprintf("ext-%d", i),
			"userName":    fmt.Sprintf("user%d@example.org", i),
			"name":        map[string]any{"givenName": "Given" + strconv.Itoa(i), "familyName": "Family", "formatted": "Given Family"},
			"displayName": "Given Family " + strconv.Itoa(i),
			"emails": []map[string]any{
				{"value": fmt.Sprintf("user%d@example.org", i), "type": "work", "primary": true},
				{"value": fmt.Sprintf("user%d@home.example", i), "type": "home"},
			},
			"active": i%10 != 0,
			"meta": map[string]any{"resourceType": "User", "created": "2026-01-05T10:00:00Z",
				"lastModified": "2026-03-01T08:30:00Z", "location": "https://idp.example.com/scim/v2/Users/" + id},
		}
	}
	return users
}

func listBody(b testing.TB, items []map[string]any, start, total int) []byte {
	body, err := json.Marshal(map[string]any{
		"schemas": []string{scimattr.ListResponse}, "totalResults": total, "startIndex": start,
		"itemsPerPage": len(items), "Resources": items,
	})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkDecodeUsers10k decodes one ListResponse of 10,000 users into
// members, without HTTP.
func BenchmarkDecodeUsers10k(b *testing.B) {
	body := listBody(b, benchUsers(10_000), 1, 10_000)
	s, _ := newTestSource(b, "http://127.0.0.1:1/scim/v2", nil)
	s.log = zerolog.Nop()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		page, err := parseList(body)
		if err != nil {
			b.Fatal(err)
		}
		for _, raw := range page.Resources {
			if e := s.decodeUser(raw); e.skip != "" {
				b.Fatal(e.skip)
			}
		}
	}
}

// BenchmarkSnapshot10k reads 10,000 users (pages of 100) and 100 groups of
// 100 members from an in-process server.
func BenchmarkSnapshot10k(b *testing.B) {
	const nUsers, nGroups, pageSize = 10_000, 100, 100
	users := benchUsers(nUsers)
	groups := make([]map[string]any, nGroups)
	for g := range groups {
		var members []map[string]any
		for i := g * 100; i < (g+1)*100; i++ {
			members = append(members, map[string]any{"value": users[i]["id"], "type": "User"})
		}
		groups[g] = map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"id": fmt.Sprintf("g%d", g), "displayName": fmt.Sprintf("Group %d", g), "members": members}
	}
	pages := map[string][]byte{}
	for _, l := range []struct {
		ep    string
		items []map[string]any
	}{{"Users", users}, {"Groups", groups}} {
		for start := 1; start <= len(l.items)+1; start += pageSize {
			end := min(start-1+pageSize, len(l.items))
			pages[pageKey(l.ep, start, pageSize, "")] = listBody(b, l.items[start-1:end], start, len(l.items))
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Path[len(testBase):] + "?" + r.URL.Query().Encode()
		body, ok := pages[key]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/scim+json")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	s, _ := newTestSource(b, srv.URL+testBase, func(c *Config) { c.PageSize = pageSize })
	s.log = zerolog.Nop()
	b.ReportAllocs()
	for b.Loop() {
		snap, err := s.Snapshot(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if len(snap.Members) != nUsers || len(snap.Groups) != nGroups {
			b.Fatalf("%d members, %d groups", len(snap.Members), len(snap.Groups))
		}
	}
}
