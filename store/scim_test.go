package store_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// openSCIM opens a fresh store of backend b with orgs acme and other.
func openSCIM(t *testing.T, b backend) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), b.config(t), zerolog.Nop())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.EnsureOrgs(context.Background(), []orgsync.Org{
		{ID: "acme", Name: "Acme", DefaultRole: orgsync.RoleMember, PurgeAfter: 720 * time.Hour},
		{ID: "other", Name: "Other", DefaultRole: orgsync.RoleMember},
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

func forBackends(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, openSCIM(t, b)) })
	}
}

func scimUser(name string, emails ...orgsync.Email) orgsync.Member {
	return orgsync.Member{UserName: name, ExternalID: "ext-" + name, GivenName: "G", FamilyName: "F", DisplayName: "D " + name, Emails: emails}
}

func mustCreate(t *testing.T, s *store.Store, org string, m orgsync.Member) orgsync.Member {
	t.Helper()
	out, err := s.SCIMCreateMember(ctx, org, m)
	if err != nil {
		t.Fatalf("SCIMCreateMember(%s): %v", m.UserName, err)
	}
	return out
}

var ctx = context.Background()

func TestSCIMMemberLifecycle(t *testing.T) {
	forBackends(t, func(t *testing.T, s *store.Store) {
		alice := mustCreate(t, s, "acme", scimUser("Alice@Example.org", orgsync.Email{Value: "alice@example.org", Type: "work", Primary: true}))
		if alice.Status != orgsync.StatusPendingSetup || alice.Owner != "scim" || alice.Version != 1 || alice.Role != orgsync.RoleMember {
			t.Fatalf("created = %+v", alice)
		}
		if _, err := s.SCIMCreateMember(ctx, "acme", scimUser("alice@EXAMPLE.org")); !errors.Is(err, orgsync.ErrConflict) {
			t.Fatalf("duplicate create: %v, want ErrConflict", err)
		}
		if _, err := s.SCIMMember(ctx, "other", alice.ID); !errors.Is(err, orgsync.ErrNotFound) {
			t.Fatalf("read across orgs: %v, want ErrNotFound", err)
		}
		got, err := s.SCIMMember(ctx, "acme", alice.ID)
		if err != nil || got.Email() != "alice@example.org" || got.ExternalID != "ext-Alice@Example.org" {
			t.Fatalf("SCIMMember = %+v, %v", got, err)
		}
		// A stale version is refused, the current one accepted.
		if _, err := s.SCIMUpdateMember(ctx, "acme", alice.ID, 7, func(m *orgsync.Member) error { m.GivenName = "X"; return nil }); !errors.Is(err, orgsync.ErrPrecondition) {
			t.Fatalf("stale version: %v", err)
		}
		upd, err := s.SCIMUpdateMember(ctx, "acme", alice.ID, 1, func(m *orgsync.Member) error { m.GivenName = "Alicia"; return nil })
		if err != nil || upd.GivenName != "Alicia" || upd.Version != 2 {
			t.Fatalf("update = %+v, %v", upd, err)
		}
		// No change: no new version.
		same, err := s.SCIMUpdateMember(ctx, "acme", alice.ID, 0, func(m *orgsync.Member) error { return nil })
		if err != nil || same.Version != 2 {
			t.Fatalf("no-op update = %+v, %v", same, err)
		}
		// An edit error writes nothing.
		if _, err := s.SCIMUpdateMember(ctx, "acme", alice.ID, 0, func(m *orgsync.Member) error {
			m.GivenName = "Nope"
			return fmt.Errorf("bad op: %w", orgsync.ErrInvalid)
		}); !errors.Is(err, orgsync.ErrInvalid) {
			t.Fatalf("failing edit: %v", err)
		}
		// The receiver cannot change role, owner or setup state.
		upd, err = s.SCIMUpdateMember(ctx, "acme", alice.ID, 0, func(m *orgsync.Member) error {
			m.Role, m.Owner, m.Status = orgsync.RoleAdmin, "ldap", orgsync.StatusActive
			return nil
		})
		if err != nil || upd.Role != orgsync.RoleMember || upd.Owner != "scim" || upd.Status != orgsync.StatusPendingSetup || upd.Version != 2 {
			t.Fatalf("forbidden fields changed: %+v, %v", upd, err)
		}
		// Deactivate, complete setup is refused, reactivate to pending.
		upd, err = s.SCIMUpdateMember(ctx, "acme", alice.ID, 0, func(m *orgsync.Member) error { m.Status = orgsync.StatusDeprovisioned; return nil })
		if err != nil || upd.Status != orgsync.StatusDeprovisioned || upd.DeprovisionedAt == nil {
			t.Fatalf("deactivate = %+v, %v", upd, err)
		}
		upd, err = s.SCIMUpdateMember(ctx, "acme", alice.ID, 0, func(m *orgsync.Member) error { m.Status = orgsync.StatusActive; return nil })
		if err != nil || upd.Status != orgsync.StatusPendingSetup || upd.DeprovisionedAt != nil {
			t.Fatalf("reactivate = %+v, %v", upd, err)
		}
		// Setup done, then delete, then re-POST by the same IdP identity:
		// same ID, active again.
		if _, err := s.CompleteSetup(ctx, "acme", alice.ID, "kms"); err != nil {
			t.Fatal(err)
		}
		if err := s.SCIMDeleteMember(ctx, "acme", alice.ID, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SCIMMember(ctx, "acme", alice.ID); !errors.Is(err, orgsync.ErrNotFound) {
			t.Fatalf("deleted member readable: %v", err)
		}
		if err := s.SCIMDeleteMember(ctx, "acme", alice.ID, 0); !errors.Is(err, orgsync.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		tomb, err := s.Member(ctx, "acme", alice.ID)
		if err != nil || tomb.DeletedAt == nil || tomb.Status != orgsync.StatusDeprovisioned {
			t.Fatalf("tombstone = %+v, %v", tomb, err)
		}
		// The same person: the same externalId (another one is another
		// person, see storetest's SCIMRecreateOtherIdentity).
		again := scimUser("alice@example.org")
		again.ExternalID = alice.ExternalID
		back := mustCreate(t, s, "acme", again)
		if back.ID != alice.ID || back.Status != orgsync.StatusActive || back.SetupCompletedAt == nil || back.DeletedAt != nil {
			t.Fatalf("revived = %+v", back)
		}
		evs, err := s.Events(ctx, "acme", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range evs {
			if e.Actor == "scim" {
				kinds = append(kinds, e.Kind)
			}
		}
		want := "member.created member.updated member.deprovisioned member.reactivated member.deleted member.reactivated"
		if strings.Join(kinds, " ") != want {
			t.Fatalf("scim events = %v, want %s", kinds, want)
		}
	})
}

func TestSCIMOwnership(t *testing.T) {
	forBackends(t, func(t *testing.T, s *store.Store) {
		p := orgsync.Plan{Org: "acme", Owner: "corp-ldap", Changes: []orgsync.Change{{Action: orgsync.ActionProvision, UserName: "bob@example.org",
			MemberKey: "u1", Member: &orgsync.Member{UserName: "bob@example.org", ExternalID: "u1"}}}}
		if _, err := s.Apply(ctx, p); err != nil {
			t.Fatal(err)
		}
		bob, _ := s.Member(ctx, "acme", "bob@example.org")
		_, err := s.SCIMCreateMember(ctx, "acme", scimUser("BOB@example.org"))
		if !errors.Is(err, orgsync.ErrConflict) || !strings.Contains(err.Error(), `"corp-ldap"`) {
			t.Fatalf("create over a pulled member: %v, want ErrConflict naming corp-ldap", err)
		}
		if _, err := s.SCIMMember(ctx, "acme", bob.ID); !errors.Is(err, orgsync.ErrNotFound) {
			t.Fatalf("pulled member visible to SCIM: %v", err)
		}
		if _, err := s.SCIMUpdateMember(ctx, "acme", bob.ID, 0, func(m *orgsync.Member) error { m.Status = orgsync.StatusDeprovisioned; return nil }); !errors.Is(err, orgsync.ErrNotFound) {
			t.Fatalf("SCIM changed a pulled member: %v", err)
		}
		if err := s.SCIMDeleteMember(ctx, "acme", bob.ID, 0); !errors.Is(err, orgsync.ErrNotFound) {
			t.Fatalf("SCIM deleted a pulled member: %v", err)
		}
		ms, total, err := s.SCIMMembers(ctx, "acme", orgsync.Query{StartIndex: 1, Count: 10})
		if err != nil || total != 0 || len(ms) != 0 {
			t.Fatalf("SCIM list shows pulled members: %v %d %v", ms, total, err)
		}
		// A rename onto the pulled member's name conflicts too.
		carol := mustCreate(t, s, "acme", scimUser("carol@example.org"))
		if _, err := s.SCIMUpdateMember(ctx, "acme", carol.ID, 0, func(m *orgsync.Member) error { m.UserName = "Bob@Example.org"; return nil }); !errors.Is(err, orgsync.ErrConflict) {
			t.Fatalf("rename onto pulled member: %v", err)
		}
		// Groups of a source are invisible and their names are taken.
		gp := orgsync.Plan{Org: "acme", Owner: "corp-ldap", Changes: []orgsync.Change{{Action: orgsync.ActionGroupCreate, GroupName: "eng", GroupKey: "g1", Group: &orgsync.Group{DisplayName: "eng"}}}}
		if _, err := s.Apply(ctx, gp); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SCIMCreateGroup(ctx, "acme", orgsync.Group{DisplayName: "ENG"}); !errors.Is(err, orgsync.ErrConflict) || !strings.Contains(err.Error(), "corp-ldap") {
			t.Fatalf("group over a pulled group: %v", err)
		}
		gs, _, total, err := s.SCIMGroups(ctx, "acme", orgsync.Query{StartIndex: 1, Count: 10}, true)
		if err != nil || total != 0 || len(gs) != 0 {
			t.Fatalf("SCIM group list shows pulled groups: %v %d %v", gs, total, err)
		}
	})
}

func TestSCIMFilters(t *testing.T) {
	forBackends(t, func(t *testing.T, s *store.Store) {
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		clock := base
		s.Now = func() time.Time { clock = clock.Add(time.Minute); return clock }
		mustCreate(t, s, "acme", orgsync.Member{UserName: "alice@example.org", ExternalID: "A1", GivenName: "Alice", DisplayName: "Alice Liddell",
			Emails: []orgsync.Email{{Value: "Alice@Example.org", Type: "work", Primary: true}, {Value: "alice@home.net", Type: "home"}}})
		bob := mustCreate(t, s, "acme", orgsync.Member{UserName: "bob_50%@example.org", ExternalID: "b2", GivenName: "Bob",
			Emails: []orgsync.Email{{Value: "bob@home.net", Type: "home"}}})
		carol := mustCreate(t, s, "acme", orgsync.Member{UserName: "carol@other.org", ExternalID: "C3", GivenName: "Carol"})
		mustCreate(t, s, "other", orgsync.Member{UserName: "alice@other-org.org"})
		if _, err := s.SCIMUpdateMember(ctx, "acme", carol.ID, 0, func(m *orgsync.Member) error { m.Status = orgsync.StatusDeprovisioned; return nil }); err != nil {
			t.Fatal(err)
		}
		eq := func(a string, v any) orgsync.Filter { return orgsync.Filter{Op: orgsync.FilterEq, Attr: a, Value: v} }
		op := func(o orgsync.FilterOp, a string, v any) orgsync.Filter {
			return orgsync.Filter{Op: o, Attr: a, Value: v}
		}
		email := func(fs ...orgsync.Filter) orgsync.Filter {
			c := fs[0]
			if len(fs) > 1 {
				c = orgsync.Filter{Op: orgsync.FilterAnd, Children: fs}
			}
			return orgsync.Filter{Op: orgsync.FilterAny, Attr: orgsync.AttrEmails, Children: []orgsync.Filter{c}}
		}
		tests := []struct {
			name string
			f    orgsync.Filter
			want string // sorted user names, or "invalid"
		}{
			{"userName eq folds case", eq(orgsync.AttrUserName, "ALICE@example.ORG"), "alice@example.org"},
			{"userName eq no match", eq(orgsync.AttrUserName, "nobody"), ""},
			{"externalId is case exact", eq(orgsync.AttrExternalID, "a1"), ""},
			{"externalId eq", eq(orgsync.AttrExternalID, "A1"), "alice@example.org"},
			{"sw", op(orgsync.FilterSw, orgsync.AttrUserName, "BOB_"), "bob_50%@example.org"},
			{"sw wildcard is literal", op(orgsync.FilterSw, orgsync.AttrUserName, "b%"), ""},
			{"co percent literal", op(orgsync.FilterCo, orgsync.AttrUserName, "50%"), "bob_50%@example.org"},
			{"co underscore literal", op(orgsync.FilterCo, orgsync.AttrUserName, "_"), "bob_50%@example.org"},
			{"ew", op(orgsync.FilterEw, orgsync.AttrUserName, "@EXAMPLE.org"), "alice@example.org bob_50%@example.org"},
			{"ew longer than value", op(orgsync.FilterEw, orgsync.AttrUserName, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx@example.org"), ""},
			{"ne", op(orgsync.FilterNe, orgsync.AttrUserName, "alice@example.org"), "bob_50%@example.org carol@other.org"},
			{"gt string", op(orgsync.FilterGt, orgsync.AttrUserName, "b"), "bob_50%@example.org carol@other.org"},
			{"pr displayName", orgsync.Filter{Op: orgsync.FilterPresent, Attr: orgsync.AttrDisplayName}, "alice@example.org"},
			{"active false", eq(orgsync.AttrActive, false), "carol@other.org"},
			{"active ne false", op(orgsync.FilterNe, orgsync.AttrActive, false), "alice@example.org bob_50%@example.org"},
			{"setupStatus", eq(orgsync.AttrSetupStatus, "Deprovisioned"), "carol@other.org"},
			{"emails.value folds", email(eq(orgsync.SubValue, "alice@EXAMPLE.org")), "alice@example.org"},
			{"emails[type eq work].value", email(eq(orgsync.SubType, "work"), eq(orgsync.SubValue, "alice@home.net")), ""},
			{"emails[type eq home].value", email(eq(orgsync.SubType, "Home"), eq(orgsync.SubValue, "alice@home.net")), "alice@example.org"},
			{"emails primary", email(eq(orgsync.SubPrimary, true)), "alice@example.org"},
			{"emails pr", email(orgsync.Filter{Op: orgsync.FilterPresent, Attr: orgsync.SubValue}), "alice@example.org bob_50%@example.org"},
			{"not emails", orgsync.Filter{Op: orgsync.FilterNot, Children: []orgsync.Filter{email(orgsync.Filter{Op: orgsync.FilterPresent, Attr: orgsync.SubValue})}}, "carol@other.org"},
			{"or", orgsync.Filter{Op: orgsync.FilterOr, Children: []orgsync.Filter{eq(orgsync.AttrGivenName, "alice"), eq(orgsync.AttrGivenName, "CAROL")}}, "alice@example.org carol@other.org"},
			{"and", orgsync.Filter{Op: orgsync.FilterAnd, Children: []orgsync.Filter{op(orgsync.FilterEw, orgsync.AttrUserName, ".org"), eq(orgsync.AttrActive, true)}}, "alice@example.org bob_50%@example.org"},
			{"lastModified gt", op(orgsync.FilterGt, orgsync.AttrLastModified, bob.UpdatedAt), "carol@other.org"},
			{"created le", op(orgsync.FilterLe, orgsync.AttrCreated, bob.CreatedAt), "alice@example.org bob_50%@example.org"},
			{"unknown attribute", eq("nickName", "x"), "invalid"},
			{"gt on boolean", op(orgsync.FilterGt, orgsync.AttrActive, true), "invalid"},
			{"string op on time", op(orgsync.FilterCo, orgsync.AttrCreated, "2026"), "invalid"},
			{"wrong value type", eq(orgsync.AttrUserName, true), "invalid"},
			{"NUL in value", eq(orgsync.AttrUserName, "a\x00b"), "invalid"},
			{"group attribute on users", orgsync.Filter{Op: orgsync.FilterAny, Attr: orgsync.AttrMembers, Children: []orgsync.Filter{eq(orgsync.SubValue, "x")}}, "invalid"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := tt.f
				ms, total, err := s.SCIMMembers(ctx, "acme", orgsync.Query{Filter: &f, StartIndex: 1, Count: 100})
				if tt.want == "invalid" {
					if !errors.Is(err, orgsync.ErrInvalid) {
						t.Fatalf("err = %v (members %v), want ErrInvalid", err, ms)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, m := range ms {
					names = append(names, m.UserName)
				}
				sort.Strings(names)
				if got := strings.Join(names, " "); got != tt.want || total != len(ms) {
					t.Fatalf("got %q (total %d), want %q", got, total, tt.want)
				}
			})
		}
	})
}

func TestSCIMPaging(t *testing.T) {
	forBackends(t, func(t *testing.T, s *store.Store) {
		for i := 0; i < 7; i++ {
			mustCreate(t, s, "acme", scimUser(fmt.Sprintf("u%d@example.org", i)))
		}
		seen := map[string]bool{}
		for start := 1; start <= 7; start += 3 {
			ms, total, err := s.SCIMMembers(ctx, "acme", orgsync.Query{StartIndex: start, Count: 3})
			if err != nil || total != 7 {
				t.Fatalf("page %d: total %d, %v", start, total, err)
			}
			for _, m := range ms {
				if seen[m.ID] {
					t.Fatalf("member %s on two pages", m.UserName)
				}
				seen[m.ID] = true
			}
		}
		if len(seen) != 7 {
			t.Fatalf("pages covered %d members, want 7", len(seen))
		}
		ms, total, err := s.SCIMMembers(ctx, "acme", orgsync.Query{StartIndex: 1, Count: 0})
		if err != nil || total != 7 || len(ms) != 0 {
			t.Fatalf("count=0: %d members, total %d, %v", len(ms), total, err)
		}
		ms, total, err = s.SCIMMembers(ctx, "acme", orgsync.Query{StartIndex: 50, Count: 10})
		if err != nil || total != 7 || len(ms) != 0 {
			t.Fatalf("past the end: %d members, total %d, %v", len(ms), total, err)
		}
	})
}

func TestSCIMGroups(t *testing.T) {
	forBackends(t, func(t *testing.T, s *store.Store) {
		a := mustCreate(t, s, "acme", scimUser("a@example.org"))
		b := mustCreate(t, s, "acme", scimUser("b@example.org"))
		c := mustCreate(t, s, "acme", scimUser("c@example.org"))
		g, err := s.SCIMCreateGroup(ctx, "acme", orgsync.Group{DisplayName: "Engineering", Members: []string{a.ID, a.ID}})
		if err != nil || g.Version != 1 {
			t.Fatalf("create group = %+v, %v", g, err)
		}
		if _, err := s.SCIMCreateGroup(ctx, "acme", orgsync.Group{DisplayName: "engineering"}); !errors.Is(err, orgsync.ErrConflict) {
			t.Fatalf("duplicate group: %v", err)
		}
		if _, err := s.SCIMCreateGroup(ctx, "acme", orgsync.Group{DisplayName: "x", Members: []string{"nope"}}); !errors.Is(err, orgsync.ErrInvalid) {
			t.Fatalf("unknown member: %v", err)
		}
		members := func() string {
			t.Helper()
			got, briefs, err := s.SCIMGroup(ctx, "acme", g.ID, true)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, id := range got.Members {
				names = append(names, briefs[id].UserName)
			}
			return strings.Join(names, " ")
		}
		patch := func(ver int64, ops ...orgsync.MembershipOp) orgsync.Group {
			t.Helper()
			out, err := s.SCIMUpdateGroup(ctx, "acme", g.ID, ver, orgsync.GroupPatch{Membership: ops})
			if err != nil {
				t.Fatalf("patch: %v", err)
			}
			return out
		}
		add := func(ids ...string) orgsync.MembershipOp {
			return orgsync.MembershipOp{Action: orgsync.MembershipAdd, MemberIDs: ids}
		}
		rm := func(ids ...string) orgsync.MembershipOp {
			return orgsync.MembershipOp{Action: orgsync.MembershipRemove, MemberIDs: ids}
		}
		if got := patch(1, add(b.ID), add(b.ID)); got.Version != 2 {
			t.Fatalf("add: version %d", got.Version)
		}
		if got := patch(0, add(a.ID, b.ID), rm("absent")); got.Version != 2 {
			t.Fatalf("no-op patch bumped the version to %d", got.Version)
		}
		if got := members(); got != "a@example.org b@example.org" {
			t.Fatalf("members = %q", got)
		}
		if _, err := s.SCIMUpdateGroup(ctx, "acme", g.ID, 1, orgsync.GroupPatch{Membership: []orgsync.MembershipOp{add(c.ID)}}); !errors.Is(err, orgsync.ErrPrecondition) {
			t.Fatalf("stale version: %v", err)
		}
		// Atomic: a bad op rolls back the good one before it.
		if _, err := s.SCIMUpdateGroup(ctx, "acme", g.ID, 0, orgsync.GroupPatch{Membership: []orgsync.MembershipOp{add(c.ID), add("ghost")}}); !errors.Is(err, orgsync.ErrInvalid) {
			t.Fatalf("bad member: %v", err)
		}
		patch(0, rm(a.ID), add(c.ID))
		if got := members(); got != "b@example.org c@example.org" {
			t.Fatalf("after remove+add = %q", got)
		}
		patch(0, orgsync.MembershipOp{Action: orgsync.MembershipReplace, MemberIDs: []string{a.ID, c.ID}})
		if got := members(); got != "a@example.org c@example.org" {
			t.Fatalf("after replace = %q", got)
		}
		// Deleted members vanish from the group view but keep the row.
		if err := s.SCIMDeleteMember(ctx, "acme", c.ID, 0); err != nil {
			t.Fatal(err)
		}
		if got := members(); got != "a@example.org" {
			t.Fatalf("after member delete = %q", got)
		}
		name := "Platform"
		out, err := s.SCIMUpdateGroup(ctx, "acme", g.ID, 0, orgsync.GroupPatch{DisplayName: &name})
		if err != nil || out.DisplayName != "Platform" {
			t.Fatalf("rename = %+v, %v", out, err)
		}
		other, _ := s.SCIMCreateGroup(ctx, "acme", orgsync.Group{DisplayName: "Ops"})
		taken := "PLATFORM"
		if _, err := s.SCIMUpdateGroup(ctx, "acme", other.ID, 0, orgsync.GroupPatch{DisplayName: &taken}); !errors.Is(err, orgsync.ErrConflict) {
			t.Fatalf("rename onto taken name: %v", err)
		}
		f := orgsync.Filter{Op: orgsync.FilterEq, Attr: orgsync.AttrDisplayName, Value: "platform"}
		gs, _, total, err := s.SCIMGroups(ctx, "acme", orgsync.Query{Filter: &f, StartIndex: 1, Count: 10}, false)
		if err != nil || total != 1 || gs[0].ID != g.ID || gs[0].Members != nil {
			t.Fatalf("filter groups = %+v %d %v", gs, total, err)
		}
		mf := orgsync.Filter{Op: orgsync.FilterAny, Attr: orgsync.AttrMembers, Children: []orgsync.Filter{{Op: orgsync.FilterEq, Attr: orgsync.SubValue, Value: a.ID}}}
		if gs, _, total, err = s.SCIMGroups(ctx, "acme", orgsync.Query{Filter: &mf, StartIndex: 1, Count: 10}, true); err != nil || total != 1 || len(gs[0].Members) != 1 {
			t.Fatalf("members filter = %+v %d %v", gs, total, err)
		}
		if err := s.SCIMDeleteGroup(ctx, "acme", g.ID, 0); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SCIMGroup(ctx, "acme", g.ID, true); !errors.Is(err, orgsync.ErrNotFound) {
			t.Fatalf("deleted group: %v", err)
		}
		if _, err := s.SCIMMember(ctx, "acme", a.ID); err != nil {
			t.Fatalf("group delete removed a member: %v", err)
		}
	})
}

// TestSCIMConcurrentGroupPatches: concurrent single-member PATCHes (Entra
// sends them) lose no update, and the feed has one event per add.
func TestSCIMConcurrentGroupPatches(t *testing.T) {
	forBackends(t, func(t *testing.T, s *store.Store) {
		const n = 40
		ids := make([]string, n)
		for i := range ids {
			ids[i] = mustCreate(t, s, "acme", scimUser(fmt.Sprintf("m%02d@example.org", i))).ID
		}
		g, err := s.SCIMCreateGroup(ctx, "acme", orgsync.Group{DisplayName: "all"})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for _, id := range ids {
			wg.Add(1)
			go func(id string) {
				defer wg.Done()
				_, err := s.SCIMUpdateGroup(ctx, "acme", g.ID, 0, orgsync.GroupPatch{Membership: []orgsync.MembershipOp{{Action: orgsync.MembershipAdd, MemberIDs: []string{id}}}})
				errs <- err
			}(id)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, _, err := s.SCIMGroup(ctx, "acme", g.ID, true)
		if err != nil || len(got.Members) != n || got.Version != n+1 {
			t.Fatalf("group has %d members at version %d (%v), want %d at %d", len(got.Members), got.Version, err, n, n+1)
		}
		evs, _ := s.Events(ctx, "acme", 0, 1000)
		adds := 0
		for _, e := range evs {
			if e.Kind == orgsync.EventGroupMemberAdded && e.GroupID == g.ID {
				adds++
			}
		}
		if adds != n {
			t.Fatalf("%d member_added events, want %d", adds, n)
		}
	})
}
