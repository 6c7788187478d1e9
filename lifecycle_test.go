package orgsync_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
)

var (
	tSetup  = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tDeprov = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	tDel    = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tNow    = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
)

func at(t time.Time) *time.Time { return &t }

// The states a stored member can be in. Version and UpdatedAt are set so
// that a transition touching them shows.
func states() map[string]orgsync.Member {
	base := orgsync.Member{ID: "m1", UserName: "alice@example.org", Owner: "ldap", Version: 7, UpdatedAt: tSetup}
	with := func(f func(*orgsync.Member)) orgsync.Member { m := base; f(&m); return m }
	return map[string]orgsync.Member{
		"pending": with(func(m *orgsync.Member) { m.Status = orgsync.StatusPendingSetup }),
		"active":  with(func(m *orgsync.Member) { m.Status, m.SetupCompletedAt = orgsync.StatusActive, at(tSetup) }),
		"deprovisioned, never set up": with(func(m *orgsync.Member) {
			m.Status, m.DeprovisionedAt = orgsync.StatusDeprovisioned, at(tDeprov)
		}),
		"deprovisioned, set up": with(func(m *orgsync.Member) {
			m.Status, m.SetupCompletedAt, m.DeprovisionedAt = orgsync.StatusDeprovisioned, at(tSetup), at(tDeprov)
		}),
		"tombstone, never set up": with(func(m *orgsync.Member) {
			m.Status, m.DeprovisionedAt, m.DeletedAt = orgsync.StatusDeprovisioned, at(tDeprov), at(tDel)
		}),
		"tombstone, set up": with(func(m *orgsync.Member) {
			m.Status, m.SetupCompletedAt, m.DeprovisionedAt, m.DeletedAt = orgsync.StatusDeprovisioned, at(tSetup), at(tDeprov), at(tDel)
		}),
		// Not made by orgsync, but a row an older release or a hand edit may
		// have left: deleted without being deprovisioned.
		"deleted, not deprovisioned": with(func(m *orgsync.Member) {
			m.Status, m.SetupCompletedAt, m.DeletedAt = orgsync.StatusActive, at(tSetup), at(tDel)
		}),
	}
}

// lifecycle is the part of a member a transition may change.
type lifecycle struct {
	status                 orgsync.Status
	setup, deprov, deleted *time.Time
	owner                  string
	version                int64
	updatedAt              time.Time
}

func stateOf(m orgsync.Member) lifecycle {
	return lifecycle{m.Status, m.SetupCompletedAt, m.DeprovisionedAt, m.DeletedAt, m.Owner, m.Version, m.UpdatedAt}
}

func sameTime(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }

func (l lifecycle) equal(o lifecycle) bool {
	return l.status == o.status && sameTime(l.setup, o.setup) && sameTime(l.deprov, o.deprov) &&
		sameTime(l.deleted, o.deleted) && l.owner == o.owner && l.version == o.version && l.updatedAt.Equal(o.updatedAt)
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "nil"
	}
	return t.Format(time.DateOnly)
}

func (l lifecycle) String() string {
	return string(l.status) + " setup=" + fmtTime(l.setup) + " deprov=" + fmtTime(l.deprov) + " deleted=" + fmtTime(l.deleted) + " owner=" + l.owner
}

// transitionCase is the expected outcome of one transition from one state:
// the event kind and how the lifecycle fields end up (from the state's own).
type transitionCase struct {
	kind string
	want func(lifecycle) lifecycle
}

func unchanged(l lifecycle) lifecycle { return l }

func runTransitions(t *testing.T, name string, do func(*orgsync.Member) string, cases map[string]transitionCase) {
	t.Helper()
	all := states()
	if len(cases) != len(all) {
		t.Fatalf("%s: %d cases for %d states", name, len(cases), len(all))
	}
	for state, c := range cases {
		m, ok := all[state]
		if !ok {
			t.Fatalf("%s: unknown state %q", name, state)
		}
		before := stateOf(m)
		kind := do(&m)
		if got, want := stateOf(m), c.want(before); kind != c.kind || !got.equal(want) {
			t.Errorf("%s from %s = %q, %v; want %q, %v", name, state, kind, got, c.kind, want)
		}
		if m.Version != 7 || !m.UpdatedAt.Equal(tSetup) {
			t.Errorf("%s from %s touched Version or UpdatedAt: %d %v", name, state, m.Version, m.UpdatedAt)
		}
	}
}

