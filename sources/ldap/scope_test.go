package ldap

import (
	"slices"
	"testing"
	"time"
)

func TestChangedScope(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	users := func() []user {
		return []user{
			{dn: "uid=a", id: "ka", name: "a", email: "a@x"},
			{dn: "uid=b", id: "kb", name: "b", email: "b@x", extra: &extra{managerDN: "uid=a"}},
			{dn: "uid=c", id: "kc", name: "c", email: "c@x"},
		}
	}
	groups := func() []group {
		return []group{{dn: "cn=g1", id: "g1", name: "g1", vals: []string{"uid=a"}}, {dn: "cn=g2", id: "g2", name: "g2", vals: []string{"uid=c"}}}
	}
	for _, tc := range []struct {
		name        string
		edit        func(u []user, g []group) ([]user, []group)
		until       time.Time
		users, grps []string
		nilScope    bool
	}{
		{"nothing", func(u []user, g []group) ([]user, []group) { return u, g }, time.Time{}, nil, nil, false},
		{"profile", func(u []user, g []group) ([]user, []group) { u[2].family = "new"; return u, g }, time.Time{}, []string{"kc"}, nil, false},
		{"manager's profile reaches the managed", func(u []user, g []group) ([]user, []group) { u[0].display = "A"; return u, g }, time.Time{}, []string{"ka", "kb"}, nil, false},
		{"join", func(u []user, g []group) ([]user, []group) { g[1].vals = append(g[1].vals, "uid=b"); return u, g }, time.Time{}, nil, []string{"g2"}, false},
		{"delete lists every group", func(u []user, g []group) ([]user, []group) { return u[:2], g }, time.Time{}, []string{"kc"}, []string{"g1", "g2"}, false},
		{"re-key lists both keys", func(u []user, g []group) ([]user, []group) { u[2].id = "kc2"; return u, g }, time.Time{}, []string{"kc", "kc2"}, []string{"g1", "g2"}, false},
		{"group deleted", func(u []user, g []group) ([]user, []group) { return u, g[:1] }, time.Time{}, nil, []string{"g2"}, false},
		{"expiry passed", func(u []user, g []group) ([]user, []group) { return u, g }, now.Add(-time.Hour), nil, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nu, ng := tc.edit(users(), groups())
			sc := changedScope(users(), groups(), nu, ng, tc.until, now)
			if tc.nilScope {
				if sc != nil {
					t.Fatalf("scope %+v, want nil", sc)
				}
				return
			}
			if sc == nil {
				t.Fatal("nil scope")
			}
			slices.Sort(sc.Users)
			slices.Sort(sc.Groups)
			if !slices.Equal(sc.Users, tc.users) || !slices.Equal(sc.Groups, tc.grps) {
				t.Fatalf("scope users %q groups %q, want %q %q", sc.Users, sc.Groups, tc.users, tc.grps)
			}
		})
	}
}
