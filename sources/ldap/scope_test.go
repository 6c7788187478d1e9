package ldap

import (
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
)

// TestChangedScope: the scope of an incremental read names every user
// and group whose part of the Snapshot differs from the stored state's,
// however the change reaches it (nesting, role_map, require_group, a
// manager's name), and nothing else; nil when it cannot tell.
func TestChangedScope(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	users := func() []user {
		return []user{
			{dn: "uid=a", id: "ka", name: "a", email: "a@x", display: "A"},
			{dn: "uid=b", id: "kb", name: "b", email: "b@x", extra: &extra{managerDN: "uid=a"}},
			{dn: "uid=c", id: "kc", name: "c", email: "c@x"},
			{dn: "uid=d", id: "kd", name: "d", email: "d@x"},
		}
	}
	// admins nests team, which holds d; everyone holds a, b, c and admins.
	groups := func() []group {
		return []group{
			{dn: "cn=g1", id: "g1", name: "g1", vals: []string{"uid=a"}},
			{dn: "cn=g2", id: "g2", name: "g2", vals: []string{"uid=c"}},
			{dn: "cn=team", id: "team", name: "team", vals: []string{"uid=d"}},
			{dn: "cn=admins", id: "admins", name: "admins", vals: []string{"cn=team"}},
			{dn: "cn=everyone", id: "everyone", name: "everyone", vals: []string{"uid=a", "uid=b", "uid=c", "cn=admins"}},
		}
	}
	cfg := Config{URL: "ldap://x", User: UserConfig{BaseDN: "dc=x"}, Group: GroupConfig{BaseDN: "dc=x", Nested: true},
		RoleMap: map[string]string{"cn=admins": orgsync.RoleAdmin}, RequireGroup: "cn=everyone"}
	s, err := New("scope", cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	snapshot := func(u []user, g []group) ([]user, []group) {
		t.Helper()
		r := newReader(s, nil)
		r.now = now
		r.users, r.groups = u, g
		if _, err := r.snapshot(); err != nil {
			t.Fatal(err)
		}
		return r.users, r.groups
	}
	type edit func(u []user, g []group) ([]user, []group)
	for _, tc := range []struct {
		name        string
		edit        edit
		until       time.Time
		users, grps []string
		nilScope    bool
	}{
		{"nothing", func(u []user, g []group) ([]user, []group) { return u, g }, time.Time{}, nil, nil, false},
		{"profile", func(u []user, g []group) ([]user, []group) { u[2].family = "new"; return u, g }, time.Time{}, []string{"kc"}, nil, false},
		{"manager's name reaches the managed", func(u []user, g []group) ([]user, []group) { u[0].display = "A2"; return u, g }, time.Time{}, []string{"ka", "kb"}, nil, false},
		{"join", func(u []user, g []group) ([]user, []group) { g[1].vals = append(g[1].vals, "uid=b"); return u, g }, time.Time{}, nil, []string{"g2"}, false},
		{"user deleted", func(u []user, g []group) ([]user, []group) { return append(u[:2], u[3]), g }, time.Time{}, []string{"kc"}, []string{"everyone", "g2"}, false},
		{"re-key lists both keys", func(u []user, g []group) ([]user, []group) { u[2].id = "kc2"; return u, g }, time.Time{}, []string{"kc", "kc2"}, []string{"everyone", "g2"}, false},
		{"group deleted", func(u []user, g []group) ([]user, []group) { return u, append(g[:1], g[2:]...) }, time.Time{}, nil, []string{"g2"}, false},
		{"nested group deleted", func(u []user, g []group) ([]user, []group) { return u, append(g[:2], g[3:]...) }, time.Time{}, []string{"kd"}, []string{"admins", "team"}, false},
		{"role through a nested group", func(u []user, g []group) ([]user, []group) {
			g[2].vals = append(g[2].vals, "uid=c") // c joins team: admin by role_map
			return u, g
		}, time.Time{}, []string{"kc"}, []string{"team"}, false},
		{"role lost by unnesting", func(u []user, g []group) ([]user, []group) {
			g[3].vals = nil // team leaves admins: d is neither admin nor required
			return u, g
		}, time.Time{}, []string{"kd"}, []string{"admins", "team"}, false},
		{"require_group reached", func(u []user, g []group) ([]user, []group) {
			u = append(u, user{dn: "uid=e", id: "ke", name: "e", email: "e@x"}) // e exists, out of everyone
			return u, g
		}, time.Time{}, nil, nil, false},
		{"disabled", func(u []user, g []group) ([]user, []group) { u[3].filterOff = true; return u, g }, time.Time{}, []string{"kd"}, nil, false},
		{"expiry passed", func(u []user, g []group) ([]user, []group) { return u, g }, now.Add(-time.Hour), nil, nil, true},
		{"held without a key", func(u []user, g []group) ([]user, []group) { u[1].id, u[1].held = "", "no entryUUID"; return u, g }, time.Time{}, nil, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ou, og := snapshot(users(), groups())
			nu, ng := tc.edit(users(), groups())
			nu, ng = snapshot(nu, ng)
			sc := changedScope(newStateBase(nil, ou, og), nu, ng, tc.until, now)
			if tc.nilScope {
				if sc != nil {
					t.Fatalf("scope %+v, want nil", sc)
				}
				return
			}
			if sc == nil {
				t.Fatal("nil scope")
			}
			if !slices.Equal(sc.Users, tc.users) || !slices.Equal(sc.Groups, tc.grps) {
				t.Fatalf("scope users %q groups %q, want %q %q", sc.Users, sc.Groups, tc.users, tc.grps)
			}
		})
	}
}
