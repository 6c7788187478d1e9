package ldap

// Integration tests against the throwaway slapd that scripts/slapd.sh starts
// with testdata/fixture.ldif (tools/ldifgen -mode fixture). What the fixture
// holds, under dc=example,dc=org:
//
//	ou=people   alice, bob, carol (employeeType=disabled), dave (no mail),
//	            eve + eve2 (same mail up to case), grace (in no group),
//	            henry (via platform), zoe (non-ASCII cn), cn=Jürgen Müller
//	            (non-ASCII DN), cn=Pat O\"Brien\, Jr\+x (escaped DN),
//	            ou=bulk: bulk0000…bulk2999
//	ou=contractors  frank (a kms-users member outside user.base_dn)
//	ou=groups   kms-users {alice carol dave eve eve2 zoe* jürgen* pat* frank
//	            engineering}  (* spelled in another case/escaping)
//	            engineering {bob platform}, platform {henry engineering}: a cycle
//	            kms-admins {alice}, big {3,000 bulk users}
//	            uniq (groupOfUniqueNames: alice#'0101'B, bob)
//	            posix (posixGroup memberUid: alice bob nosuch)

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/testenv"
)

const (
	suffix   = "dc=example,dc=org"
	syncDN   = "cn=sync," + suffix
	readerDN = "cn=reader," + suffix
)

// slapdConfig is the config for the test slapd: sync account, groupOfNames.
func slapdConfig(t *testing.T) Config {
	t.Helper()
	return Config{
		URL:          testenv.Require(t, testenv.LDAPURLVar),
		BindDN:       syncDN,
		BindPassword: "sync",
		PageSize:     100,
		User: UserConfig{
			BaseDN:         "ou=people," + suffix,
			DisabledFilter: "(employeeType=disabled)",
		},
		Group: GroupConfig{BaseDN: "ou=groups," + suffix, Nested: true},
	}
}

// ldapsURL is the slapd's LDAPS listener: the plain port + 1, with host.
func ldapsURL(t *testing.T, host string) string {
	t.Helper()
	u, err := url.Parse(testenv.Require(t, testenv.LDAPURLVar))
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	return "ldaps://" + net.JoinHostPort(host, strconv.Itoa(port+1))
}

func caFile(t *testing.T) string {
	return filepath.Join(testenv.Require(t, testenv.LDAPDirVar), "tls", "ca.pem")
}

