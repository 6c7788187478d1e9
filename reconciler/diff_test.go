package reconciler

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/orgsync/orgsync"
)

const (
	active  = orgsync.StatusActive
	pending = orgsync.StatusPendingSetup
	deprov  = orgsync.StatusDeprovisioned
)

func TestDiff(t *testing.T) {
	tests := []struct {
		name     string
		desired  orgsync.Snapshot
		observed orgsync.Snapshot
		opts     *Options
		want     []string
	}{
		{
			name: "nothing on either side",
		},
		{
			name:    "provision enabled users with the default role, pending setup",
			desired: orgsync.Snapshot{Members: []orgsync.Member{desiredUser("k2", "bob@x"), desiredUser("k1", "alice@x", role("admin"))}},
			want: []string{
				"provision alice@x key=k1 role=admin status=pending_setup",
				"provision bob@x key=k2 role=member status=pending_setup",
			},
		},
		{
			name:    "default role from options",
			desired: orgsync.Snapshot{Members: []orgsync.Member{desiredUser("k1", "alice@x")}},
			opts:    &Options{Org: "acme", Owner: src, DefaultRole: "viewer"},
			want:    []string{"provision alice@x key=k1 role=viewer status=pending_setup"},
		},
		{
			name:    "a user disabled at the source with no member is not provisioned",
			desired: orgsync.Snapshot{Members: []orgsync.Member{desiredUser("k1", "alice@x", disabled)}},
		},
		{
			name:     "in sync plans nothing",
			desired:  orgsync.Snapshot{Members: []orgsync.Member{desiredUser("k1", "alice@x")}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{member("m1", src, "k1", "alice@x", active)}},
		},
		{
			name: "update names the differing fields, role from role_map",
			desired: orgsync.Snapshot{Members: []orgsync.Member{
				desiredUser("k1", "alice.new@x", displayName("Alice N"), role("admin")),
			}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{member("m1", src, "k1", "alice@x", active)}},
			want: []string{
				"update alice.new@x id=m1 fields=display_name:K1>Alice N,email:alice@x>alice.new@x,role:member>admin,user_name:alice@x>alice.new@x",
			},
		},
		{
			name: "secondary emails differ",
			desired: orgsync.Snapshot{Members: []orgsync.Member{desiredUser("k1", "alice@x", func(m *orgsync.Member) {
				m.Emails = append(m.Emails, orgsync.Email{Value: "a@y", Type: "home"})
			})}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{member("m1", src, "k1", "alice@x", active)}},
			want:     []string{"update alice@x id=m1 fields=emails:alice@x *>alice@x *, a@y (home)"},
		},
		{
			name:    "deprovision owned members gone or disabled, not those already deprovisioned",
			desired: orgsync.Snapshot{Members: []orgsync.Member{desiredUser("k2", "bob@x", disabled), desiredUser("k4", "dan@x", disabled)}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{
				member("m1", src, "k1", "alice@x", active),
				member("m2", src, "k2", "bob@x", pending),
				member("m3", src, "k3", "carol@x", deprov),
				member("m4", src, "k4", "dan@x", deprov),
			}},
			want: []string{"deprovision alice@x id=m1", "deprovision bob@x id=m2"},
		},
		{
			name: "reactivate to active when setup was completed, else pending_setup, with profile changes",
			desired: orgsync.Snapshot{Members: []orgsync.Member{
				desiredUser("k1", "alice@x"), desiredUser("k2", "bob@x", displayName("Bobby")),
			}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{
				member("m1", src, "k1", "alice@x", deprov, setupDone),
				member("m2", src, "k2", "bob@x", deprov),
			}},
			want: []string{
				"reactivate alice@x id=m1 role=member status=active",
				"reactivate bob@x id=m2 role=member status=pending_setup fields=display_name:K2>Bobby",
			},
		},
		{
			name:    "adopt an unowned member with the same email, case-insensitively",
			desired: orgsync.Snapshot{Members: []orgsync.Member{desiredUser("k1", "alice@x")}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{
				member("m9", "", "", "Alice.Old", active, email("ALICE@X")),
			}},
			want: []string{
				"adopt alice@x id=m9 key=k1 role=member status=active fields=display_name:>K1,email:ALICE@X>alice@x,user_name:Alice.Old>alice@x",
			},
		},
		{
			name:    "adopting a deprovisioned member reactivates it",
			desired: orgsync.Snapshot{Members: []orgsync.Member{desiredUser("k1", "alice@x")}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{
				member("m9", "", "", "alice@x", deprov, func(m *orgsync.Member) { m.ExternalID = "" }),
			}},
			want: []string{
				"adopt alice@x id=m9 key=k1 role=member status=deprovisioned fields=display_name:>K1",
				"reactivate alice@x id=m9 role=member status=pending_setup",
			},
		},
		{
			name:    "once adopted, matched by key: nothing more",
			desired: orgsync.Snapshot{Members: []orgsync.Member{desiredUser("k1", "alice@x")}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{
				member("m9", src, "k1", "alice@x", active),
				member("m8", "", "", "other", active, email("alice@x")),
			}},
		},
		{
			name:    "two unowned members with the email: conflict, never guessed",
			desired: orgsync.Snapshot{Members: []orgsync.Member{desiredUser("k1", "alice@x")}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{
				member("m8", "", "", "a1", active, email("alice@x")),
				member("m9", "", "", "a2", active, email("Alice@x")),
			}},
			want: []string{`conflict k1 alice@x: email "alice@x" matches 2 members with no owner`},
		},
		{
			name: "duplicate external ids in the source: skipped, their member kept",
			desired: orgsync.Snapshot{Members: []orgsync.Member{
				desiredUser("k1", "alice@x"), desiredUser("k1", "alice2@x"), desiredUser("k2", "bob@x"),
			}},
			observed: orgsync.Snapshot{
				Members: []orgsync.Member{member("m1", src, "k1", "alice@x", active)},
				Groups:  []orgsync.Group{ownedGroup("G1", src, "g1", "eng", "m1")},
			},
			want: []string{
				"provision bob@x key=k2 role=member status=pending_setup",
				"group_delete eng gid=G1",
				"conflict k1 alice2@x: external id appears 2 times in the source",
				"conflict k1 alice@x: external id appears 2 times in the source",
			},
		},
		{
			name: "duplicate emails and user names in the source",
			desired: orgsync.Snapshot{Members: []orgsync.Member{
				desiredUser("k1", "alice@x"), desiredUser("k2", "ALICE@x"),
				desiredUser("k3", "carol", email("c@x")), desiredUser("k4", "carol2", email("C@x")),
				desiredUser("k5", "eve@x"),
			}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{member("m3", src, "k3", "carol", active, email("c@x"))}},
			want: []string{
				"provision eve@x key=k5 role=member status=pending_setup",
				"conflict k1 alice@x: user name appears 2 times in the source",
				"conflict k2 ALICE@x: user name appears 2 times in the source",
				`conflict k3 carol: email "c@x" appears 2 times in the source`,
				`conflict k4 carol2: email "C@x" appears 2 times in the source`,
			},
		},
		{
			name:    "a user name owned by scim is never taken over",
			desired: orgsync.Snapshot{Members: []orgsync.Member{desiredUser("k1", "alice@x"), desiredUser("k2", "bob@x")}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{
				member("s1", orgsync.OwnerSCIM, "ext-1", "Alice@X", active, email("other@x")),
				member("m2", src, "k2", "bob@x", active),
			}},
			want: []string{`conflict k1 alice@x: user name "alice@x" belongs to a member owned by "scim"`},
		},
		{
			name: "a rename onto a name held by another member is a conflict and holds the member",
			desired: orgsync.Snapshot{Members: []orgsync.Member{
				desiredUser("k1", "bob@x", email("alice@x")),
			}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{
				member("m1", src, "k1", "alice@x", active),
				member("s1", orgsync.OwnerSCIM, "e", "bob@x", active),
			}},
			want: []string{`conflict k1 bob@x: user name "bob@x" belongs to another member (owned by "scim")`},
		},
		{
			name: "a disabled entry's email clashes with nobody: its member is suspended, the new hire provisioned",
			desired: orgsync.Snapshot{Members: []orgsync.Member{
				desiredUser("k1", "old@x", email("a@x"), disabled), desiredUser("k2", "new@x", email("A@x")),
			}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{member("m1", src, "k1", "old@x", active, email("a@x"))}},
			want:     []string{"provision new@x key=k2 role=member status=pending_setup", "deprovision old@x id=m1"},
		},
		{
			name: "a disabled entry in conflict still loses access; a duplicated key decides nothing",
			desired: orgsync.Snapshot{Members: []orgsync.Member{
				// renamed onto a name scim holds, and disabled
				desiredUser("k1", "bob@x", email("alice@x"), disabled),
				// same name as an enabled entry, and disabled
				desiredUser("k2", "carol@x", disabled), desiredUser("k3", "Carol@x"),
				// no user name, and disabled
				desiredUser("k4", "", disabled),
				// key twice: which entry is current is unknown
				desiredUser("k5", "eve@x", disabled), desiredUser("k5", "eve2@x"),
			}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{
				member("m1", src, "k1", "alice@x", active),
				member("s1", orgsync.OwnerSCIM, "e", "bob@x", active),
				member("m2", src, "k2", "carol.old@x", active),
				member("m4", src, "k4", "dan@x", pending),
				member("m5", src, "k5", "eve@x", active),
			}},
			want: []string{
				"deprovision alice@x id=m1", "deprovision carol.old@x id=m2", "deprovision dan@x id=m4",
				`conflict k1 bob@x: user name "bob@x" belongs to another member (owned by "scim")`,
				"conflict k2 carol@x: user name appears 2 times in the source",
				"conflict k3 Carol@x: user name appears 2 times in the source",
				"conflict k4 : no user name",
				"conflict k5 eve2@x: external id appears 2 times in the source",
				"conflict k5 eve@x: external id appears 2 times in the source",
			},
		},
		{
			name: "members and groups of other owners are never touched",
			observed: orgsync.Snapshot{
				Members: []orgsync.Member{
					member("s1", orgsync.OwnerSCIM, "e1", "s1@x", active),
					member("s2", orgsync.OwnerSCIM, "e2", "s2@x", deprov, func(m *orgsync.Member) { m.DeletedAt = &t0 }),
					member("o1", "other-ldap", "k1", "o1@x", active),
					member("u1", "", "", "u1@x", active),
				},
				Groups: []orgsync.Group{ownedGroup("S1", orgsync.OwnerSCIM, "sg", "scim-group", "s1", "o1")},
			},
		},
		{
			name: "nested groups are flattened, cycles are harmless, disabled and unknown users are not added",
			desired: orgsync.Snapshot{
				Members: []orgsync.Member{
					desiredUser("k1", "alice@x"), desiredUser("k2", "bob@x"), desiredUser("k3", "carol@x", disabled),
				},
				Groups: []orgsync.Group{
					group("g1", "all", []string{"k1"}, "g2"),
					group("g2", "eng", []string{"k2", "k3", "nobody"}, "g1"),
				},
			},
			want: []string{
				"group_create all gkey=g1",
				"group_create eng gkey=g2",
				"provision alice@x key=k1 role=member status=pending_setup",
				"provision bob@x key=k2 role=member status=pending_setup",
				"member_add all alice@x key=k1 gkey=g1",
				"member_add all bob@x key=k2 gkey=g1",
				"member_add eng alice@x key=k1 gkey=g2",
				"member_add eng bob@x key=k2 gkey=g2",
			},
		},
		{
			name: "group rename, delete, membership add and remove",
			desired: orgsync.Snapshot{
				Members: []orgsync.Member{desiredUser("k1", "alice@x"), desiredUser("k2", "bob@x"), desiredUser("k3", "carol@x")},
				Groups:  []orgsync.Group{group("g1", "engineering", []string{"k1", "k3"})},
			},
			observed: orgsync.Snapshot{
				Members: []orgsync.Member{
					member("m1", src, "k1", "alice@x", active),
					member("m2", src, "k2", "bob@x", active),
					member("m3", src, "k3", "carol@x", active),
				},
				Groups: []orgsync.Group{
					ownedGroup("G1", src, "g1", "eng", "m1", "m2"),
					ownedGroup("G2", src, "g2", "old", "m1"),
				},
			},
			want: []string{
				"group_update engineering gid=G1 fields=display_name:eng>engineering",
				"member_add engineering carol@x id=m3 gid=G1",
				"member_remove engineering bob@x id=m2 gid=G1",
				"group_delete old gid=G2",
			},
		},
		{
			name: "memberships of deprovisioned members are frozen, foreign members stay",
			desired: orgsync.Snapshot{
				Members: []orgsync.Member{desiredUser("k1", "alice@x"), desiredUser("k2", "bob@x", disabled), desiredUser("k4", "dan@x", disabled)},
				Groups:  []orgsync.Group{group("g1", "eng", []string{"k1", "k4"})},
			},
			observed: orgsync.Snapshot{
				Members: []orgsync.Member{
					member("m1", src, "k1", "alice@x", active),
					member("m2", src, "k2", "bob@x", active),
					member("m3", src, "k3", "carol@x", active),
					member("m4", src, "k4", "dan@x", deprov),
					member("s1", orgsync.OwnerSCIM, "e1", "s1@x", active),
				},
				Groups: []orgsync.Group{ownedGroup("G1", src, "g1", "eng", "m1", "m2", "m3", "s1")},
			},
			want: []string{"deprovision bob@x id=m2", "deprovision carol@x id=m3"},
		},
		{
			name: "group names held by another owner are conflicts",
			desired: orgsync.Snapshot{
				Members: []orgsync.Member{desiredUser("k1", "alice@x")},
				Groups:  []orgsync.Group{group("g1", "Admins", []string{"k1"}), group("g2", "x", nil), group("g3", "X", nil)},
			},
			observed: orgsync.Snapshot{
				Members: []orgsync.Member{member("m1", src, "k1", "alice@x", active)},
				Groups:  []orgsync.Group{ownedGroup("S1", orgsync.OwnerSCIM, "s", "admins")},
			},
			want: []string{
				`conflict g1 : group "Admins": display name belongs to a group owned by "scim"`,
				`conflict g2 : group "x": display name appears 2 times in the source`,
				`conflict g3 : group "X": display name appears 2 times in the source`,
			},
		},
		{
			name: "drift is corrected: local role, status and membership changes",
			desired: orgsync.Snapshot{
				Members: []orgsync.Member{desiredUser("k1", "alice@x"), desiredUser("k2", "bob@x")},
				Groups:  []orgsync.Group{group("g1", "eng", []string{"k1", "k2"})},
			},
			observed: orgsync.Snapshot{
				Members: []orgsync.Member{
					member("m1", src, "k1", "alice@x", active, role("admin")),
					member("m2", src, "k2", "bob@x", deprov, setupDone),
				},
				Groups: []orgsync.Group{ownedGroup("G1", src, "g1", "eng")},
			},
			want: []string{
				"reactivate bob@x id=m2 role=member status=active",
				"update alice@x id=m1 fields=role:admin>member",
				"member_add eng alice@x id=m1 gid=G1",
				"member_add eng bob@x id=m2 gid=G1",
			},
		},
		{
			name: "adopted members join groups by id",
			desired: orgsync.Snapshot{
				Members: []orgsync.Member{desiredUser("k1", "alice@x")},
				Groups:  []orgsync.Group{group("g1", "eng", []string{"k1"})},
			},
			observed: orgsync.Snapshot{Members: []orgsync.Member{member("m9", "", "", "alice@x", active)}},
			want: []string{
				"group_create eng gkey=g1",
				"adopt alice@x id=m9 key=k1 role=member status=active fields=display_name:>K1",
				"member_add eng alice@x id=m9 gkey=g1",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Org: "acme", Owner: src}
			if tt.opts != nil {
				opts = *tt.opts
			}
			before := deepCopy(t, tt.desired, tt.observed)
			p := Diff(tt.desired, tt.observed, opts)
			if got := planLines(p); !reflect.DeepEqual(got, tt.want) && (len(got) > 0 || len(tt.want) > 0) {
				t.Errorf("plan:\n got %q\nwant %q", got, tt.want)
			}
			if after := deepCopy(t, tt.desired, tt.observed); after != before {
				t.Errorf("Diff modified its inputs")
			}
			if p.Org != opts.Org || p.Owner != opts.Owner {
				t.Errorf("plan org/owner = %q/%q", p.Org, p.Owner)
			}
			if again := Diff(tt.desired, tt.observed, opts); !reflect.DeepEqual(again, p) {
				t.Errorf("Diff is not deterministic")
			}
		})
	}
}

