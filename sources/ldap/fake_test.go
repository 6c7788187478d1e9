package ldap

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/sources/ldap/internal/wire"
)

// fakeEntry is a directory entry of the fake: a DN and attribute values.
type fakeEntry struct {
	dn    string
	attrs map[string][]string
}

func ent(dn string, kv ...string) fakeEntry {
	e := fakeEntry{dn: dn, attrs: map[string][]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		e.attrs[kv[i]] = append(e.attrs[kv[i]], kv[i+1])
	}
	return e
}

// fakeConn answers searches from a table keyed by "base|filter", paging
// them with an offset cookie. It does not evaluate filters: a test lists
// what each search of its config returns.
type fakeConn struct {
	results  map[string][]fakeEntry
	bindErr  error
	errAt    map[string]error // "base|filter" → error after the first page
	searches []wire.SearchRequest
	closed   bool
}

func (f *fakeConn) Bind(ctx context.Context, dn, password string) error { return f.bindErr }
func (f *fakeConn) Close() error                                        { f.closed = true; return nil }

func (f *fakeConn) Search(ctx context.Context, req wire.SearchRequest, fn func(*wire.Entry) error) (wire.PageResult, error) {
	f.searches = append(f.searches, req)
	key := req.Base + "|" + req.Filter
	all, ok := f.results[key]
	if !ok {
		return wire.PageResult{}, fmt.Errorf("fake: no results for %q", key)
	}
	off := 0
	if req.Paging != nil && len(req.Paging.Cookie) > 0 {
		off, _ = strconv.Atoi(string(req.Paging.Cookie))
		if err := f.errAt[key]; err != nil {
			return wire.PageResult{}, err
		}
	}
	end := len(all)
	if req.Paging != nil && off+int(req.Paging.Size) < end {
		end = off + int(req.Paging.Size)
	}
	for _, fe := range all[off:end] {
		e := wire.Entry{DN: []byte(fe.dn)}
		for name, vals := range fe.attrs {
			if !wanted(req.Attrs, name) {
				continue
			}
			a := wire.Attribute{Name: []byte(name)}
			for _, v := range vals {
				a.Values = append(a.Values, []byte(v))
			}
			e.Attrs = append(e.Attrs, a)
		}
		if err := fn(&e); err != nil {
			return wire.PageResult{}, err
		}
	}
	res := wire.PageResult{Paged: req.Paging != nil}
	if end < len(all) {
		res.Cookie = []byte(strconv.Itoa(end))
	}
	return res, nil
}

func wanted(attrs []string, name string) bool {
	base, _, _ := strings.Cut(name, ";")
	for _, a := range attrs {
		if strings.EqualFold(a, base) || strings.EqualFold(a, name) {
			return true
		}
	}
	return false
}

// fakeSource is a Source over f with cfg (defaults applied).
func fakeSource(t *testing.T, cfg Config, f *fakeConn) *Source {
	t.Helper()
	if cfg.URL == "" {
		cfg.URL = "ldap://fake.example"
	}
	if cfg.User.BaseDN == "" {
		cfg.User.BaseDN = "ou=people,dc=x"
	}
	s, err := New("fake", cfg, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel))
	if err != nil {
		t.Fatal(err)
	}
	s.dial = func(context.Context, string) (conn, error) { return f, nil }
	s.Now = func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }
	return s
}

// person is a user entry; kv replaces the generated attributes it names.
func person(uid string, kv ...string) fakeEntry {
	e := ent("uid="+uid+",ou=people,dc=x", "entryUUID", "uuid-"+uid, "mail", uid+"@x.org",
		"uid", uid, "givenName", strings.ToUpper(uid[:1])+uid[1:], "sn", "Doe", "cn", uid+" Doe")
	for i := 0; i+1 < len(kv); i += 2 {
		e.attrs[kv[i]] = []string{kv[i+1]}
	}
	return e
}

func groupOf(cn string, members ...string) fakeEntry {
	kv := []string{"entryUUID", "guuid-" + cn, "cn", cn}
	for _, m := range members {
		kv = append(kv, "member", m)
	}
	return ent("cn="+cn+",ou=groups,dc=x", kv...)
}

