package store_test

import (
	"cmp"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// provision applies a plan of owner that provisions users (key = name)
// and a group "g-"+owner of all of them.
func provision(t *testing.T, s *store.Store, org, owner string, names ...string) {
	t.Helper()
	p := orgsync.Plan{Org: org, Owner: owner}
	for _, n := range names {
		p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionProvision, UserName: n, MemberKey: "key-" + n,
			Member: &orgsync.Member{UserName: n}})
	}
	p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionGroupCreate, GroupName: "g-" + owner, GroupKey: "gkey-" + owner,
		Group: &orgsync.Group{DisplayName: "g-" + owner, ExternalID: "gkey-" + owner}})
	for _, n := range names {
		p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionMemberAdd, GroupName: "g-" + owner, GroupKey: "gkey-" + owner,
			UserName: n, MemberKey: "key-" + n})
	}
	if _, err := s.Apply(ctx, p); err != nil {
		t.Fatalf("apply %s: %v", owner, err)
	}
}

func ownerCount(t *testing.T, s *store.Store, org, owner string) store.OwnerCount {
	t.Helper()
	cs, err := s.Owners(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Owner == owner {
			return c
		}
	}
	return store.OwnerCount{Org: org, Owner: owner}
}

func TestOwnersAndRenameOwner(t *testing.T) {
	forBackends(t, func(t *testing.T, s *store.Store) {
		provision(t, s, "acme", "old-ldap", "a@example.org", "b@example.org", "c@example.org")
		provision(t, s, "other", "old-ldap", "z@example.org")
		mustCreate(t, s, "acme", scimUser("pushed@example.org"))
		b, _ := s.Member(ctx, "acme", "b@example.org")
		if _, err := s.Apply(ctx, orgsync.Plan{Org: "acme", Owner: "old-ldap", Changes: []orgsync.Change{
			{Action: orgsync.ActionDeprovision, MemberID: b.ID, UserName: b.UserName}}}); err != nil {
			t.Fatal(err)
		}

		cs, err := s.Owners(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		want := []store.OwnerCount{
			{Org: "acme", Owner: "old-ldap", Members: 3, Live: 2, Groups: 1},
			{Org: "acme", Owner: "scim", Members: 1, Live: 1},
			{Org: "other", Owner: "old-ldap", Members: 1, Live: 1, Groups: 1},
		}
		if len(cs) != len(want) {
			t.Fatalf("Owners = %+v, want %+v", cs, want)
		}
		for i := range want {
			if cs[i] != want[i] {
				t.Errorf("Owners[%d] = %+v, want %+v", i, cs[i], want[i])
			}
		}
		// OwnerNames: the same owners, without their counts.
		names, err := s.OwnerNames(ctx)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(names, func(a, b store.OwnerCount) int {
			return cmp.Or(cmp.Compare(a.Org, b.Org), cmp.Compare(a.Owner, b.Owner))
		})
		if len(names) != len(want) {
			t.Fatalf("OwnerNames = %+v, want the owners of %+v", names, want)
		}
		for i := range want {
			if names[i] != (store.OwnerCount{Org: want[i].Org, Owner: want[i].Owner}) {
				t.Errorf("OwnerNames[%d] = %+v, want %s/%s", i, names[i], want[i].Org, want[i].Owner)
			}
		}

		before, _ := s.Member(ctx, "acme", "a@example.org")
		events, _ := s.Events(ctx, "", 0, 10000)
		last := events[len(events)-1].Seq

		// Refusals change nothing.
		for _, tc := range []struct {
			name, org, from, to string
			want                error
		}{
			{"nothing owned", "acme", "nobody", "new-ldap", orgsync.ErrNotFound},
			{"to owns already", "acme", "old-ldap", "scim", orgsync.ErrConflict},
			{"same name", "acme", "old-ldap", "old-ldap", orgsync.ErrInvalid},
		} {
			if _, err := s.RenameOwner(ctx, tc.org, tc.from, tc.to, "test", false); !errors.Is(err, tc.want) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
			}
		}
		if c := ownerCount(t, s, "acme", "old-ldap"); c.Members != 3 {
			t.Fatalf("a refused rename moved members: %+v", c)
		}

		moved, err := s.RenameOwner(ctx, "acme", "old-ldap", "new-ldap", "cli", false)
		if err != nil {
			t.Fatal(err)
		}
		if moved != (store.Renamed{Org: "acme", From: "old-ldap", To: "new-ldap", Members: 3, Groups: 1}) {
			t.Errorf("moved = %+v", moved)
		}
		if c := ownerCount(t, s, "acme", "new-ldap"); c != (store.OwnerCount{Org: "acme", Owner: "new-ldap", Members: 3, Live: 2, Groups: 1}) {
			t.Errorf("new owner holds %+v", c)
		}
		if c := ownerCount(t, s, "acme", "old-ldap"); c.Members+c.Groups != 0 {
			t.Errorf("old owner still holds %+v", c)
		}
		if c := ownerCount(t, s, "other", "old-ldap"); c.Members != 1 {
			t.Errorf("the other org's members moved too: %+v", c)
		}
		after, _ := s.Member(ctx, "acme", "a@example.org")
		if after.ID != before.ID || after.Owner != "new-ldap" || after.ExternalID != before.ExternalID || after.Version != before.Version+1 ||
			after.Status != before.Status || len(after.Groups) != len(before.Groups) {
			t.Errorf("member after rename = %+v, before %+v", after, before)
		}
		events, _ = s.Events(ctx, "", last, 100)
		if len(events) != 1 || events[0].Kind != orgsync.EventSourceRenamed || events[0].Actor != "cli" || events[0].Org != "acme" {
			t.Fatalf("events of the rename = %+v", events)
		}
		var ev struct {
			Owner   string
			Members int
			Groups  int
		}
		if json.Unmarshal(events[0].After, &ev) != nil || ev.Owner != "new-ldap" || ev.Members != 3 || ev.Groups != 1 {
			t.Errorf("event after = %s", events[0].After)
		}

		// Under the new name, the source's own plan finds them by key.
		if _, err := s.Apply(ctx, orgsync.Plan{Org: "acme", Owner: "new-ldap", Changes: []orgsync.Change{
			{Action: orgsync.ActionDeprovision, MemberID: after.ID, UserName: after.UserName}}}); err != nil {
			t.Fatal(err)
		}
		if m, _ := s.Member(ctx, "acme", "a@example.org"); m.Status != orgsync.StatusDeprovisioned {
			t.Errorf("new owner's deprovision: %s", m.Status)
		}

		// Merging: refused by default, refused on a shared key, done otherwise.
		provision(t, s, "acme", "third", "d@example.org")
		if _, err := s.RenameOwner(ctx, "acme", "third", "new-ldap", "cli", false); !errors.Is(err, orgsync.ErrConflict) {
			t.Errorf("rename onto an owner with members: %v", err)
		}
		provision(t, s, "acme", "clash", "e@example.org")
		if err := s.DBForTest().Exec(`UPDATE members SET external_id = 'key-c@example.org' WHERE user_name = 'e@example.org'`).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := s.RenameOwner(ctx, "acme", "clash", "new-ldap", "cli", true); !errors.Is(err, orgsync.ErrConflict) {
			t.Errorf("merge with a shared key: %v", err)
		}
		if _, err := s.RenameOwner(ctx, "acme", "third", "new-ldap", "cli", true); err != nil {
			t.Errorf("merge: %v", err)
		}
		if c := ownerCount(t, s, "acme", "new-ldap"); c.Members != 4 || c.Groups != 2 {
			t.Errorf("after merge: %+v", c)
		}
	})
}
