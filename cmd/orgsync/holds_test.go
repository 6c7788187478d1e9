package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
)

// heldReport is the part of the JSON report about held entries.
type heldReport struct {
	Runs []struct {
		Summary   map[string]int     `json:"summary"`
		Conflicts []orgsync.Conflict `json:"conflicts"`
		Held      struct {
			Users  int `json:"users"`
			Groups int `json:"groups"`
		} `json:"held"`
		Guard struct {
			Blocked bool `json:"blocked"`
		} `json:"guard"`
		Applied bool `json:"applied"`
	} `json:"runs"`
}

// memberState is what a held member must keep: status, role, profile,
// groups and version (no write at all).
func memberState(m orgsync.Member) string {
	groups := slices.Clone(m.Groups)
	slices.Sort(groups)
	return fmt.Sprintf("%s %s %s %q %v v%d", m.UserName, m.Status, m.Role, m.DisplayName, groups, m.Version)
}

// TestLDAPHeldEntriesKeepTheirMembers is issue 14's attack on a real
// slapd: a directory user sets their own mail (the user name) to the
// admin's address, another deletes their mail, and someone adds a second
// group named like an existing one. Today's source dropped all those
// entries, and the plan deprovisioned the admin and the mail-less user
// and deleted the group, within the deprovision guard. Now every entry
// involved is held: the admin keeps status, role and groups, nothing is
// written, the report counts and names the held entries, and once the
// directory is repaired the next plan is empty.
func TestLDAPHeldEntriesKeepTheirMembers(t *testing.T) {
	ldap := startSlapd(t, "testdata/e2e.ldif")
	// Guards wide open: only the holds stand between the directory and
	// the members.
	cfg := ldapConfig(t, ldap.url, openGuard)
	if code, out, errOut := cli(t, cfg, "reconcile"); code != 0 {
		t.Fatalf("first reconcile: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, _ := cli(t, cfg, "members", "complete-setup", "--org", "acme", "ada@example.org"); code != 0 {
		t.Fatalf("complete-setup: %d %s", code, out)
	}
	before := members(t, cfg)
	ada := before["ada@example.org"]
	if ada.Status != orgsync.StatusActive || ada.Role != orgsync.RoleAdmin || len(ada.Groups) != 2 {
		t.Fatalf("ada before the attack: %s", memberState(ada))
	}

	ldap.modify(t, `dn: uid=ben,ou=people,dc=example,dc=org
changetype: modify
replace: mail
mail: ada@example.org

dn: uid=dee,ou=people,dc=example,dc=org
changetype: modify
delete: mail

dn: ou=team,ou=groups,dc=example,dc=org
changetype: add
objectClass: organizationalUnit
ou: team

dn: cn=engineering,ou=team,ou=groups,dc=example,dc=org
changetype: add
objectClass: groupOfNames
cn: engineering
member: uid=jo,ou=people,dc=example,dc=org
`)
	code, out, errOut := cli(t, cfg, "reconcile", "--format", "json")
	if code != 0 {
		t.Fatalf("reconcile after the attack: exit %d\n%s\n%s", code, out, errOut)
	}
	var rep heldReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Runs) != 1 {
		t.Fatalf("report: %v\n%s", err, out)
	}
	run := rep.Runs[0]
	for action, n := range run.Summary {
		if n != 0 {
			t.Errorf("the plan has %d %s: %s", n, action, out)
		}
	}
	// ada and ben (one user name), dee (no mail); both engineering groups.
	if run.Held.Users != 3 || run.Held.Groups != 2 || len(run.Conflicts) != 5 {
		t.Errorf("held = %+v with %d conflicts, want 3 users and 2 groups:\n%s", run.Held, len(run.Conflicts), out)
	}
	var reasons []string
	for _, c := range run.Conflicts {
		reasons = append(reasons, c.UserName+": "+c.Reason)
	}
	all := strings.Join(reasons, "\n")
	for _, want := range []string{
		`ada@example.org: user name appears 2 times in the source`,
		`held by the source: user "uid=dee,ou=people,dc=example,dc=org": no mail (ldap.user.user_name_attribute)`,
		`group "engineering": display name appears 2 times in the source`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("conflicts lack %q:\n%s", want, all)
		}
	}
	after := members(t, cfg)
	for name, m := range before {
		if memberState(after[name]) != memberState(m) {
			t.Errorf("%s changed: %s → %s", name, memberState(m), memberState(after[name]))
		}
	}

	// The text report says it too.
	_, text, _ := cli(t, cfg, "plan")
	if !strings.Contains(text, "held back (3 users and 2 groups kept as they are)") || !strings.Contains(text, "uid=dee") {
		t.Errorf("text plan does not show the held entries:\n%s", text)
	}

	// check names them, for the directory's owners to fix.
	if code, out, _ := cli(t, cfg, "check"); code != 0 ||
		!strings.Contains(out, `held user: user "uid=dee,ou=people,dc=example,dc=org": no mail (ldap.user.user_name_attribute)`) {
		t.Errorf("check: exit %d, want the held user named:\n%s", code, out)
	}

	// Repaired, the directory plans nothing: the holds left no residue.
	ldap.modify(t, `dn: uid=ben,ou=people,dc=example,dc=org
changetype: modify
replace: mail
mail: ben@example.org

dn: uid=dee,ou=people,dc=example,dc=org
changetype: modify
add: mail
mail: dee@example.org

dn: cn=engineering,ou=team,ou=groups,dc=example,dc=org
changetype: delete
`)
	if code, out, _ := cli(t, cfg, "plan", "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan after the repair: exit %d, want 0\n%s", code, out)
	}
}

