package storetest

import (
	"testing"

	"github.com/orgsync/orgsync"
)

// testPurgeNeverAdminsHoweverSpelled: Apply skips the purge of a member
// whose role is admin in another case or with padding, as for "admin".
func testPurgeNeverAdminsHoweverSpelled(t *testing.T, s target) {
	var ms []*orgsync.Member
	for i, r := range []string{"Admin", " admin ", "ADMIN"} {
		m := user(string(rune('a'+i)), string(rune('a'+i))+"@example.org")
		m.Role = r
		ms = append(ms, m)
	}
	mustApply(t, s, provision("ldap", ms...))
	byName, _ := mustObserve(t, s)
	var deprov, purge []orgsync.Change
	for _, m := range ms {
		id := byName[m.UserName].ID
		deprov = append(deprov, orgsync.Change{Action: orgsync.ActionDeprovision, MemberID: id})
		purge = append(purge, orgsync.Change{Action: orgsync.ActionPurge, MemberID: id})
	}
	mustApply(t, s, orgsync.Plan{Org: "acme", Owner: "ldap", Changes: deprov})
	a := mustApply(t, s, orgsync.Plan{Org: "acme", Changes: purge})
	if a.Counts[orgsync.ActionPurge] != 0 || len(a.Skipped) != len(ms) {
		t.Fatalf("purge of admins spelled %q applied %+v", []string{"Admin", " admin ", "ADMIN"}, a)
	}
	if byName, _ = mustObserve(t, s); len(byName) != len(ms) {
		t.Fatalf("after the purge: %v", byName)
	}
}
