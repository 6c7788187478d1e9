package scim

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/orgsync/orgsync"
)

// FuzzPage feeds arbitrary bodies to the ListResponse parser and the user
// and group mapping: nothing may panic, and whatever comes out must be
// keyed.
func FuzzPage(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var rec recording
		if json.Unmarshal(b, &rec) != nil {
			continue
		}
		for _, answers := range rec.Responses {
			for _, a := range answers {
				if a.Body != nil {
					f.Add([]byte(a.Body))
				}
			}
		}
	}
	f.Add([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"Resources":[null,1,"x",[],{"id":{}}]}`))

	s, _ := newTestSource(f, "http://127.0.0.1:1/scim/v2", func(c *Config) {
		c.UserFilter = `emails[type eq "work" and value ew "@example.org"] or not (active eq false)`
		c.RoleMap = map[string]string{"Engineering": "engineer"}
	})
	expr, _ := filter.ParseFilter([]byte(s.cfg.UserFilter))
	f.Fuzz(func(t *testing.T, body []byte) {
		page, err := parseList(body)
		if err != nil {
			return
		}
		var users []entry[user]
		var groups []entry[scimGroup]
		for i, raw := range page.Resources {
			u := s.decodeUser(raw)
			u.pos = i + 1
			users = append(users, u)
			g := s.decodeGroup(raw)
			g.pos = i + 1
			groups = append(groups, g)
			if obj, err := decodeObject(raw); err == nil {
				mayMatch(expr, obj)
			}
		}
		snap, err := assemble(users, groups, nil, true)
		if err != nil {
			// Only an entry naming nothing fails a read without role_map.
			if !errors.Is(err, orgsync.ErrInvalid) || !strings.Contains(err.Error(), "nothing was synced") {
				t.Fatalf("assemble without role_map: %v", err)
			}
			return
		}
		for _, h := range append(snap.HeldUsers, snap.HeldGroups...) {
			if (h.Key == "" && h.Name == "") || h.Reason == "" {
				t.Fatalf("held entry naming nothing, or without a reason: %+v", h)
			}
		}
		for _, m := range snap.Members {
			if m.ExternalID == "" || m.UserName == "" || !m.Status.Valid() {
				t.Fatalf("member without key, name or status: %+v", m)
			}
		}
		for _, g := range snap.Groups {
			if g.ExternalID == "" || g.DisplayName == "" {
				t.Fatalf("group without key or name: %+v", g)
			}
		}
	})
}