func snapshot(t *testing.T, cfg Config) (orgsync.Snapshot, error) {
	t.Helper()
	s, err := New("test-ldap", cfg, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return s.Snapshot(ctx)
}

func mustSnapshot(t *testing.T, cfg Config) orgsync.Snapshot {
	t.Helper()
	snap, err := snapshot(t, cfg)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return snap
}

func memberByName(snap orgsync.Snapshot, name string) *orgsync.Member {
	for i := range snap.Members {
		if snap.Members[i].UserName == name {
			return &snap.Members[i]
		}
	}
	return nil
}

func groupByName(snap orgsync.Snapshot, name string) *orgsync.Group {
	for i := range snap.Groups {
		if snap.Groups[i].DisplayName == name {
			return &snap.Groups[i]
		}
	}
	return nil
}

// names maps member ExternalIDs back to user names, sorted.
func names(snap orgsync.Snapshot, ids []string) []string {
	byID := map[string]string{}
	for _, m := range snap.Members {
		byID[m.ExternalID] = m.UserName
	}
	var out []string
	for _, id := range ids {
		out = append(out, byID[id])
	}
	slices.Sort(out)
	return out
}

func userNames(snap orgsync.Snapshot) []string {
	var out []string
	for _, m := range snap.Members {
		if !strings.HasPrefix(m.UserName, "bulk") {
			out = append(out, m.UserName)
		}
	}
	slices.Sort(out)
	return out
}

func TestSlapdSnapshotScopedByRequireGroup(t *testing.T) {
	cfg := slapdConfig(t)
	cfg.RequireGroup = "CN=KMS-Users,ou=groups," + suffix
	cfg.RoleMap = map[string]string{"cn=kms-admins,ou=groups," + suffix: orgsync.RoleAdmin}
	snap := mustSnapshot(t, cfg)

	// eve and eve2 share a user name: both kept, for the reconciler to hold.
	want := []string{"DUP@example.org", "alice@example.org", "bob@example.org", "carol@example.org", "dup@example.org", "henry@example.org",
		"juergen@example.org", "pat@example.org", "zoe@example.org"}
	if got := userNames(snap); !slices.Equal(got, want) {
		t.Fatalf("members = %v, want %v (grace out of require_group, frank outside base, dave held)", got, want)
	}
	// dave has no mail: held by his key, so his member is kept as it is.
	if len(snap.HeldUsers) != 1 || !strings.HasPrefix(snap.HeldUsers[0].Ref, `user "uid=dave,`) || len(snap.HeldUsers[0].Key) != 36 ||
		snap.HeldUsers[0].Reason != "no mail (ldap.user.user_name_attribute)" {
		t.Errorf("held users = %+v, want dave, by his entryUUID", snap.HeldUsers)
	}
	if n := len(snap.Members); n != len(want) {
		t.Errorf("%d members, want %d: bulk users are not in kms-users", n, len(want))
	}

	alice := memberByName(snap, "alice@example.org")
	if alice.Role != orgsync.RoleAdmin || alice.Status != orgsync.StatusActive ||
		alice.GivenName != "Alice" || alice.FamilyName != "Archer" || alice.DisplayName != "Alice Archer" ||
		alice.Email() != "alice@example.org" || len(alice.Emails) != 1 || !alice.Emails[0].Primary {
		t.Errorf("alice = %+v", alice)
	}
	if len(alice.ExternalID) != 36 || strings.Count(alice.ExternalID, "-") != 4 {
		t.Errorf("alice's ExternalID %q is not an entryUUID", alice.ExternalID)
	}
	if bob := memberByName(snap, "bob@example.org"); bob.Role != "" {
		t.Errorf("bob's role = %q, want \"\" (unmapped)", bob.Role)
	}
	if carol := memberByName(snap, "carol@example.org"); carol.Status != orgsync.StatusDeprovisioned {
		t.Errorf("carol (employeeType=disabled) status = %q, want deprovisioned", carol.Status)
	}
	zoe := memberByName(snap, "zoe@example.org")
	if zoe.GivenName != "Zoë" || zoe.FamilyName != "Ångström" || zoe.DisplayName != "Zoë Ångström" {
		t.Errorf("zoe's names = %q %q %q, want the UTF-8 values", zoe.GivenName, zoe.FamilyName, zoe.DisplayName)
	}
	if pat := memberByName(snap, "pat@example.org"); pat.DisplayName != `Pat O"Brien, Jr+x` {
		t.Errorf("pat's display name = %q", pat.DisplayName)
	}

	kms := groupByName(snap, "kms-users")
	if kms == nil {
		t.Fatalf("no kms-users group in %d groups", len(snap.Groups))
	}
	wantKMS := []string{"DUP@example.org", "alice@example.org", "carol@example.org", "dup@example.org", "juergen@example.org", "pat@example.org", "zoe@example.org"}
	if got := names(snap, kms.Members); !slices.Equal(got, wantKMS) {
		t.Errorf("kms-users direct members = %v, want %v (member DNs matched across case and escaping)", got, wantKMS)
	}
	eng, plat := groupByName(snap, "engineering"), groupByName(snap, "platform")
	if !slices.Equal(kms.Subgroups, []string{eng.ExternalID}) {
		t.Errorf("kms-users subgroups = %v, want [engineering %s]", kms.Subgroups, eng.ExternalID)
	}
	if !slices.Equal(eng.Subgroups, []string{plat.ExternalID}) || !slices.Equal(plat.Subgroups, []string{eng.ExternalID}) {
		t.Errorf("cycle: engineering.Subgroups = %v, platform.Subgroups = %v", eng.Subgroups, plat.Subgroups)
	}
	if big := groupByName(snap, "big"); big == nil || len(big.Members) != 0 {
		t.Errorf("big = %+v, want no members in scope", big)
	}

	var sawDup bool
	for _, w := range snap.Warnings {
		sawDup = sawDup || strings.Contains(w, "uid=eve,") && strings.Contains(w, "uid=eve2,") && strings.Contains(w, "dup@example.org") &&
			strings.Contains(w, "kept, for the reconciler to hold")
	}
	if !sawDup {
		t.Errorf("warnings %q: want eve/eve2 (duplicate user name)", snap.Warnings)
	}
}

func TestSlapdSnapshotWholeBase(t *testing.T) {
	cfg := slapdConfig(t)
	cfg.PageSize = 500
	var pages []orgsync.Progress
	s, err := New("test-ldap", cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	s.OnProgress(func(p orgsync.Progress) { pages = append(pages, p) })
	snap, err := s.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(snap.Members); n != 3010 {
		t.Errorf("%d members, want 3010 (10 people + 3,000 bulk; dave is held)", n)
	}
	if !slices.Contains(userNames(snap), "grace@example.org") {
		t.Error("grace missing without require_group")
	}
	if memberByName(snap, "frank@example.org") != nil {
		t.Error("frank (outside user.base_dn) is in the snapshot")
	}
	big := groupByName(snap, "big")
	if big == nil || len(big.Members) != 3000 {
		t.Fatalf("big has %v members, want 3000", big)
	}
	if len(pages) < 7 || pages[len(pages)-1].Users != 3011 || pages[len(pages)-1].Groups == 0 {
		t.Errorf("progress = %v, want a report per page ending at 3011 user entries and the groups", pages)
	}
}

func TestSlapdGroupStyles(t *testing.T) {
	for _, tc := range []struct {
		name, filter, member string
		want                 []string
	}{
		{"groupOfNames", "(cn=engineering)", "member", []string{"bob@example.org"}},
		{"groupOfUniqueNames", "(objectClass=groupOfUniqueNames)", "uniqueMember", []string{"alice@example.org", "bob@example.org"}},
		{"posixGroup", "(objectClass=posixGroup)", "memberUid", []string{"alice@example.org", "bob@example.org"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := slapdConfig(t)
			cfg.Group.Filter, cfg.Group.MemberAttribute = tc.filter, tc.member
			snap := mustSnapshot(t, cfg)
			if len(snap.Groups) != 1 {
				t.Fatalf("groups = %+v, want one", snap.Groups)
			}
			if got := names(snap, snap.Groups[0].Members); !slices.Equal(got, tc.want) {
				t.Errorf("members = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSlapdNotNested(t *testing.T) {
	cfg := slapdConfig(t)
	cfg.Group.Nested = false
	cfg.RequireGroup = "cn=kms-users,ou=groups," + suffix
	snap := mustSnapshot(t, cfg)
	want := []string{"DUP@example.org", "alice@example.org", "carol@example.org", "dup@example.org", "juergen@example.org", "pat@example.org", "zoe@example.org"}
	if got := userNames(snap); !slices.Equal(got, want) {
		t.Errorf("members = %v, want the direct members only %v", got, want)
	}
	for _, g := range snap.Groups {
		if len(g.Subgroups) > 0 {
			t.Errorf("group %s has subgroups %v with nested: false", g.DisplayName, g.Subgroups)
		}
	}
}

func TestSlapdTLS(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"ldaps with ca_file", func(c *Config) { c.URL = ldapsURL(t, "127.0.0.1"); c.CAFile = caFile(t) }, ""},
		{"start_tls with ca_file", func(c *Config) { c.StartTLS = true; c.CAFile = caFile(t) }, ""},
		{"ldaps name mismatch", func(c *Config) { c.URL = ldapsURL(t, "localhost"); c.CAFile = caFile(t) }, "name mismatch"},
		{"start_tls name mismatch", func(c *Config) {
			c.URL = strings.Replace(c.URL, "127.0.0.1", "localhost", 1)
			c.StartTLS, c.CAFile = true, caFile(t)
		}, "name mismatch"},
		{"ldaps unknown CA", func(c *Config) { c.URL = ldapsURL(t, "127.0.0.1") }, "ldap.ca_file"},
		{"insecure_skip_verify", func(c *Config) { c.URL = ldapsURL(t, "localhost"); c.InsecureSkipVerify = true }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := slapdConfig(t)
			cfg.User.BaseDN, cfg.Group.BaseDN = "ou=people,"+suffix, ""
			cfg.User.Filter = "(uid=alice)"
			tc.mutate(&cfg)
			snap, err := snapshot(t, cfg)
			if tc.wantErr == "" {
				if err != nil || len(snap.Members) != 1 {
					t.Fatalf("Snapshot = %d members, %v; want alice", len(snap.Members), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), `ldap source "test-ldap"`) {
				t.Fatalf("err = %v, want one naming the source and %q", err, tc.wantErr)
			}
		})
	}
}

func TestSlapdBadInput(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("sync\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   []string
		kind   error
	}{
		{"wrong password", func(c *Config) { c.BindPassword = "wrong" },
			[]string{`bind as "cn=sync,dc=example,dc=org"`, "invalid credentials (LDAP result 49)", "check ldap.bind_dn / ldap.bind_password"},
			orgsync.ErrUnauthorized},
		{"unreachable host", func(c *Config) { c.URL = "ldap://127.0.0.1:1"; c.DialTimeout = orgsync.Duration(2 * time.Second) },
			[]string{"connect to ldap://127.0.0.1:1 (ldap.url)", "refused"}, nil},
		{"second url answers", func(c *Config) { c.URLs = []string{c.URL}; c.URL = "ldap://127.0.0.1:1" }, nil, nil},
		{"password from a file", func(c *Config) { c.BindPassword, c.BindPasswordFile = "", pwFile }, nil, nil},
		{"user base does not exist", func(c *Config) { c.User.BaseDN = "ou=nobody," + suffix },
			[]string{`search ldap.user.base_dn "ou=nobody,dc=example,dc=org"`, "no such object (LDAP result 32)", "check ldap.user.base_dn"},
			orgsync.ErrNotFound},
		{"group base does not exist", func(c *Config) { c.Group.BaseDN = "ou=nogroups," + suffix },
			[]string{"ldap.group.base_dn", "LDAP result 32"}, orgsync.ErrNotFound},
		{"size limit for an ordinary account", func(c *Config) { c.BindDN, c.BindPassword = readerDN, "reader" },
			[]string{"size limit exceeded (LDAP result 4)", "after 500 entries", "nothing was synced"}, nil},
		{"require_group not found", func(c *Config) { c.RequireGroup = "cn=nosuch,ou=groups," + suffix },
			[]string{"ldap.require_group", "cn=nosuch"}, orgsync.ErrNotFound},
		{"role_map group not found", func(c *Config) { c.RoleMap = map[string]string{"cn=nosuch,ou=groups," + suffix: "admin"} },
			[]string{"ldap.role_map", "cn=nosuch"}, orgsync.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := slapdConfig(t)
			tc.mutate(&cfg)
			snap, err := snapshot(t, cfg)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Snapshot returned %d members and no error", len(snap.Members))
			}
			if len(snap.Members) != 0 {
				t.Errorf("a failed Snapshot returned %d members", len(snap.Members))
			}
			msg := err.Error()
			for _, w := range append(tc.want, `ldap source "test-ldap"`) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if tc.kind != nil && !errors.Is(err, tc.kind) {
				t.Errorf("error is not %v", tc.kind)
			}
			if strings.Contains(msg, "wrong") || strings.Contains(msg, `"sync"`) {
				t.Errorf("error %q leaks the password", msg)
			}
		})
	}
}

func TestSlapdUnparseableFilterIsAConfigError(t *testing.T) {
	cfg := slapdConfig(t)
	cfg.User.Filter = "(objectClass=inetOrgPerson"
	_, err := New("test-ldap", cfg, zerolog.Nop())
	if err == nil || !strings.Contains(err.Error(), "ldap.user.filter") {
		t.Fatalf("New = %v, want an error naming ldap.user.filter", err)
	}
}

func TestSlapdCancelled(t *testing.T) {
	cfg := slapdConfig(t)
	cfg.PageSize = 10
	s, err := New("test-ldap", cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.OnProgress(func(p orgsync.Progress) {
		if p.Users >= 50 {
			cancel()
		}
	})
	snap, err := s.Snapshot(ctx)
	if err == nil || len(snap.Members) != 0 {
		t.Fatalf("cancelled Snapshot = %d members, %v; want an error", len(snap.Members), err)
	}
}

func testLogger(t *testing.T) zerolog.Logger {
	return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
}
