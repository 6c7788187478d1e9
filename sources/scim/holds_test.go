package scim

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/scimattr"
)

// listServer serves users and groups as SCIM list responses over real
// HTTP, paged by startIndex and count.
func listServer(t *testing.T, users, groups []string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var all []string
		if i := strings.LastIndex(r.URL.Path, "/Groups/"); i >= 0 {
			// One group by id, as its own GET returns it.
			id := r.URL.Path[i+len("/Groups/"):]
			for _, g := range groups {
				var head struct{ ID any }
				if json.Unmarshal([]byte(g), &head) == nil && head.ID == id {
					w.Header().Set("Content-Type", "application/scim+json")
					w.Write([]byte(g))
					return
				}
			}
			http.NotFound(w, r)
			return
		}
		switch {
		case strings.HasSuffix(r.URL.Path, "/Users"):
			all = users
		case strings.HasSuffix(r.URL.Path, "/Groups"):
			all = groups
		default:
			http.NotFound(w, r)
			return
		}
		start, _ := strconv.Atoi(r.URL.Query().Get("startIndex"))
		count, _ := strconv.Atoi(r.URL.Query().Get("count"))
		from := min(max(start-1, 0), len(all))
		to := min(from+count, len(all))
		w.Header().Set("Content-Type", "application/scim+json")
		json.NewEncoder(w).Encode(map[string]any{
			"schemas":      []string{scimattr.ListResponse},
			"totalResults": len(all),
			"Resources":    json.RawMessage("[" + strings.Join(all[from:to], ",") + "]"),
		})
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/scim/v2"
}

func userJSON(id, userName string, extra ...string) string {
	s := `{"id":"` + id + `","userName":"` + userName + `","emails":[{"value":"` + userName + `","primary":true}]`
	for _, e := range extra {
		s += "," + e
	}
	return s + "}"
}

// TestSnapshotHoldsMalformedEntries: a SCIM entry that cannot be read
// whole (a non-boolean active, no id or userName, a numeric member value,
// a page of groups without members) is held, never left out: left out,
// the reconciler would deprovision its member, remove its memberships or
// delete its group.
func TestSnapshotHoldsMalformedEntries(t *testing.T) {
	users := []string{
		userJSON("u1", "alice@x"),
		userJSON("u2", "bob@x", `"active":"yes"`),
		`{"id":"u3","emails":[{"value":"noname@x"}]}`,
		`{"userName":"carol@x"}`,
		`{"id":"u5","active":false}`,
	}
	groups := []string{
		`{"id":"g1","displayName":"eng","members":[{"value":"u1"},{"value":"u2"}]}`,
		`{"id":"g2","displayName":"empty"}`, // members omitted on a page that has them: empty
		`{"id":"g3","displayName":"ops","members":[{"value":7}]}`,
		`{"id":"g4","displayName":"all","members":[{"value":"g3","type":"Group"},{"value":"u1"}]}`,
		`{"id":"g5","displayName":"late"}`, // alone on its page, without members: its own GET says empty
	}
	base := listServer(t, users, groups)
	s, _ := newTestSource(t, base, func(c *Config) { c.PageSize, c.GroupPageSize = 10, 4 })
	snap, err := s.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var members []string
	for _, m := range snap.Members {
		members = append(members, m.ExternalID+"="+m.UserName)
	}
	if strings.Join(members, " ") != "u1=alice@x" {
		t.Errorf("members = %q, want only alice", members)
	}
	wantUsers := []orgsync.HeldEntry{
		{Key: "u2", Name: "bob@x", Email: "bob@x", Ref: `Users #2 (id "u2", "bob@x")`, Reason: `active is "yes", not a boolean`},
		{Key: "u3", Email: "noname@x", Ref: `Users #3 (id "u3")`, Reason: "no userName"},
		{Name: "carol@x", Ref: "Users #4", Reason: "no id"},
		{Key: "u5", Ref: `Users #5 (id "u5")`, Reason: "no userName", Status: orgsync.StatusDeprovisioned},
	}
	if !reflect.DeepEqual(snap.HeldUsers, wantUsers) {
		t.Errorf("held users:\n got %+v\nwant %+v", snap.HeldUsers, wantUsers)
	}
	wantGroups := []orgsync.HeldEntry{
		{Key: "g3", Name: "ops", Ref: `Groups #3 (id "g3", "ops")`, Reason: "members[0].value is 7, not a member id"},
		{Key: "g4", Name: "all", Ref: `Groups (id "g4")`, Reason: `nests the held group "g3"`},
	}
	if !reflect.DeepEqual(snap.HeldGroups, wantGroups) {
		t.Errorf("held groups:\n got %+v\nwant %+v", snap.HeldGroups, wantGroups)
	}
	var gs []string
	for _, g := range snap.Groups {
		gs = append(gs, g.DisplayName+"="+strings.Join(g.Members, ","))
	}
	if strings.Join(gs, " ") != "eng=u1 empty= late=" {
		t.Errorf("groups = %q, want eng (alice; bob is held) and the two empty groups", gs)
	}

	// What cannot be held fails the read, naming the entry.
	for _, tc := range []struct {
		name          string
		users, groups []string
		roleMap       map[string]string
		want          string
	}{
		{"a user that is not an object", []string{userJSON("u1", "alice@x"), `"u2"`}, nil, nil,
			"Users #2: not a JSON object"},
		{"a user with neither key nor user name", []string{`{"id":"u9","externalId":""}`}, nil, nil,
			`Users #1 (id "u9"): no externalId, and it has no key or user name`},
		{"a group with neither id nor name", []string{userJSON("u1", "alice@x")}, []string{`{"members":[]}`}, nil,
			"Groups #1: no id, and it has no id or displayName"},
		{"a role_map group that is held", []string{userJSON("u1", "alice@x")},
			[]string{`{"id":"g1","displayName":"KMS Admins","members":[{"value":"u1","type":3}]}`}, map[string]string{"kms admins": "admin"},
			`scim.role_map: group "kms admins" is held (Groups #1 (id "g1", "KMS Admins"): members[0].type is 3, not a string)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestSource(t, listServer(t, tc.users, tc.groups), func(c *Config) {
				c.PageSize, c.RoleMap = 10, tc.roleMap
				if tc.name == "a user with neither key nor user name" {
					c.IDAttribute = "externalId"
				}
			})
			snap, err := s.Snapshot(context.Background())
			if err == nil || !errors.Is(err, orgsync.ErrInvalid) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing was synced") {
				t.Fatalf("err = %v, want %q and nothing synced", err, tc.want)
			}
			if len(snap.Members) != 0 {
				t.Errorf("a failed read returned %d members", len(snap.Members))
			}
		})
	}
}
