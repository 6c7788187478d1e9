package ldap

// Integration tests against the Samba AD DC that scripts/samba-ad.sh starts.
// Its fixture, under OU=KMS,DC=example,DC=org:
//
//	OU=Users   Alice Archer, Bob Baker, Zoe (displayName Zoë Ångström),
//	           Erin Eck (in no group), Carol Cole (userAccountControl 546),
//	           Frank Fox (514), Dave Dunn (accountExpires in 2012)
//	OU=Groups  kms-users {alice carol dave frank zoe olga kms-eng}
//	           kms-eng {bob kms-platform}, kms-platform {kms-eng}: a cycle
//	           kms-admins {alice}
//	OU=Elsewhere,DC=example,DC=org: Olga (outside user.base_dn)

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/testenv"
	"github.com/orgsync/orgsync/sources/ldap/internal/wire"
)

const (
	adBase     = "DC=example,DC=org"
	adAdminDN  = "CN=Administrator,CN=Users," + adBase
	adPassword = "Orgsync-Test-1!"
)

// adCAVar names the CA of the Samba DC's certificate (scripts/samba-ad.sh
// writes it to DIR/env); without it the tests skip verification.
const adCAVar = "ORGSYNC_TEST_AD_CA"

func adConfig(t *testing.T) Config {
	ca := os.Getenv(adCAVar)
	return Config{
		Flavor: FlavorAD, URL: testenv.Require(t, testenv.ADURLVar),
		CAFile: ca, InsecureSkipVerify: ca == "",
		BindDN: adAdminDN, BindPassword: adPassword,
		PageSize:     2, // several pages for a handful of users
		User:         UserConfig{BaseDN: "OU=Users,OU=KMS," + adBase},
		Group:        GroupConfig{BaseDN: "OU=Groups,OU=KMS," + adBase, Nested: true},
		RequireGroup: "CN=kms-users,OU=Groups,OU=KMS," + adBase,
		RoleMap:      map[string]string{"cn=KMS-Admins,ou=groups,ou=kms," + adBase: orgsync.RoleAdmin},
	}
}

func TestSambaADSnapshot(t *testing.T) {
	cfg := adConfig(t)
	var pages int
	s, err := New("test-ad", cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	s.OnProgress(func(orgsync.Progress) { pages++ })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}

	status := map[string]orgsync.Status{}
	for _, m := range snap.Members {
		status[m.UserName] = m.Status
	}
	want := map[string]orgsync.Status{
		"alice@example.org": orgsync.StatusActive,
		"bob@example.org":   orgsync.StatusActive, // through kms-eng
		"zoe@example.org":   orgsync.StatusActive,
		"carol@example.org": orgsync.StatusDeprovisioned, // userAccountControl 546
		"frank@example.org": orgsync.StatusDeprovisioned, // 514
		"dave@example.org":  orgsync.StatusDeprovisioned, // accountExpires 2012
	}
	if len(status) != len(want) {
		t.Errorf("members = %v, want %v (erin not in kms-users, olga outside the base)", status, want)
	}
	for name, w := range want {
		if status[name] != w {
			t.Errorf("%s: status %q, want %q", name, status[name], w)
		}
	}
	if pages < 4 {
		t.Errorf("%d pages with page_size 2, want at least 4", pages)
	}

	alice := memberByName(snap, "alice@example.org")
	if alice == nil || alice.Role != orgsync.RoleAdmin || alice.GivenName != "Alice" || alice.FamilyName != "Archer" ||
		alice.DisplayName != "Alice Archer" || alice.Email() != "alice@example.org" {
		t.Fatalf("alice = %+v", alice)
	}
	if zoe := memberByName(snap, "zoe@example.org"); zoe == nil || zoe.DisplayName != "Zoë Ångström" {
		t.Errorf("zoe = %+v, want the UTF-8 displayName", zoe)
	}

	// The ExternalID is the canonical GUID string: AD finds the entry by it.
	if got := dnByGUID(t, cfg, alice.ExternalID); !strings.EqualFold(got, "CN=Alice Archer,OU=Users,OU=KMS,"+adBase) {
		t.Errorf("<GUID=%s> is %q, want Alice's entry", alice.ExternalID, got)
	}

	users, eng, plat := groupByName(snap, "kms-users"), groupByName(snap, "kms-eng"), groupByName(snap, "kms-platform")
	if users == nil || eng == nil || plat == nil {
		t.Fatalf("groups = %+v", snap.Groups)
	}
	wantDirect := []string{"alice@example.org", "carol@example.org", "dave@example.org", "frank@example.org", "zoe@example.org"}
	if got := names(snap, users.Members); !slices.Equal(got, wantDirect) {
		t.Errorf("kms-users members = %v, want %v", got, wantDirect)
	}
	if !slices.Equal(users.Subgroups, []string{eng.ExternalID}) || !slices.Equal(eng.Subgroups, []string{plat.ExternalID}) ||
		!slices.Equal(plat.Subgroups, []string{eng.ExternalID}) {
		t.Errorf("nesting: kms-users %v, kms-eng %v, kms-platform %v", users.Subgroups, eng.Subgroups, plat.Subgroups)
	}
	if len(snap.Warnings) != 0 {
		t.Errorf("warnings: %q", snap.Warnings)
	}
}

func TestSambaADWrongPassword(t *testing.T) {
	cfg := adConfig(t)
	cfg.BindPassword = "wrong"
	_, err := snapshot(t, cfg)
	if err == nil || !strings.Contains(err.Error(), "invalid credentials (LDAP result 49)") {
		t.Fatalf("err = %v, want LDAP result 49", err)
	}
}

// dnByGUID looks an entry up by AD's <GUID=…> DN syntax.
func dnByGUID(t *testing.T, cfg Config, guid string) string {
	t.Helper()
	cfg.SetDefaults()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := New("test-ad", cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.dial(ctx, cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(ctx, cfg.BindDN, adPassword); err != nil {
		t.Fatal(err)
	}
	var dn string
	_, err = c.Search(ctx, wire.SearchRequest{Base: "<GUID=" + guid + ">", Scope: goldap.ScopeBaseObject,
		Filter: "(objectClass=*)", Attrs: []string{"1.1"}}, func(e *wire.Entry) error {
		dn = string(e.DN)
		return nil
	})
	if err != nil {
		t.Fatalf("search <GUID=%s>: %v", guid, err)
	}
	return dn
}

// Subtree searches of the domain root come with continuation references to
// the DNS and configuration partitions: flavor ad ignores them by default.
func TestSambaADDomainRootReferences(t *testing.T) {
	cfg := adConfig(t)
	cfg.User.BaseDN, cfg.Group.BaseDN, cfg.RequireGroup, cfg.RoleMap = adBase, adBase, "", nil
	cfg.PageSize = 100
	snap, err := snapshot(t, cfg)
	if err != nil {
		t.Fatalf("domain root search: %v", err)
	}
	if memberByName(snap, "olga@example.org") == nil {
		t.Errorf("olga (OU=Elsewhere) missing from a domain-root read")
	}

	cfg.References = ReferencesError
	_, err = snapshot(t, cfg)
	if err == nil || !strings.Contains(err.Error(), "referred part of the result") {
		t.Fatalf("with references: error, err = %v", err)
	}
}