func deepCopy(t *testing.T, v ...any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDiffOwnedAndOrder(t *testing.T) {
	desired := orgsync.Snapshot{
		Members: []orgsync.Member{desiredUser("k9", "new@x")},
		Groups:  []orgsync.Group{group("g9", "new", []string{"k9"})},
	}
	observed := orgsync.Snapshot{
		Members: []orgsync.Member{
			member("m1", src, "k1", "a@x", active),
			member("m2", src, "k2", "b@x", pending),
			member("m3", src, "k3", "c@x", deprov),
			member("m4", orgsync.OwnerSCIM, "k4", "d@x", active),
		},
		Groups: []orgsync.Group{ownedGroup("G1", src, "g1", "old", "m1")},
	}
	p := Diff(desired, observed, Options{Org: "acme", Owner: src})
	if p.Owned != 2 {
		t.Errorf("Owned = %d, want 2 (active and pending owned members)", p.Owned)
	}
	for i := 1; i < len(p.Changes); i++ {
		if p.Changes[i-1].Action.Rank() > p.Changes[i].Action.Rank() {
			t.Errorf("change %d (%s) after %s: not in apply order", i, p.Changes[i].Action, p.Changes[i-1].Action)
		}
	}
	if first, last := p.Changes[0].Action, p.Changes[len(p.Changes)-1].Action; first != orgsync.ActionGroupCreate || last != orgsync.ActionGroupDelete {
		t.Errorf("first %s last %s: want creates before deletes", first, last)
	}
}

// TestDiffHolds: an entry held back, by the source or by a conflict, keeps
// what it names exactly as it is, and so does every entry it clashes with.
func TestDiffHolds(t *testing.T) {
	admin := member("m1", src, "k1", "admin@x", active, role("admin"), setupDone)
	mallory := member("m2", src, "k2", "mallory@x", active, setupDone)
	groups := []orgsync.Group{ownedGroup("G1", src, "g1", "admins", "m1"), ownedGroup("G2", src, "g2", "eng", "m1", "m2")}
	observed := orgsync.Snapshot{Members: []orgsync.Member{admin, mallory}, Groups: groups}
	tests := []struct {
		name     string
		desired  orgsync.Snapshot
		observed orgsync.Snapshot
		want     []string
		held     orgsync.HeldCount
	}{
		{
			name: "a user renaming to an admin's user name holds both: the admin keeps everything",
			desired: orgsync.Snapshot{
				Members: []orgsync.Member{desiredUser("k1", "admin@x", role("admin")), desiredUser("k2", "admin@x")},
				Groups:  []orgsync.Group{group("g1", "admins", []string{"k1"}), group("g2", "eng", []string{"k1", "k2"})},
			},
			observed: observed,
			want: []string{
				`conflict k1 admin@x: user name appears 2 times in the source`,
				`conflict k2 admin@x: user name appears 2 times in the source`,
			},
			held: orgsync.HeldCount{Users: 2},
		},
		{
			name: "a held entry keeps its member: no deprovision, no update, no membership change",
			desired: orgsync.Snapshot{
				Members:   []orgsync.Member{desiredUser("k1", "admin@x", role("admin"))},
				HeldUsers: []orgsync.HeldEntry{{Key: "k2", Name: "mallory@x", Ref: "Users #2", Reason: `active is "yes", not a boolean`}},
				Groups:    []orgsync.Group{group("g1", "admins", []string{"k1"}), group("g2", "eng", []string{"k1"})},
			},
			observed: observed,
			want:     []string{`conflict k2 mallory@x: held by the source: Users #2: active is "yes", not a boolean`},
			held:     orgsync.HeldCount{Users: 1},
		},
		{
			name: "a held entry claiming an admin's name and email holds the admin too",
			desired: orgsync.Snapshot{
				Members:   []orgsync.Member{desiredUser("k1", "admin@x", role("admin"))},
				HeldUsers: []orgsync.HeldEntry{{Key: "k2", Name: "admin@x", Email: "ADMIN@x", Reason: "no x"}},
				Groups:    []orgsync.Group{group("g1", "admins", nil), group("g2", "eng", nil)},
			},
			observed: observed,
			want: []string{
				`conflict k1 admin@x: user name appears 2 times in the source`,
				`conflict k2 admin@x: held by the source: no x; its user name is shared by another entry`,
			},
			held: orgsync.HeldCount{Users: 2},
		},
		{
			name: "a held entry sharing a desired entry's key holds it",
			desired: orgsync.Snapshot{
				Members:   []orgsync.Member{desiredUser("k1", "admin@x"), desiredUser("k2", "mallory@x")},
				HeldUsers: []orgsync.HeldEntry{{Key: "k1", Name: "other@x", Reason: "no y"}},
				Groups:    []orgsync.Group{group("g1", "admins", nil), group("g2", "eng", []string{"k2"})},
			},
			observed: observed,
			want: []string{
				`conflict k1 admin@x: external id appears 2 times in the source`,
				`conflict k1 other@x: held by the source: no y; its external id is shared by another entry`,
			},
			held: orgsync.HeldCount{Users: 2},
		},
		{
			name: "a held entry the source knows is disabled suspends its member, and only that",
			desired: orgsync.Snapshot{
				Members:   []orgsync.Member{desiredUser("k1", "admin@x", role("admin"))},
				HeldUsers: []orgsync.HeldEntry{{Key: "k2", Name: "mallory@x", Reason: "no userName", Status: deprov}},
				Groups:    []orgsync.Group{group("g1", "admins", []string{"k1"}), group("g2", "eng", []string{"k1"})},
			},
			observed: observed,
			want: []string{
				"deprovision mallory@x id=m2",
				`conflict k2 mallory@x: held by the source: no userName`,
			},
			held: orgsync.HeldCount{Users: 1},
		},
		{
			name: "a held entry without a key holds the member of its user name",
			desired: orgsync.Snapshot{
				Members:   []orgsync.Member{desiredUser("k2", "mallory@x")},
				HeldUsers: []orgsync.HeldEntry{{Name: "Admin@X", Ref: `"cn=admin"`, Reason: "no entryUUID (ldap.user.id_attribute)"}},
				Groups:    []orgsync.Group{group("g1", "admins", nil), group("g2", "eng", []string{"k2"})},
			},
			observed: observed,
			want:     []string{`conflict  Admin@X: held by the source: "cn=admin": no entryUUID (ldap.user.id_attribute)`},
			held:     orgsync.HeldCount{Users: 1},
		},
		{
			name: "held groups are not deleted and keep their members, by key or (without one) by name",
			desired: orgsync.Snapshot{
				Members:    []orgsync.Member{desiredUser("k1", "admin@x", role("admin")), desiredUser("k2", "mallory@x")},
				HeldGroups: []orgsync.HeldEntry{{Key: "g1", Reason: "no cn"}, {Name: "ENG", Reason: "no entryUUID"}},
			},
			observed: observed,
			want: []string{
				`conflict  : group "ENG": held by the source: no entryUUID`,
				`conflict g1 : group "": held by the source: no cn`,
			},
			held: orgsync.HeldCount{Groups: 2},
		},
		{
			name: "a group nesting a held group (through another) is held; a group sharing its name too",
			desired: orgsync.Snapshot{
				Members: []orgsync.Member{desiredUser("k1", "admin@x", role("admin")), desiredUser("k2", "mallory@x")},
				Groups: []orgsync.Group{
					group("g2", "eng", nil, "g3"), group("g3", "platform", nil, "g9"),
					group("g1", "admins", []string{"k1"}), group("g4", "Ops", nil),
				},
				HeldGroups: []orgsync.HeldEntry{{Key: "g9", Name: "ops", Reason: "member value 7 is not a string"}},
			},
			observed: observed,
			want: []string{
				`conflict g2 : group "eng": nests the held group "ops", so its members cannot be known`,
				`conflict g3 : group "platform": nests the held group "ops", so its members cannot be known`,
				`conflict g4 : group "Ops": display name appears 2 times in the source`,
				`conflict g9 : group "ops": held by the source: member value 7 is not a string`,
			},
			held: orgsync.HeldCount{Groups: 4},
		},
		{
			name: "without holds the same source removes: the cases above are not vacuous",
			desired: orgsync.Snapshot{
				Members: []orgsync.Member{desiredUser("k1", "admin@x", role("admin"))},
				Groups:  []orgsync.Group{group("g2", "eng", nil)},
			},
			observed: observed,
			want: []string{
				"member_remove eng admin@x id=m1 gid=G2",
				"deprovision mallory@x id=m2",
				"group_delete admins gid=G1",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Org: "acme", Owner: src}
			before := deepCopy(t, tt.desired, tt.observed)
			p := Diff(tt.desired, tt.observed, opts)
			if got := planLines(p); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("plan:\n got %q\nwant %q", got, tt.want)
			}
			if p.Held != tt.held {
				t.Errorf("held = %+v, want %+v", p.Held, tt.held)
			}
			if p.OwnedGroups != 2 || p.OwnedMemberships != 3 {
				t.Errorf("owned groups/memberships = %d/%d, want 2/3", p.OwnedGroups, p.OwnedMemberships)
			}
			if after := deepCopy(t, tt.desired, tt.observed); after != before {
				t.Errorf("Diff modified its inputs")
			}
			if again := Diff(tt.desired, tt.observed, opts); !reflect.DeepEqual(again, p) {
				t.Errorf("Diff is not deterministic")
			}
		})
	}
}
