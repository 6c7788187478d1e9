package store_test

import (
	"context"
	"testing"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// TestSCIMGroupsMembers: the leading groups whose members fit the budget
// come whole, in userName order; from the first that does not fit on,
// none; groups of another org or owner never.
func TestSCIMGroupsMembers(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s, err := store.Open(context.Background(), b.config(t), zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			testSCIMGroupsMembers(t, s)
		})
	}
}

func testSCIMGroupsMembers(t *testing.T, s *store.Store) {
	ctx := context.Background()
	if err := s.EnsureOrgs(ctx, []orgsync.Org{{ID: "acme", Name: "Acme", DefaultRole: "member"}, {ID: "beta", Name: "Beta", DefaultRole: "member"}}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range []string{"carol", "alice", "bob"} {
		m, err := s.SCIMCreateMember(ctx, "acme", orgsync.Member{UserName: n + "@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	mk := func(org, name string, members []string) string {
		g, err := s.SCIMCreateGroup(ctx, org, orgsync.Group{DisplayName: name, Members: members})
		if err != nil {
			t.Fatal(err)
		}
		return g.ID
	}
	two, empty, three, after := mk("acme", "two", ids[:2]), mk("acme", "empty", nil), mk("acme", "three", ids), mk("acme", "after", ids[:1])
	bm, _ := s.SCIMCreateMember(ctx, "beta", orgsync.Member{UserName: "b@example.org"})
	other := mk("beta", "other", []string{bm.ID})
	if err := s.SCIMDeleteMember(ctx, "acme", ids[2], 0); err != nil { // bob: deleted members are not listed
		t.Fatal(err)
	}
	got, err := s.SCIMGroupsMembers(ctx, "acme", []string{other, two, empty, three, after}, 4)
	if err != nil {
		t.Fatal(err)
	}
	names := func(id string) string {
		out := ""
		for _, m := range got[id] {
			out += m.UserName + " "
		}
		return out
	}
	if _, ok := got[other]; ok {
		t.Fatalf("another org's group came back: %v", got[other])
	}
	if n := names(two); n != "alice@example.org carol@example.org " {
		t.Fatalf("group two: %q, want alice and carol by userName", n)
	}
	if ms, ok := got[empty]; !ok || len(ms) != 0 {
		t.Fatalf("the empty group: %v, %v; want present and empty", ms, ok)
	}
	// three has 2 live members (bob deleted): 2 + 0 + 2 = 4 fit.
	if n := names(three); n != "alice@example.org carol@example.org " {
		t.Fatalf("group three: %q", n)
	}
	if _, ok := got[after]; ok {
		t.Fatal("a group past the budget came back")
	}
	got, _ = s.SCIMGroupsMembers(ctx, "acme", []string{three, two}, 1)
	if len(got) != 0 {
		t.Fatalf("budget 1 with a first group of 2: %v, want nothing", got)
	}
}