func TestDeprovision(t *testing.T) {
	deprovNow := func(l lifecycle) lifecycle { l.status, l.deprov = orgsync.StatusDeprovisioned, at(tNow); return l }
	runTransitions(t, "Deprovision", func(m *orgsync.Member) string { return m.Deprovision(tNow) }, map[string]transitionCase{
		"pending":                     {orgsync.EventMemberDeprovisioned, deprovNow},
		"active":                      {orgsync.EventMemberDeprovisioned, deprovNow}, // setup kept
		"deprovisioned, never set up": {"", unchanged},                               // DeprovisionedAt kept for the purge
		"deprovisioned, set up":       {"", unchanged},
		"tombstone, never set up":     {"", unchanged},
		"tombstone, set up":           {"", unchanged},
		"deleted, not deprovisioned":  {orgsync.EventMemberDeprovisioned, deprovNow},
	})
}

func TestReactivate(t *testing.T) {
	to := func(s orgsync.Status) func(lifecycle) lifecycle {
		return func(l lifecycle) lifecycle { l.status, l.deprov, l.deleted = s, nil, nil; return l }
	}
	runTransitions(t, "Reactivate", func(m *orgsync.Member) string { return m.Reactivate() }, map[string]transitionCase{
		"pending":                     {"", unchanged},
		"active":                      {"", unchanged},
		"deprovisioned, never set up": {orgsync.EventMemberReactivated, to(orgsync.StatusPendingSetup)},
		"deprovisioned, set up":       {orgsync.EventMemberReactivated, to(orgsync.StatusActive)},
		"tombstone, never set up":     {orgsync.EventMemberReactivated, to(orgsync.StatusPendingSetup)},
		"tombstone, set up":           {orgsync.EventMemberReactivated, to(orgsync.StatusActive)},
		"deleted, not deprovisioned":  {orgsync.EventMemberReactivated, to(orgsync.StatusActive)},
	})
}

func TestSetActive(t *testing.T) {
	for state, m := range states() {
		for _, active := range []bool{true, false} {
			a, b := m, m
			var want string
			if active {
				want = a.Reactivate()
			} else {
				want = a.Deprovision(tNow)
			}
			if got := b.SetActive(tNow, active); got != want || !stateOf(a).equal(stateOf(b)) {
				t.Errorf("SetActive(%v) from %s = %q, %v; want %q, %v", active, state, got, stateOf(b), want, stateOf(a))
			}
		}
	}
}

func TestDelete(t *testing.T) {
	deleteNow := func(l lifecycle) lifecycle {
		l.status, l.deprov, l.deleted = orgsync.StatusDeprovisioned, at(tNow), at(tNow)
		return l
	}
	keepDeprov := func(l lifecycle) lifecycle { l.deleted = at(tNow); return l }
	runTransitions(t, "Delete", func(m *orgsync.Member) string { return m.Delete(tNow) }, map[string]transitionCase{
		"pending":                     {orgsync.EventMemberDeleted, deleteNow},
		"active":                      {orgsync.EventMemberDeleted, deleteNow}, // setup kept
		"deprovisioned, never set up": {orgsync.EventMemberDeleted, keepDeprov},
		"deprovisioned, set up":       {orgsync.EventMemberDeleted, keepDeprov},
		"tombstone, never set up":     {"", unchanged},
		"tombstone, set up":           {"", unchanged},
		"deleted, not deprovisioned":  {"", unchanged},
	})
}