// TestLDAPGuardsGroupsMembershipsAdmins: with the default guards (only the
// deprovision limits opened, and the percentages weighed however small the
// directory: percent_min_count -1), a real directory change that demotes
// two admins, one that removes most memberships and one that deletes half
// the groups are each refused (exit 3, nothing applied) until --force.
func TestLDAPGuardsGroupsMembershipsAdmins(t *testing.T) {
	ldap := startSlapd(t, "testdata/e2e.ldif")
	ldap.modify(t, `dn: cn=kms-admins,ou=groups,dc=example,dc=org
changetype: modify
add: member
member: uid=ben,ou=people,dc=example,dc=org
`)
	cfg := ldapConfig(t, ldap.url, "{max_deprovision: 100000, max_deprovision_percent: 100, percent_min_count: -1}")
	if code, out, errOut := cli(t, cfg, "reconcile"); code != 0 {
		t.Fatalf("first reconcile: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, step := range []struct {
		name, ldif, reason string
		check              func(ms map[string]orgsync.Member) bool
	}{
		{"two admins demoted", `dn: cn=kms-admins,ou=groups,dc=example,dc=org
changetype: modify
replace: member
member: uid=cy,ou=people,dc=example,dc=org
`, "2 admin demotions exceed guard.max_admin_demotions (1)", func(ms map[string]orgsync.Member) bool {
			return ms["ada@example.org"].Role == orgsync.RoleMember && ms["cy@example.org"].Role == orgsync.RoleAdmin
		}},
		{"most memberships removed", `dn: cn=engineering,ou=groups,dc=example,dc=org
changetype: modify
replace: member
member: uid=ada,ou=people,dc=example,dc=org
`, "4 membership removals are 66.7% of the 6 memberships of owned groups, above guard.max_member_remove_percent (25%)", func(ms map[string]orgsync.Member) bool {
			return len(ms["ben@example.org"].Groups) == 0
		}},
		{"half the groups deleted", `dn: cn=engineering,ou=groups,dc=example,dc=org
changetype: delete
`, "1 group deletions are 50.0% of the 2 owned groups, above guard.max_group_delete_percent (25%)", func(ms map[string]orgsync.Member) bool {
			return len(ms["ada@example.org"].Groups) == 0
		}},
	} {
		t.Run(step.name, func(t *testing.T) {
			ldap.modify(t, step.ldif)
			before := members(t, cfg)
			code, out, errOut := cli(t, cfg, "reconcile", "--format", "json")
			if code != 3 || !strings.Contains(out, step.reason) || !strings.Contains(errOut, "--force") {
				t.Fatalf("reconcile: exit %d, want 3 naming %q\n%s\n%s", code, step.reason, out, errOut)
			}
			after := members(t, cfg)
			for name, m := range before {
				if memberState(after[name]) != memberState(m) {
					t.Errorf("a blocked run changed %s: %s → %s", name, memberState(m), memberState(after[name]))
				}
			}
			if code, _, errOut := cli(t, cfg, "reconcile", "--force"); code != 0 {
				t.Fatalf("reconcile --force: exit %d %s", code, errOut)
			}
			if ms := members(t, cfg); !step.check(ms) {
				t.Errorf("--force did not apply the plan: %v", ms)
			}
		})
	}
}