func udn(uid string) string { return "uid=" + uid + ",ou=people,dc=x" }
func gdn(cn string) string  { return "cn=" + cn + ",ou=groups,dc=x" }

const (
	usersKey    = "ou=people,dc=x|(objectClass=inetOrgPerson)"
	disabledKey = "ou=people,dc=x|(&(objectClass=inetOrgPerson)(employeeType=disabled))"
	groupsKey   = "ou=groups,dc=x|(objectClass=groupOfNames)"
)

func TestSnapshotMapping(t *testing.T) {
	f := &fakeConn{results: map[string][]fakeEntry{
		usersKey: {
			person("alice"), person("bob"), person("carol"), person("dave"), person("erin"),
			ent("uid=nomail,ou=people,dc=x", "entryUUID", "uuid-nomail", "uid", "nomail"),
			ent("uid=noid,ou=people,dc=x", "mail", "noid@x.org"),
			person("dup1", "mail", "SAME@x.org"), person("dup2", "mail", "same@x.org"),
			person("id1", "entryUUID", "uuid-same"), person("id2", "entryUUID", "uuid-same"),
			person("outside"),
		},
		disabledKey: {ent("UID=Carol,OU=People,DC=X")},
		groupsKey: {
			groupOf("kms", udn("alice"), "UID=BOB, OU=people, dc=x", gdn("eng"), udn("nomail"), "uid=ghost,ou=people,dc=x"),
			groupOf("eng", udn("carol"), gdn("ops")),
			groupOf("ops", udn("dave"), gdn("eng")), // cycle
			groupOf("admins", udn("alice"), udn("dave")),
			groupOf("auditors", udn("dave"), udn("bob")),
			groupOf("other", udn("outside")),
			ent("cn=noid,ou=groups,dc=x", "cn", "noid", "member", udn("alice")),
			groupOf("Same"), ent("cn=same2,ou=groups,dc=x", "entryUUID", "guuid-same2", "cn", "same"),
		},
	}}
	cfg := Config{
		User:         UserConfig{DisabledFilter: "(employeeType=disabled)"},
		Group:        GroupConfig{BaseDN: "ou=groups,dc=x", Nested: true},
		RequireGroup: "CN=KMS,OU=Groups,DC=X",
		RoleMap:      map[string]string{gdn("admins"): "admin", gdn("auditors"): "auditor", gdn("ops"): "operator"},
	}
	var progress []orgsync.Progress
	s := fakeSource(t, cfg, f)
	s.OnProgress(func(p orgsync.Progress) { progress = append(progress, p) })
	snap, err := s.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !f.closed {
		t.Error("connection not closed")
	}

	got := map[string]orgsync.Member{}
	for _, m := range snap.Members {
		got[m.UserName] = m
	}
	want := map[string]struct {
		role   string
		status orgsync.Status
	}{
		"alice@x.org": {"admin", orgsync.StatusActive},
		"bob@x.org":   {"auditor", orgsync.StatusActive},
		"carol@x.org": {"operator", orgsync.StatusDeprovisioned}, // eng is in ops (a cycle)
		"dave@x.org":  {"admin", orgsync.StatusActive},           // admin beats auditor and operator
	}
	if len(got) != len(want) {
		t.Errorf("members = %v, want the %d of kms (erin and outside are not in it)", keys(got), len(want))
	}
	for name, w := range want {
		m, ok := got[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		if m.Role != w.role || m.Status != w.status {
			t.Errorf("%s: role %q status %q, want %q %q", name, m.Role, m.Status, w.role, w.status)
		}
	}
	a := got["alice@x.org"]
	if a.ExternalID != "uuid-alice" || a.GivenName != "Alice" || a.FamilyName != "Doe" || a.DisplayName != "alice Doe" ||
		len(a.Emails) != 1 || a.Emails[0] != (orgsync.Email{Value: "alice@x.org", Type: "work", Primary: true}) {
		t.Errorf("alice = %+v", a)
	}

	groups := map[string]orgsync.Group{}
	for _, g := range snap.Groups {
		groups[g.DisplayName] = g
	}
	// A group without an id is held by its name; groups sharing a name are
	// kept, for the reconciler to hold.
	if _, ok := groups["noid"]; ok || groups["Same"].ExternalID != "guuid-Same" || groups["same"].ExternalID != "guuid-same2" {
		t.Errorf("groups = %v: want noid held and both Same and same kept", keysG(groups))
	}
	wantHeldGroups := []orgsync.HeldEntry{{Name: "noid", Ref: `group "cn=noid,ou=groups,dc=x"`, DN: "cn=noid,ou=groups,dc=x", Reason: "no entryUUID (ldap.group.id_attribute)"}}
	if !reflect.DeepEqual(snap.HeldGroups, wantHeldGroups) {
		t.Errorf("held groups = %+v, want %+v", snap.HeldGroups, wantHeldGroups)
	}
	// A user without a user name is held by its key (noid is out of scope:
	// not in kms).
	wantHeldUsers := []orgsync.HeldEntry{{Key: "uuid-nomail", Ref: `user "uid=nomail,ou=people,dc=x"`, DN: "uid=nomail,ou=people,dc=x", Reason: "no mail (ldap.user.user_name_attribute)"}}
	if !reflect.DeepEqual(snap.HeldUsers, wantHeldUsers) {
		t.Errorf("held users = %+v, want %+v", snap.HeldUsers, wantHeldUsers)
	}
	if kms := groups["kms"]; strings.Join(kms.Members, ",") != "uuid-alice,uuid-bob" || strings.Join(kms.Subgroups, ",") != "guuid-eng" {
		t.Errorf("kms = %+v, want alice and bob (DN matched case- and space-insensitively) and sub eng", kms)
	}
	if eng, ops := groups["eng"], groups["ops"]; strings.Join(eng.Subgroups, ",") != "guuid-ops" || strings.Join(ops.Subgroups, ",") != "guuid-eng" {
		t.Errorf("cycle eng/ops = %+v / %+v", eng, ops)
	}
	if other := groups["other"]; len(other.Members) != 0 {
		t.Errorf("other = %+v: outside is out of scope", other)
	}

	for _, w := range []string{
		`share the user name "same@x.org" (ldap.user.user_name_attribute): all kept, for the reconciler to hold`,
		`share the id "uuid-same" (ldap.user.id_attribute): all kept, for the reconciler to hold`,
		`share the name "same" (ldap.group.name_attribute): all kept, for the reconciler to hold`,
	} {
		if !containsSub(snap.Warnings, w) {
			t.Errorf("no warning %q in %q", w, snap.Warnings)
		}
	}
	if len(progress) == 0 || progress[len(progress)-1] != (orgsync.Progress{Users: 12, Groups: 9}) {
		t.Errorf("progress = %v, want it to end at 12 users, 9 groups", progress)
	}
}

func keys(m map[string]orgsync.Member) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func keysG(m map[string]orgsync.Group) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func containsSub(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func TestSnapshotPagesAndAllOrNothing(t *testing.T) {
	var users []fakeEntry
	for i := range 25 {
		users = append(users, person(fmt.Sprintf("u%02d", i)))
	}
	t.Run("pages", func(t *testing.T) {
		f := &fakeConn{results: map[string][]fakeEntry{usersKey: users}}
		snap, err := fakeSource(t, Config{PageSize: 10}, f).Snapshot(context.Background())
		if err != nil || len(snap.Members) != 25 {
			t.Fatalf("Snapshot = %d members, %v", len(snap.Members), err)
		}
		if len(f.searches) != 3 {
			t.Errorf("%d searches, want 3 pages of 10", len(f.searches))
		}
	})
	t.Run("a failing second page fails the snapshot", func(t *testing.T) {
		f := &fakeConn{
			results: map[string][]fakeEntry{usersKey: users},
			errAt:   map[string]error{usersKey: fmt.Errorf("boom")},
		}
		snap, err := fakeSource(t, Config{PageSize: 10}, f).Snapshot(context.Background())
		if err == nil || len(snap.Members) != 0 || !strings.Contains(err.Error(), "after 10 entries") {
			t.Fatalf("Snapshot = %d members, %v; want an error after 10 entries", len(snap.Members), err)
		}
	})
}

func TestSnapshotGroupStyles(t *testing.T) {
	users := []fakeEntry{person("alice"), person("bob"), person("twin1", "uid", "twin"), person("twin2", "uid", "twin")}
	for _, tc := range []struct {
		name, filter, attr string
		group              fakeEntry
	}{
		{"uniqueMember", "(objectClass=groupOfUniqueNames)", "uniqueMember",
			ent(gdn("u"), "entryUUID", "g", "cn", "u", "uniqueMember", udn("alice")+"#'0101'B", "uniqueMember", "UID=bob,ou=people,dc=x")},
		{"memberUid", "(objectClass=posixGroup)", "memberUid",
			ent(gdn("p"), "entryUUID", "g", "cn", "p", "memberUid", "alice", "memberUid", " bob ", "memberUid", "ghost", "memberUid", "twin")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeConn{results: map[string][]fakeEntry{usersKey: users, "ou=groups,dc=x|" + tc.filter: {tc.group}}}
			cfg := Config{Group: GroupConfig{BaseDN: "ou=groups,dc=x", Filter: tc.filter, MemberAttribute: tc.attr}}
			snap, err := fakeSource(t, cfg, f).Snapshot(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tc.attr == "memberUid" {
				// twin names two users: the group is held rather than
				// losing a member.
				if len(snap.Groups) != 0 || len(snap.HeldGroups) != 1 || snap.HeldGroups[0].Reason != `memberUid value "twin" names several users (ldap.user.uid_attribute)` {
					t.Errorf("groups = %+v, held %+v: want p held for the ambiguous twin", snap.Groups, snap.HeldGroups)
				}
				if !containsSub(snap.Warnings, `share the uid "twin"`) {
					t.Errorf("warnings = %q, want the ambiguous uid named", snap.Warnings)
				}
				return
			}
			if len(snap.Groups) != 1 || strings.Join(snap.Groups[0].Members, ",") != "uuid-alice,uuid-bob" {
				t.Errorf("groups = %+v, want alice and bob", snap.Groups)
			}
		})
	}
}

func TestSnapshotAD(t *testing.T) {
	guid := string([]byte{0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff})
	past, future := "133000000000000000", "136000000000000000" // 2022-06 and 2031-12
	aduser := func(cn, uac, expires string, extra ...string) fakeEntry {
		kv := []string{"objectGUID", guid[:15] + cn[:1], "userPrincipalName", cn + "@corp.x", "mail", cn + "@x.org",
			"givenName", cn, "sn", "Doe", "displayName", cn + " Doe", "sAMAccountName", cn}
		if uac != "" {
			kv = append(kv, "userAccountControl", uac)
		}
		if expires != "" {
			kv = append(kv, "accountExpires", expires)
		}
		return ent("CN="+cn+",OU=Staff,DC=corp,DC=x", append(kv, extra...)...)
	}
	f := &fakeConn{results: map[string][]fakeEntry{
		"ou=staff,dc=corp,dc=x|(&(objectCategory=person)(objectClass=user))": {
			aduser("alice", "512", "0"),
			aduser("bob", "514", ""),                     // disabled
			aduser("carol", "66048", past),               // expired
			aduser("dave", "512", future),                // expires later
			aduser("erin", "512", "9223372036854775807"), // never
			aduser("frank", "546", ""),                   // disabled + password not required
			ent("CN=bad,OU=Staff,DC=corp,DC=x", "objectGUID", "short", "userPrincipalName", "bad@corp.x"),
		},
		"ou=groups,dc=corp,dc=x|(objectClass=group)": {
			ent("CN=All,OU=Groups,DC=corp,DC=x", "objectGUID", guid, "cn", "All",
				"member", "CN=alice,OU=Staff,DC=corp,DC=x", "member", "cn=Eng,ou=Groups,dc=corp,dc=x"),
			ent("CN=Eng,OU=Groups,DC=corp,DC=x", "objectGUID", guid[:15]+"E", "cn", "Eng", "member", "CN=bob,OU=Staff,DC=corp,DC=x"),
		},
	}}
	cfg := Config{Flavor: FlavorAD, User: UserConfig{BaseDN: "ou=staff,dc=corp,dc=x"},
		Group: GroupConfig{BaseDN: "ou=groups,dc=corp,dc=x", Nested: true}}
	snap, err := fakeSource(t, cfg, f).Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]orgsync.Status{}
	for _, m := range snap.Members {
		status[m.UserName] = m.Status
	}
	want := map[string]orgsync.Status{
		"alice@corp.x": orgsync.StatusActive, "bob@corp.x": orgsync.StatusDeprovisioned,
		"carol@corp.x": orgsync.StatusDeprovisioned, "dave@corp.x": orgsync.StatusActive,
		"erin@corp.x": orgsync.StatusActive, "frank@corp.x": orgsync.StatusDeprovisioned,
	}
	if fmt.Sprint(status) != fmt.Sprint(want) {
		t.Errorf("statuses = %v, want %v", status, want)
	}
	if len(snap.HeldUsers) != 1 || snap.HeldUsers[0].Key != "" || snap.HeldUsers[0].Name != "bad@corp.x" ||
		snap.HeldUsers[0].Reason != "objectGUID has 5 bytes, want 16 (ldap.user.id_attribute)" {
		t.Errorf("held users = %+v, want bad@corp.x held by name for its short objectGUID", snap.HeldUsers)
	}
	var all orgsync.Group
	for _, g := range snap.Groups {
		if g.DisplayName == "All" {
			all = g
		}
	}
	if all.ExternalID != "00112233-4455-6677-8899-aabbccddeeff" {
		t.Errorf("All's ExternalID = %q, want the canonical GUID string", all.ExternalID)
	}
	if len(all.Members) != 1 || len(all.Subgroups) != 1 {
		t.Errorf("All = %+v, want alice and the Eng subgroup", all)
	}
	for _, m := range snap.Members {
		if m.UserName == "alice@corp.x" && (m.DisplayName != "alice Doe" || m.Email() != "alice@x.org") {
			t.Errorf("alice = %+v", m)
		}
	}
}

func TestSnapshotBindFailureNamesTheSetting(t *testing.T) {
	f := &fakeConn{bindErr: ldapResult(49, "bad")}
	_, err := fakeSource(t, Config{BindDN: "cn=sync,dc=x", BindPassword: "secret"}, f).Snapshot(context.Background())
	want := `ldap source "fake": bind as "cn=sync,dc=x": invalid credentials (LDAP result 49): server says bad: check ldap.bind_dn / ldap.bind_password`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	if !f.closed {
		t.Error("connection not closed after a failed bind")
	}
}

// TestSnapshotHoldsWhatItCannotUse: entries with an attribute missing are
// held, never left out (which would deprovision their members); groups
// nesting a group held without an id are held too; an entry naming
// nothing at all fails the read.
func TestSnapshotHoldsWhatItCannotUse(t *testing.T) {
	users := []fakeEntry{
		person("alice"),
		person("bob", "mail", "alice@x.org"), // claims alice's name: both kept
		ent("uid=noname,ou=people,dc=x", "entryUUID", "uuid-noname", "uid", "noname"),
		ent("uid=nokey,ou=people,dc=x", "mail", "nokey@x.org", "entryUUID", " "),
		ent("uid=off,ou=people,dc=x", "entryUUID", "uuid-off"), // disabled, no mail
	}
	groups := []fakeEntry{
		groupOf("all", udn("alice"), udn("noname"), gdn("mid")),
		groupOf("mid", gdn("keyless")),
		ent("cn=keyless,ou=groups,dc=x", "cn", "keyless", "member", udn("bob")),
		ent("cn=unnamed,ou=groups,dc=x", "entryUUID", "guuid-unnamed", "member", udn("bob")),
	}
	cfg := Config{User: UserConfig{DisabledFilter: "(employeeType=disabled)"}, Group: GroupConfig{BaseDN: "ou=groups,dc=x", Nested: true}}
	results := map[string][]fakeEntry{usersKey: users, groupsKey: groups, disabledKey: {ent("uid=off,ou=people,dc=x")}}
	snap, err := fakeSource(t, cfg, &fakeConn{results: results}).Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range snap.Members {
		names = append(names, m.UserName+"="+m.ExternalID)
	}
	if want := "alice@x.org=uuid-alice alice@x.org=uuid-bob"; strings.Join(names, " ") != want {
		t.Errorf("members = %q, want %q (duplicates kept for the reconciler)", names, want)
	}
	wantUsers := []orgsync.HeldEntry{
		{Name: "nokey@x.org", Email: "nokey@x.org", Ref: `user "uid=nokey,ou=people,dc=x"`, DN: "uid=nokey,ou=people,dc=x", Reason: "no entryUUID (ldap.user.id_attribute)"},
		{Key: "uuid-noname", Ref: `user "uid=noname,ou=people,dc=x"`, DN: "uid=noname,ou=people,dc=x", Reason: "no mail (ldap.user.user_name_attribute)"},
		{Key: "uuid-off", Ref: `user "uid=off,ou=people,dc=x"`, DN: "uid=off,ou=people,dc=x", Reason: "no mail (ldap.user.user_name_attribute)", Status: orgsync.StatusDeprovisioned},
	}
	if !reflect.DeepEqual(snap.HeldUsers, wantUsers) {
		t.Errorf("held users:\n got %+v\nwant %+v", snap.HeldUsers, wantUsers)
	}
	wantGroups := []orgsync.HeldEntry{
		{Name: "keyless", Ref: `group "cn=keyless,ou=groups,dc=x"`, DN: "cn=keyless,ou=groups,dc=x", Reason: "no entryUUID (ldap.group.id_attribute)"},
		{Key: "guuid-mid", Name: "mid", Ref: `group "cn=mid,ou=groups,dc=x"`, DN: "cn=mid,ou=groups,dc=x", Reason: `nests the group "cn=keyless,ou=groups,dc=x", which is held (no entryUUID (ldap.group.id_attribute))`},
		{Key: "guuid-unnamed", Ref: `group "cn=unnamed,ou=groups,dc=x"`, DN: "cn=unnamed,ou=groups,dc=x", Reason: "no cn (ldap.group.name_attribute)"},
	}
	if !reflect.DeepEqual(snap.HeldGroups, wantGroups) {
		t.Errorf("held groups:\n got %+v\nwant %+v", snap.HeldGroups, wantGroups)
	}
	// "all" nests the held "mid" by key (the reconciler holds it for that)
	// and has only its usable members.
	if len(snap.Groups) != 1 || snap.Groups[0].DisplayName != "all" || strings.Join(snap.Groups[0].Members, ",") != "uuid-alice" ||
		strings.Join(snap.Groups[0].Subgroups, ",") != "guuid-mid" {
		t.Errorf("groups = %+v", snap.Groups)
	}

	for name, extra := range map[string]fakeEntry{
		"user":  ent("uid=nothing,ou=people,dc=x", "uid", "nothing"),
		"group": ent("cn=nothing,ou=groups,dc=x", "member", udn("alice")),
	} {
		us, gs := users, groups
		if name == "user" {
			us = append(slices.Clone(users), extra)
		} else {
			gs = append(slices.Clone(groups), extra)
		}
		_, err := fakeSource(t, cfg, &fakeConn{results: map[string][]fakeEntry{usersKey: us, groupsKey: gs, disabledKey: nil}}).Snapshot(context.Background())
		if err == nil || !errors.Is(err, orgsync.ErrInvalid) || !strings.Contains(err.Error(), `"`+extra.dn+`"`) || !strings.Contains(err.Error(), "nothing was synced") {
			t.Errorf("%s naming nothing: err = %v, want a failed read naming the entry", name, err)
		}
	}
}