func TestCompleteSetup(t *testing.T) {
	done := func(l lifecycle) lifecycle { l.status, l.setup = orgsync.StatusActive, at(tNow); return l }
	refused := 0
	runTransitions(t, "CompleteSetup", func(m *orgsync.Member) string {
		kind, err := m.CompleteSetup(tNow)
		if err != nil {
			if !errors.Is(err, orgsync.ErrInvalid) || !strings.Contains(err.Error(), "reactivate it before completing setup") || kind != "" {
				t.Errorf("CompleteSetup of %s: %q, %v", m.UserName, kind, err)
			}
			refused++
			return "refused"
		}
		return kind
	}, map[string]transitionCase{
		"pending":                     {orgsync.EventMemberSetupComplete, done},
		"active":                      {"", unchanged}, // the first completion's time kept
		"deprovisioned, never set up": {"refused", unchanged},
		"deprovisioned, set up":       {"refused", unchanged},
		"tombstone, never set up":     {"refused", unchanged},
		"tombstone, set up":           {"refused", unchanged},
		"deleted, not deprovisioned":  {"refused", unchanged},
	})
	if refused != 5 {
		t.Errorf("refused %d members, want the 5 deprovisioned or deleted", refused)
	}
}

func TestClaimUserName(t *testing.T) {
	m := func(owner, ext string, status orgsync.Status, deleted bool) *orgsync.Member {
		h := &orgsync.Member{UserName: "alice@example.org", Owner: owner, ExternalID: ext, Status: status}
		if deleted {
			h.DeletedAt = at(tDel)
		}
		return h
	}
	const (
		live   = orgsync.StatusActive
		deprov = orgsync.StatusDeprovisioned
	)
	for _, c := range []struct {
		name   string
		holder *orgsync.Member
		ext    string
		want   orgsync.Claim
	}{
		{"nobody", nil, "X", orgsync.ClaimFree},
		{"unowned", m("", "", live, false), "X", orgsync.ClaimAdopt},
		{"unowned, deprovisioned", m("", "", deprov, false), "X", orgsync.ClaimAdopt},
		{"a source's", m("ldap", "X", live, false), "X", orgsync.ClaimOwned},
		{"a source's, deprovisioned, same key", m("ldap", "X", deprov, false), "X", orgsync.ClaimOwned},
		{"live SCIM member", m(orgsync.OwnerSCIM, "X", live, false), "X", orgsync.ClaimTaken},
		{"live SCIM member, other externalId", m(orgsync.OwnerSCIM, "X", live, false), "Y", orgsync.ClaimTaken},
		{"pending SCIM member", m(orgsync.OwnerSCIM, "X", orgsync.StatusPendingSetup, false), "X", orgsync.ClaimTaken},
		{"tombstone, same externalId", m(orgsync.OwnerSCIM, "X", deprov, true), "X", orgsync.ClaimRevive},
		{"tombstone, both externalIds empty", m(orgsync.OwnerSCIM, "", deprov, true), "", orgsync.ClaimRevive},
		{"tombstone, other externalId", m(orgsync.OwnerSCIM, "X", deprov, true), "Y", orgsync.ClaimRetire},
		{"tombstone without externalId, create with one", m(orgsync.OwnerSCIM, "", deprov, true), "Y", orgsync.ClaimRetire},
		{"tombstone with externalId, create without", m(orgsync.OwnerSCIM, "X", deprov, true), "", orgsync.ClaimRetire},
		{"deprovisioned SCIM member, same externalId", m(orgsync.OwnerSCIM, "X", deprov, false), "X", orgsync.ClaimRevive},
		{"deprovisioned SCIM member, other externalId", m(orgsync.OwnerSCIM, "X", deprov, false), "Y", orgsync.ClaimOtherIdentity},
	} {
		if got := orgsync.ClaimUserName(c.holder, c.ext); got != c.want {
			t.Errorf("%s: ClaimUserName = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestRevive(t *testing.T) {
	all := states()
	scim := func(state string, owner string) orgsync.Member { m := all[state]; m.Owner = owner; return m }
	for _, c := range []struct {
		name   string
		m      orgsync.Member
		active bool
		kind   string
		want   orgsync.Status
		deprov *time.Time
	}{
		{"tombstone set up, active", scim("tombstone, set up", orgsync.OwnerSCIM), true, orgsync.EventMemberReactivated, orgsync.StatusActive, nil},
		{"tombstone never set up, active", scim("tombstone, never set up", orgsync.OwnerSCIM), true, orgsync.EventMemberReactivated, orgsync.StatusPendingSetup, nil},
		{"tombstone, inactive", scim("tombstone, set up", orgsync.OwnerSCIM), false, orgsync.EventMemberReactivated, orgsync.StatusDeprovisioned, at(tDeprov)},
		{"deprovisioned, active", scim("deprovisioned, set up", orgsync.OwnerSCIM), true, orgsync.EventMemberReactivated, orgsync.StatusActive, nil},
		{"deprovisioned, inactive", scim("deprovisioned, never set up", orgsync.OwnerSCIM), false, orgsync.EventMemberReactivated, orgsync.StatusDeprovisioned, at(tDeprov)},
		{"unowned active, active", scim("active", ""), true, orgsync.EventMemberAdopted, orgsync.StatusActive, nil},
		{"unowned pending, inactive", scim("pending", ""), false, orgsync.EventMemberAdopted, orgsync.StatusDeprovisioned, at(tNow)},
		{"unowned deprovisioned, active", scim("deprovisioned, never set up", ""), true, orgsync.EventMemberAdopted, orgsync.StatusPendingSetup, nil},
	} {
		m := c.m
		setup := m.SetupCompletedAt
		kind := m.Revive(tNow, c.active)
		if kind != c.kind || m.Status != c.want || m.Owner != orgsync.OwnerSCIM || m.DeletedAt != nil ||
			!sameTime(m.DeprovisionedAt, c.deprov) || !sameTime(m.SetupCompletedAt, setup) || m.ID != "m1" || m.Version != 7 {
			t.Errorf("%s: Revive = %q, %v", c.name, kind, stateOf(m))
		}
	}
}

func TestMayApply(t *testing.T) {
	member := func(owner, role string, state string) *orgsync.Member {
		m := states()[state]
		m.Owner, m.Role = owner, role
		return &m
	}
	const dep = "deprovisioned, set up"
	for _, c := range []struct {
		owner  string
		action orgsync.Action
		m      *orgsync.Member
		refuse string // "" for allowed
	}{
		// A source changes only its own members.
		{"ldap", orgsync.ActionUpdate, member("ldap", "member", "active"), ""},
		{"ldap", orgsync.ActionDeprovision, member("ldap", "admin", "active"), ""},
		{"ldap", orgsync.ActionReactivate, member("ldap", "member", dep), ""},
		{"ldap", orgsync.ActionUpdate, member("hr", "member", "active"), `member is owned by "hr"`},
		{"ldap", orgsync.ActionDeprovision, member(orgsync.OwnerSCIM, "member", "active"), `member is owned by "scim"`},
		{"ldap", orgsync.ActionReactivate, member("", "member", dep), `member is owned by "nobody (unmanaged)"`},
		// The SCIM receiver owns only SCIM's members.
		{orgsync.OwnerSCIM, orgsync.ActionUpdate, member(orgsync.OwnerSCIM, "member", "active"), ""},
		{orgsync.OwnerSCIM, orgsync.ActionDeprovision, member("ldap", "member", "active"), `member is owned by "ldap"`},
		// Adopt takes over only a member nobody owns.
		{"ldap", orgsync.ActionAdopt, member("", "member", "active"), ""},
		{"ldap", orgsync.ActionAdopt, member("ldap", "member", "active"), `member is owned by "ldap"`},
		{"ldap", orgsync.ActionAdopt, member("hr", "member", "active"), `member is owned by "hr"`},
		// The purge removes deprovisioned or deleted members of any owner,
		// never an admin however spelled.
		{orgsync.OwnerPurge, orgsync.ActionPurge, member("ldap", "member", dep), ""},
		{orgsync.OwnerPurge, orgsync.ActionPurge, member(orgsync.OwnerSCIM, "member", "tombstone, never set up"), ""},
		{orgsync.OwnerPurge, orgsync.ActionPurge, member("", "", dep), ""},
		{orgsync.OwnerPurge, orgsync.ActionPurge, member(orgsync.OwnerSCIM, "member", "deleted, not deprovisioned"), ""},
		{"", orgsync.ActionPurge, member("ldap", "member", dep), ""},
		{orgsync.OwnerPurge, orgsync.ActionPurge, member("ldap", "administrator", dep), ""},
		{orgsync.OwnerPurge, orgsync.ActionPurge, member("ldap", "admin", dep), "admins are never purged"},
		{orgsync.OwnerPurge, orgsync.ActionPurge, member("ldap", "Admin", dep), "admins are never purged"},
		{orgsync.OwnerPurge, orgsync.ActionPurge, member("ldap", " admin ", dep), "admins are never purged"},
		{orgsync.OwnerPurge, orgsync.ActionPurge, member("ldap", "ADMIN\t", "tombstone, set up"), "admins are never purged"},
		{orgsync.OwnerPurge, orgsync.ActionPurge, member("ldap", "admin", "active"), "admins are never purged"},
		{orgsync.OwnerPurge, orgsync.ActionPurge, member("ldap", "member", "active"), "member is not deprovisioned"},
		{orgsync.OwnerPurge, orgsync.ActionPurge, member("ldap", "member", "pending"), "member is not deprovisioned"},
		// Provision makes a member: nothing to own yet.
		{"ldap", orgsync.ActionProvision, member("hr", "member", "active"), ""},
	} {
		err := orgsync.MayApply(c.owner, c.action, c.m)
		var r *orgsync.Refusal
		switch {
		case c.refuse == "" && err != nil:
			t.Errorf("MayApply(%q, %s, owner %q role %q %s) = %v, want nil", c.owner, c.action, c.m.Owner, c.m.Role, c.m.Status, err)
		case c.refuse != "" && (err == nil || err.Error() != c.refuse || !errors.Is(err, orgsync.ErrConflict) || !errors.As(err, &r)):
			t.Errorf("MayApply(%q, %s, owner %q role %q %s) = %v, want refusal %q", c.owner, c.action, c.m.Owner, c.m.Role, c.m.Status, err, c.refuse)
		}
	}
	if err := orgsync.MayApply(orgsync.OwnerPurge, orgsync.ActionPurge, member("ldap", " Admin", dep)); !errors.Is(err, orgsync.ErrPurgeAdmin) {
		t.Errorf("admin purge: %v is not ErrPurgeAdmin", err)
	}
	if err := orgsync.MayApply(orgsync.OwnerPurge, orgsync.ActionPurge, member("ldap", "member", "active")); !errors.Is(err, orgsync.ErrPurgeLive) {
		t.Errorf("live purge: %v is not ErrPurgeLive", err)
	}
}

func TestMayChangeGroup(t *testing.T) {
	for _, c := range []struct{ owner, group, refuse string }{
		{"ldap", "ldap", ""},
		{orgsync.OwnerSCIM, orgsync.OwnerSCIM, ""},
		{"ldap", "hr", `group is owned by "hr"`},
		{"ldap", orgsync.OwnerSCIM, `group is owned by "scim"`},
		{"ldap", "", `group is owned by "nobody (unmanaged)"`},
		{"", "", ""},
	} {
		err := orgsync.MayChangeGroup(c.owner, c.group)
		if (c.refuse == "" && err != nil) || (c.refuse != "" && (err == nil || err.Error() != c.refuse || !errors.Is(err, orgsync.ErrConflict))) {
			t.Errorf("MayChangeGroup(%q, %q) = %v, want %q", c.owner, c.group, err, c.refuse)
		}
	}
}

func TestOwnerNames(t *testing.T) {
	for name, want := range map[string]bool{"scim": true, "purge": true, "ldap": false, "": false, "SCIM": false} {
		if got := orgsync.ReservedOwner(name); got != want {
			t.Errorf("ReservedOwner(%q) = %v", name, got)
		}
	}
	if orgsync.OwnerName("") != "nobody (unmanaged)" || orgsync.OwnerName("ldap") != "ldap" {
		t.Errorf("OwnerName: %q, %q", orgsync.OwnerName(""), orgsync.OwnerName("ldap"))
	}
	if got := orgsync.RetiredUserName("alice@example.org", "01J"); got != "alice@example.org~deleted~01J" {
		t.Errorf("RetiredUserName = %q", got)
	}
}

// TestDeps keeps the domain free of every dependency but the standard
// library, as the package doc says.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep != "github.com/orgsync/orgsync" {
			t.Errorf("the root package depends on %s", dep)
		}
	}
}
