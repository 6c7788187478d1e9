package ldap

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"
	"go.yaml.in/yaml/v3"

	"github.com/orgsync/orgsync"
)

func ldapResult(code uint16, diag string) error {
	return &goldap.Error{ResultCode: code, Err: errors.New(diag)}
}

func TestGUIDString(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want string
		err  bool
	}{
		{"AD byte order", []byte{0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff},
			"00112233-4455-6677-8899-aabbccddeeff", false},
		{"zero", make([]byte, 16), "00000000-0000-0000-0000-000000000000", false},
		{"short", []byte{1, 2, 3}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := guidString(tc.in)
			if got != tc.want || (err != nil) != tc.err {
				t.Errorf("guidString = %q, %v; want %q, err %v", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestADDisabled(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	// 2026-06-01 as a FILETIME: (unix + 11644473600) * 1e7.
	nowFT := "134247456000000000"
	for _, tc := range []struct {
		name, uac, expires string
		want, err          bool
	}{
		{"normal account", "512", "", false, false},
		{"disabled 514", "514", "", true, false},
		{"disabled 546", "546", "", true, false},
		{"no attributes", "", "", false, false},
		{"expires never (0)", "512", "0", false, false},
		{"expires never (max)", "512", "9223372036854775807", false, false},
		{"expired exactly now", "512", nowFT, true, false},
		{"expires in a second", "512", "134247456010000000", false, false},
		{"expired long ago", "512", "116444736000000000", true, false},
		{"garbage uac", "x", "", false, true},
		{"garbage expiry", "512", "soon", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := adDisabled(tc.uac, tc.expires, now)
			if got != tc.want || (err != nil) != tc.err {
				t.Errorf("adDisabled = %v, %v; want %v, err %v", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestNormDN(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"uid=alice,ou=people,dc=example,dc=org", "UID=Alice,OU=People,DC=Example,DC=Org"},
		{"uid=alice,ou=people,dc=x", "uid=alice, ou=people, dc=x"},
		{`cn=Smith\, John,dc=x`, `CN=smith\2c john,DC=x`},
		{`cn=Pat O\"Brien\, Jr\+x,dc=x`, `cn=pat o\22brien\2C jr\2Bx,dc=x`},
		{"cn=Jürgen Müller,dc=x", "CN=JÜRGEN MÜLLER,dc=x"},
		{"cn=a+sn=b,dc=x", "sn=B+cn=A,dc=x"},
	} {
		t.Run(tc.a, func(t *testing.T) {
			if na, nb := normDN(tc.a), normDN(tc.b); na != nb {
				t.Errorf("normDN(%q) = %q, normDN(%q) = %q: want equal", tc.a, na, tc.b, nb)
			}
		})
	}
	if normDN("cn=a,dc=x") == normDN("cn=b,dc=x") {
		t.Error("different DNs compare equal")
	}
	if got := string(stripUID([]byte("uid=a,dc=x#'0101'B"))); got != "uid=a,dc=x" {
		t.Errorf("stripUID = %q", got)
	}
	if got := string(stripUID([]byte(`cn=a\#'01'B,dc=x`))); got != `cn=a\#'01'B,dc=x` {
		t.Errorf("stripUID touched an escaped #: %q", got)
	}
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		in         string
		base       string
		start, end int
		ok         bool
	}{
		{"member;range=0-1499", "member", 0, 1499, true},
		{"member;Range=1500-*", "member", 1500, -1, true},
		{"member", "member", 0, 0, false},
		{"member;range=5-2", "member", 0, 0, false},
		{"member;range=x-*", "member", 0, 0, false},
	} {
		base, start, end, ok := parseRange(tc.in)
		if base != tc.base || start != tc.start || end != tc.end || ok != tc.ok {
			t.Errorf("parseRange(%q) = %q %d %d %v", tc.in, base, start, end, ok)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	var o, ad Config
	o.SetDefaults()
	ad.Flavor = FlavorAD
	ad.SetDefaults()
	if o.User.IDAttribute != "entryUUID" || o.User.UserNameAttribute != "mail" || o.Group.Filter != "(objectClass=groupOfNames)" ||
		o.Group.MemberAttribute != "member" || o.PageSize != 500 || o.References != ReferencesError {
		t.Errorf("openldap defaults = %+v", o)
	}
	if ad.User.IDAttribute != "objectGUID" || ad.User.UserNameAttribute != "userPrincipalName" || ad.User.UIDAttribute != "sAMAccountName" ||
		ad.Group.Filter != "(objectClass=group)" || ad.Group.IDAttribute != "objectGUID" || ad.References != ReferencesIgnore {
		t.Errorf("ad defaults = %+v", ad)
	}
	custom := Config{User: UserConfig{IDAttribute: "uidNumber"}}
	custom.SetDefaults()
	if custom.User.IDAttribute != "uidNumber" {
		t.Error("SetDefaults overwrote a set field")
	}
}

func TestConfigValidate(t *testing.T) {
	valid := func() Config {
		c := Config{URL: "ldap://127.0.0.1:389", BindDN: "cn=sync,dc=x", BindPassword: "pw",
			User: UserConfig{BaseDN: "ou=people,dc=x"}, Group: GroupConfig{BaseDN: "ou=groups,dc=x"}}
		c.SetDefaults()
		return c
	}
	if err := func() error { c := valid(); return c.Validate() }(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	// The password is Open's to read and check: a command that opens no
	// source needs none (its ${VAR} may be unset, its file absent).
	for _, mutate := range []func(*Config){
		func(c *Config) { c.BindPassword = "" },
		func(c *Config) { c.BindPassword, c.BindPasswordFile = "", "/nonexistent/pw" },
	} {
		c := valid()
		mutate(&c)
		if err := c.Validate(); err != nil {
			t.Errorf("Validate checks the password: %v", err)
		}
		if _, err := c.Open("t", zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "ldap.bind_password") {
			t.Errorf("Open without a readable password: %v", err)
		}
	}
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   []string
	}{
		{"everything wrong at once", func(c *Config) {
			c.URL, c.User.BaseDN, c.User.Filter, c.Group.Filter = "", "", "(uid=a", "objectClass=group"
			c.PageSize, c.Flavor, c.BindPassword = -1, "novell", ""
		}, []string{"ldap.url: required", "ldap.user.base_dn: required", `ldap.user.filter: "(uid=a" is not an LDAP filter`,
			"ldap.group.filter:", "ldap.page_size", "ldap.flavor", "ldap.bind_password: required"}},
		{"bad disabled filter", func(c *Config) { c.User.DisabledFilter = "(employeeType=disabled" }, []string{"ldap.user.disabled_filter"}},
		{"bad url scheme", func(c *Config) { c.URL = "http://x" }, []string{"ldap.url", "scheme"}},
		{"bad urls entry", func(c *Config) { c.URLs = []string{"ldap://"} }, []string{"ldap.urls", "no host"}},
		{"start_tls with ldaps", func(c *Config) { c.URL, c.StartTLS = "ldaps://x", true }, []string{"ldap.start_tls"}},
		{"missing ca file", func(c *Config) { c.CAFile = "/nonexistent/ca.pem" }, []string{"ldap.ca_file"}},
		// The wording is tlsconf.CertPool's, shared with scim.ca_file.
		{"ca file without certificate", func(c *Config) { c.CAFile = "/etc/hostname" }, []string{"ldap.ca_file: /etc/hostname: no PEM certificate found"}},
		{"password and file", func(c *Config) { c.BindPasswordFile = "/etc/hostname" }, []string{"ldap.bind_password_file"}},
		{"bad require_group", func(c *Config) { c.RequireGroup = "not a dn" }, []string{"ldap.require_group"}},
		{"require_group without groups", func(c *Config) { c.RequireGroup, c.Group.BaseDN = "cn=a,dc=x", "" }, []string{"needs ldap.group.base_dn"}},
		{"empty role", func(c *Config) { c.RoleMap = map[string]string{"cn=a,dc=x": " "} }, []string{`ldap.role_map["cn=a,dc=x"]: empty role`}},
		{"bad attribute", func(c *Config) { c.User.EmailAttribute = "mail address" }, []string{"ldap.user.email_attribute"}},
		{"zero timeout", func(c *Config) { c.SearchTimeout = -1 }, []string{"ldap.search_timeout"}},
		{"bad references", func(c *Config) { c.References = "follow" }, []string{"ldap.references"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.mutate(&c)
			_, err := c.Open("t", zerolog.Nop())
			if err == nil {
				t.Fatal("Open accepted the config")
			}
			if !errors.Is(err, orgsync.ErrInvalid) {
				t.Errorf("error is not ErrInvalid")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "pw") && c.BindPassword == "pw" {
				t.Errorf("error leaks the password: %q", err)
			}
		})
	}
}

func TestConfigYAML(t *testing.T) {
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(`
flavor: ad
urls: [ldaps://dc1.corp.x, ldaps://dc2.corp.x]
bind_dn: cn=sync,dc=corp,dc=x
bind_password: pw
dial_timeout: 3s
search_timeout: 2m
page_size: 1000
user: {base_dn: "dc=corp,dc=x", disabled_filter: "(description=gone)"}
group: {base_dn: "dc=corp,dc=x", nested: true}
require_group: cn=kms,dc=corp,dc=x
role_map: {"cn=admins,dc=corp,dc=x": admin}
`))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.DialTimeout.TimeDuration() != 3*time.Second || c.SearchTimeout.TimeDuration() != 2*time.Minute || c.BindTimeout != DefaultBindTimeout {
		t.Errorf("timeouts = %v %v %v", c.DialTimeout.TimeDuration(), c.SearchTimeout.TimeDuration(), c.BindTimeout.TimeDuration())
	}
	if strings.Join(c.URLList(), " ") != "ldaps://dc1.corp.x ldaps://dc2.corp.x" || !c.Group.Nested {
		t.Errorf("config = %+v", c)
	}
	out, err := yaml.Marshal(c)
	if err != nil || strings.Contains(string(out), "pw\n") || !strings.Contains(string(out), "search_timeout: 2m0s") {
		t.Errorf("marshalled config = %s, %v: want the password redacted and durations as strings", out, err)
	}
	if err := yaml.Unmarshal([]byte("dial_timeout: soon"), &c); err == nil {
		t.Error("a bad duration decoded")
	}
}

// TestWarnDups: every key several entries share is warned about once,
// naming all of them, whether or not other keys share its hash.
func TestWarnDups(t *testing.T) {
	keys := []string{"a", "b", "", "a", "c", "", "b", "a", "d"}
	want := []string{
		`entries "dn0", "dn3", "dn7" share the id "a" (k): all kept, for the reconciler to hold`,
		`entries "dn1", "dn6" share the id "b" (k): all kept, for the reconciler to hold`,
	}
	for _, tc := range []struct {
		name string
		hash func(string) uint64
	}{
		{"xxhash", dupHash},
		{"every key one hash", func(string) uint64 { return 7 }},
		{"two hashes", func(s string) uint64 { return uint64(len(s) % 2) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := dupHash
			dupHash = tc.hash
			defer func() { dupHash = saved }()
			r := &reader{}
			r.warnDups(keys, func(i int) string { return fmt.Sprintf("dn%d", i) }, "id", "k")
			if !reflect.DeepEqual(r.warnings, want) {
				t.Fatalf("warnings\n%q\nwant\n%q", r.warnings, want)
			}
		})
	}
	t.Run("by map (past the index tag)", func(t *testing.T) {
		r := &reader{}
		r.warnDupsByMap(keys, func(i int) string { return fmt.Sprintf("dn%d", i) }, "id", "k")
		if !reflect.DeepEqual(r.warnings, want) {
			t.Fatalf("warnings\n%q\nwant\n%q", r.warnings, want)
		}
	})
}

// TestMembersInHalves: the members built in two halves at once are those
// built in one pass, in the same order, with the same digests; the first
// failing user in the users' order fails both.
func TestMembersInHalves(t *testing.T) {
	s, err := New("halves", Config{URL: "ldap://x", User: UserConfig{BaseDN: "dc=example,dc=org"}, Group: GroupConfig{BaseDN: "dc=example,dc=org", Nested: true}}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	build := func(min int, edit func([]user)) (orgsync.Snapshot, []uint64, error) {
		saved := parallelMin
		parallelMin = min
		defer func() { parallelMin = saved }()
		users, groups := stateFixture(3001, 20, 100)
		for i := range users {
			if i%17 == 0 {
				users[i].email = "" // no email
			}
			if i%29 == 0 {
				users[i].filterOff = true // disabled
			}
		}
		if edit != nil {
			edit(users)
		}
		r := newReader(s, nil)
		r.users, r.groups = users, groups
		snap, err := r.snapshot()
		digests := make([]uint64, len(r.users))
		for i := range r.users {
			digests[i] = r.users[i].digest
		}
		return snap, digests, err
	}
	one, d1, err := build(1<<30, nil)
	if err != nil {
		t.Fatal(err)
	}
	two, d2, err := build(1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(one.HeldUsers) == 0 || len(one.Members) < 2900 {
		t.Fatalf("the fixture: %d members, %d held", len(one.Members), len(one.HeldUsers))
	}
	if !reflect.DeepEqual(one, two) || !reflect.DeepEqual(d1, d2) {
		t.Fatal("the members built in two halves differ from those built in one pass")
	}
	nameless := func(i int) func([]user) {
		return func(us []user) { us[i].id, us[i].name, us[i].held = "", "", "no entryUUID" }
	}
	for _, tc := range []struct {
		name string
		edit func([]user)
		dn   string
	}{
		{"first half", func(us []user) { nameless(2900)(us); nameless(10)(us) }, "user000010"},
		{"second half", nameless(2900), "user002900"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, min := range []int{1, 1 << 30} {
				if _, _, err := build(min, tc.edit); err == nil || !strings.Contains(err.Error(), tc.dn) {
					t.Fatalf("parallelMin %d: %v, want the failure of %s", min, err, tc.dn)
				}
			}
		})
	}
}

// TestPartialSnapshot: asked for a part, snapshot builds the digests a
// whole Snapshot gives and no member; its rest builds, by key, the very
// members of the whole Snapshot, counts them, and builds it whole.
func TestPartialSnapshot(t *testing.T) {
	s, err := New("part", Config{URL: "ldap://x", User: UserConfig{BaseDN: "dc=example,dc=org"}, Group: GroupConfig{BaseDN: "dc=example,dc=org", Nested: true},
		RoleMap: map[string]string{"cn=group0003,ou=groups,dc=example,dc=org": orgsync.RoleAdmin}}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	build := func(partial bool) (*reader, orgsync.Snapshot) {
		users, groups := stateFixture(3001, 20, 100)
		for i := range users {
			if i%29 == 0 {
				users[i].filterOff = true // disabled
			}
		}
		r := newReader(s, nil)
		r.users, r.groups, r.partial = users, groups, partial
		snap, err := r.snapshot()
		if err != nil {
			t.Fatal(err)
		}
		return r, snap
	}
	whole, want := build(false)
	r, part := build(true)
	if len(part.Members) != 0 || !reflect.DeepEqual(part.Groups, want.Groups) || !reflect.DeepEqual(part.HeldUsers, want.HeldUsers) || len(want.HeldUsers) == 0 {
		t.Fatalf("the partial Snapshot: %d members, groups or held users unlike the whole one's", len(part.Members))
	}
	for i := range r.users {
		if r.users[i].digest != whole.users[i].digest {
			t.Fatalf("user %d: digest %x, the whole Snapshot's %x", i, r.users[i].digest, whole.users[i].digest)
		}
	}
	x := r.newRest(part)
	disabled := 0
	for _, m := range want.Members {
		if m.Status == orgsync.StatusDeprovisioned {
			disabled++
		}
	}
	if n, d := x.Counts(); n != len(want.Members) || d != disabled || d == 0 {
		t.Fatalf("counts %d, %d; want %d, %d", n, d, len(want.Members), disabled)
	}
	keys := []string{want.Members[2900].ExternalID, want.Members[7].ExternalID, "not a key", want.Members[100].ExternalID}
	got, places := x.Members(keys)
	if len(got) != 3 || !reflect.DeepEqual(got, []orgsync.Member{want.Members[7], want.Members[100], want.Members[2900]}) || !(places[0] < places[1] && places[1] < places[2]) {
		t.Fatalf("Members: %d members at %v, not the whole Snapshot's", len(got), places)
	}
	if !slices.ContainsFunc(want.Members, func(m orgsync.Member) bool { return m.Role == orgsync.RoleAdmin }) {
		t.Fatal("the fixture has no role_map role")
	}
	all, err := x.Whole()
	if err != nil || !reflect.DeepEqual(all, want) {
		t.Fatalf("Whole: %v, or not the whole Snapshot", err)
	}
}

// TestKeptDigests: a partial snapshot that keeps the stored digests of
// the users whose record did not change gives every user the digest a
// whole snapshot computes, after random edits of users (their managers
// among them); a changed group, a user added or a changed key turns the
// reuse off.
func TestKeptDigests(t *testing.T) {
	s, err := New("kept", Config{URL: "ldap://x", User: UserConfig{BaseDN: "dc=example,dc=org"}, Group: GroupConfig{BaseDN: "dc=example,dc=org", Nested: true},
		RoleMap: map[string]string{"cn=group0003,ou=groups,dc=example,dc=org": orgsync.RoleAdmin}}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	s.KeepDecodedState() // the snapshot keeps what it made of the groups
	users, groups := stateFixture(3001, 20, 100)
	r0 := newReader(s, nil)
	r0.users, r0.groups = users, groups
	// Stored before the fixture's accountExpires (2022), read after it:
	// those users became disabled without a change of their record.
	r0.now = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := r0.snapshot(); err != nil {
		t.Fatal(err)
	}
	stored, err := encodeState(r0.users, r0.groups, syncState{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for seed := range 60 {
		rng := rand.New(rand.NewPCG(uint64(seed), 5))
		old, oldGroups, _, err := decodeState(stored)
		if err != nil {
			t.Fatal(err)
		}
		base := newStateBase(stored, old, oldGroups)
		us, gs := slices.Clone(old), slices.Clone(oldGroups)
		wantReuse := true
		memberLost := false // a user some group listed is now held
		for range 1 + rng.IntN(20) {
			i := rng.IntN(len(us))
			u := us[i]
			u.at, u.end = 0, 0 // read again from the server
			switch rng.IntN(12) {
			case 0: // a manager's name: the managed users' documents change
				u.display = fmt.Sprint("Manager ", seed)
			case 1:
				memberLost = memberLost || (r0.inScope[i] && r0.users[i].held == "")
				u.held = "no mail"
			case 2:
				u.filterOff = !u.filterOff
			case 3: // a changed group
				j := rng.IntN(len(gs))
				g := gs[j]
				g.at, g.dig, g.end, g.idx = 0, 0, 0, nil // read from the server
				g.vals = append(slices.Clone(g.vals), u.dn)
				gs[j] = g
				wantReuse = false
			case 4: // a new key
				u.id = fmt.Sprint("new-", seed)
				wantReuse = false
			case 5: // another user's name, in another case: a duplicate
				u.name = strings.ToUpper(us[(i+1)%len(us)].name)
			default:
				u.family = fmt.Sprint("Changed ", seed)
			}
			us[i] = u
		}
		if seed%10 == 9 { // a user added
			us = append(us, user{dn: "uid=new,dc=example,dc=org", id: "new", name: "new@example.org", given: "N", family: "N", display: "N"})
			wantReuse = false
		}
		r := newReader(s, nil)
		r.stored, r.users, r.groups, r.partial = base, us, gs, true
		r.keptGroups, r.keptDups = r0.snapGroups, r0.dups // as a daemon's read from r0's state
		r.reuse = r.storedDigestsHold()
		if r.reuse != wantReuse {
			t.Fatalf("seed %d: reuse %v, want %v", seed, r.reuse, wantReuse)
		}
		snap, err := r.snapshot()
		if err != nil {
			t.Fatal(err)
		}
		kept := 0
		for _, k := range r.keptDigests(r.inScope) {
			if k {
				kept++
			}
		}
		if wantReuse && kept < len(us)/2 {
			t.Fatalf("seed %d: %d stored digests kept of %d users", seed, kept, len(us))
		}
		if want := wantReuse && !memberLost; r.groupsKept != want {
			t.Fatalf("seed %d: the kept read's groups taken: %v, want %v", seed, r.groupsKept, want)
		}
		w := newReader(s, nil)
		w.users, w.groups = slices.Clone(us), slices.Clone(gs)
		wsnap, err := w.snapshot()
		if err != nil {
			t.Fatal(err)
		}
		// What a daemon keeps after the snapshot (link and snapshot
		// derived fields besides) is what decoding the new state gives.
		state, _, keptState, err := encodeStatePatch(r.users, r.groups, syncState{}, r.byDN, base, true)
		if err != nil {
			t.Fatal(err)
		}
		du, dg, _, err := decodeState(state)
		ku, kg := keptState.decoded()
		if err != nil || !reflect.DeepEqual(ku, du) || !reflect.DeepEqual(kg, dg) {
			t.Fatalf("seed %d: the kept decoded state is not what decoding the state gives (%v)", seed, err)
		}
		// The groups restricted to some members by their places (the
		// Rest's GroupsOf) are those restricted by the members' keys.
		x := r.newRest(snap)
		var places []int
		keys := map[string]bool{}
		for i := range us {
			if r.inScope[i] && r.users[i].held == "" && rng.IntN(40) == 0 {
				places = append(places, i)
				keys[r.users[i].id] = true
			}
		}
		got, ok := x.GroupsOf(places)
		if ok != (len(snap.Warnings) == 0) {
			t.Fatalf("seed %d: GroupsOf ok %v with %d warnings", seed, ok, len(snap.Warnings))
		}
		if ok {
			for gi, g := range snap.Groups {
				var want []string
				for _, k := range g.Members {
					if keys[k] {
						want = append(want, k)
					}
				}
				if !slices.Equal(got[gi].Members, want) || !slices.Equal(got[gi].Subgroups, g.Subgroups) || got[gi].ExternalID != g.ExternalID {
					t.Fatalf("seed %d, group %q: GroupsOf gave %q, by key %q", seed, g.DisplayName, got[gi].Members, want)
				}
			}
		}
		// The duplicates found from the kept read's key hashes too.
		if r0.dups == nil || !slices.Equal(snap.Warnings, wsnap.Warnings) {
			t.Fatalf("seed %d: warnings %q, the whole snapshot's %q", seed, snap.Warnings, wsnap.Warnings)
		}
		// The groups too, linked through the stored indexes or by DN, or
		// taken from the kept read's snapshot.
		if !reflect.DeepEqual(snap.Groups, wsnap.Groups) || !reflect.DeepEqual(snap.HeldGroups, wsnap.HeldGroups) {
			t.Fatalf("seed %d: the groups differ from the whole snapshot's", seed)
		}
		for j := range gs {
			if r.groups[j].digest != w.groups[j].digest || r.groups[j].held != w.groups[j].held || !slices.Equal(r.groups[j].users, w.groups[j].users) {
				t.Fatalf("seed %d, group %d: digest or users unlike the whole snapshot's", seed, j)
			}
		}
		for i := range us {
			if r.users[i].digest != w.users[i].digest {
				t.Fatalf("seed %d, user %d (%q): digest %x kept or built, the whole snapshot's %x", seed, i, us[i].dn, r.users[i].digest, w.users[i].digest)
			}
		}
	}
}
