package ldap

import (
	"slices"
	"testing"
)

func TestBacklinkFilter(t *testing.T) {
	for _, tc := range []struct {
		filter string
		want   bool
	}{
		{"(&(objectCategory=person)(objectClass=user))", false},
		{"(&(objectClass=user)(memberOf=CN=x,DC=y))", true},
		{"(&(objectClass=user)(memberof:1.2.840.113556.1.4.1941:=CN=x,DC=y))", true},
		{"(!(directReports=*))", true},
		{"(msExchDelegateListBL=*)", true},
		{"(description=memberOf)", false},
		{"(department=sales)", false},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			if got := backlinkFilter.MatchString(tc.filter); got != tc.want {
				t.Fatalf("backlink(%q) = %v, want %v", tc.filter, got, tc.want)
			}
		})
	}
}

// TestMergeByID: stored entries keep their order, changed ones replace
// them whatever their DN now, deleted and touched-but-unchanged ones go,
// new ones come last by DN; moves names the DNs member values may hold.
func TestMergeByID(t *testing.T) {
	key := func(u *user) (string, string) { return u.dn, u.id }
	old := []user{{dn: "cn=a", id: "1"}, {dn: "cn=b", id: "2"}, {dn: "cn=c", id: "3"}, {dn: "cn=d", id: "4"}, {dn: "cn=e", id: "5"}}
	changed := map[string]user{
		"cn=b2": {dn: "cn=b2", id: "2", name: "renamed"},
		"cn=z":  {dn: "cn=z", id: "9"},
		"cn=y":  {dn: "cn=y", id: "8"},
	}
	var mv moves
	got, err := mergeByID(old, changed, key, map[string]bool{"3": true}, map[string]bool{"2": true, "4": true, "8": true, "9": true}, &mv)
	if err != nil {
		t.Fatal(err)
	}
	var dns []string
	for _, u := range got {
		dns = append(dns, u.dn)
	}
	if want := []string{"cn=a", "cn=b2", "cn=e", "cn=y", "cn=z"}; !slices.Equal(dns, want) {
		t.Errorf("merged %v, want %v", dns, want)
	}
	if want := []string{"cn=b", "cn=c", "cn=d"}; !slices.Equal(mv.gone, want) {
		t.Errorf("gone %v, want %v (renamed, deleted, out of scope)", mv.gone, want)
	}
	if want := []string{"cn=y", "cn=z"}; !slices.Equal(mv.entered, want) {
		t.Errorf("entered %v, want %v", mv.entered, want)
	}
	if _, err := mergeByID(old, map[string]user{"cn=x": {dn: "cn=x"}}, key, nil, nil, &moves{}); err == nil {
		t.Error("a changed entry without objectGUID merged")
	}
}
