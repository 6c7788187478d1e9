package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/testenv"
	"github.com/orgsync/orgsync/sources/ldap"
)

// The Samba AD DC of scripts/samba-ad.sh; the test works under its own
// OU=Prop and removes it again.
const (
	adBase  = "DC=example,DC=org"
	adProp  = "OU=Prop," + adBase
	adUsers = "OU=Users," + adProp
	adGroup = "OU=Groups," + adProp
	adAway  = "OU=Away," + adProp
)

// adLDIF applies LDIF to the Samba DC as Administrator; with tolerant,
// failures are ignored (cleanup).
func adLDIF(t *testing.T, url, ldif string, tolerant bool) {
	t.Helper()
	args := []string{"-x", "-H", url, "-D", "CN=Administrator,CN=Users," + adBase, "-w", "Orgsync-Test-1!"}
	if tolerant {
		args = append(args, "-c")
	}
	cmd := exec.Command("ldapmodify", args...)
	cmd.Env = append(os.Environ(), "LDAPTLS_REQCERT=never")
	cmd.Stdin = strings.NewReader(ldif)
	if out, err := cmd.CombinedOutput(); err != nil && !tolerant {
		t.Fatalf("ldapmodify: %v\n%s", err, out)
	}
}

// adEditor makes random edits under OU=Prop and remembers what exists.
type adEditor struct {
	t        *testing.T
	url      string
	rnd      *rand.Rand
	users    []string // CNs under OU=Users
	away     []string // CNs moved to OU=Away
	hidden   map[string]bool
	disabled map[string]bool
	joined   []string // CNs this editor put in engineering
	teams    []string // groups it created
	n        int
}

func (e *adEditor) do(ldif string) { e.t.Helper(); adLDIF(e.t, e.url, ldif, false) }

func (e *adEditor) pick() (int, string) {
	i := e.rnd.IntN(len(e.users))
	return i, e.users[i]
}

func (e *adEditor) dn(cn string) string { return "CN=" + cn + "," + adUsers }

// edit makes one random edit and says what it was.
func (e *adEditor) edit() string {
	e.t.Helper()
	e.n++
	switch e.rnd.IntN(11) {
	case 0:
		_, cn := e.pick()
		e.do(fmt.Sprintf("dn: %s\nchangetype: modify\nreplace: sn\nsn: edited-%d\n-\nreplace: mail\nmail: edited-%d@example.org\n", e.dn(cn), e.n, e.n))
		return "profile " + cn
	case 1:
		_, cn := e.pick()
		uac := 546
		if e.disabled[cn] {
			uac = 544
		}
		e.disabled[cn] = !e.disabled[cn]
		e.do(fmt.Sprintf("dn: %s\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: %d\n", e.dn(cn), uac))
		return fmt.Sprintf("userAccountControl %d %s", uac, cn)
	case 2:
		i, cn := e.pick()
		e.do(fmt.Sprintf("dn: %s\nchangetype: delete\n", e.dn(cn)))
		e.users = append(e.users[:i], e.users[i+1:]...)
		e.joined = without(e.joined, cn)
		return "delete " + cn
	case 3:
		cn := fmt.Sprintf("new%d", e.n)
		e.do(fmt.Sprintf("dn: %s\nchangetype: add\nobjectClass: user\nsAMAccountName: %s\nuserPrincipalName: %s@example.org\nmail: %s@example.org\nuserAccountControl: 544\n\n"+
			"dn: CN=platform,%s\nchangetype: modify\nadd: member\nmember: %s\n", e.dn(cn), cn, cn, cn, adGroup, e.dn(cn)))
		e.users = append(e.users, cn)
		return "add " + cn
	case 4:
		_, cn := e.pick()
		if contains(e.joined, cn) {
			return "nothing"
		}
		// Tolerant: a member already (the fixture's, or one that came back)
		// stays one.
		adLDIF(e.t, e.url, fmt.Sprintf("dn: CN=engineering,%s\nchangetype: modify\nadd: member\nmember: %s\n", adGroup, e.dn(cn)), true)
		e.joined = append(e.joined, cn)
		return "join " + cn
	case 5:
		if len(e.joined) == 0 {
			return "nothing"
		}
		cn := e.joined[0]
		// Tolerant: it may have moved out (still a member, under another DN).
		adLDIF(e.t, e.url, fmt.Sprintf("dn: CN=engineering,%s\nchangetype: modify\ndelete: member\nmember: %s\n", adGroup, e.dn(cn)), true)
		e.joined = e.joined[1:]
		return "leave " + cn
	case 6:
		i, cn := e.pick()
		to := fmt.Sprintf("moved%d", e.n)
		e.do(fmt.Sprintf("dn: %s\nchangetype: modrdn\nnewrdn: CN=%s\ndeleteoldrdn: 1\n", e.dn(cn), to))
		e.users[i] = to
		if contains(e.joined, cn) {
			e.joined = append(without(e.joined, cn), to)
		}
		return "rename " + cn
	case 7:
		if len(e.away) > 0 && e.rnd.IntN(2) == 0 {
			cn := e.away[0]
			e.do(fmt.Sprintf("dn: CN=%s,%s\nchangetype: modrdn\nnewrdn: CN=%s\ndeleteoldrdn: 1\nnewsuperior: %s\n", cn, adAway, cn, adUsers))
			e.away = e.away[1:]
			e.users = append(e.users, cn)
			return "move back " + cn
		}
		i, cn := e.pick()
		e.do(fmt.Sprintf("dn: %s\nchangetype: modrdn\nnewrdn: CN=%s\ndeleteoldrdn: 1\nnewsuperior: %s\n", e.dn(cn), cn, adAway))
		e.users = append(e.users[:i], e.users[i+1:]...)
		e.away = append(e.away, cn)
		return "move out " + cn
	case 8:
		_, a := e.pick()
		_, b := e.pick()
		if a == b {
			return "nothing"
		}
		parent := "prop-users"
		if e.rnd.IntN(2) == 0 {
			parent = "prop-admins"
		}
		dn := fmt.Sprintf("CN=team%d,%s", e.n, adGroup)
		e.do(fmt.Sprintf("dn: %s\nchangetype: add\nobjectClass: group\nmember: %s\nmember: %s\n\n"+
			"dn: CN=%s,%s\nchangetype: modify\nadd: member\nmember: %s\n", dn, e.dn(a), e.dn(b), parent, adGroup, dn))
		e.teams = append(e.teams, dn)
		return "nest " + dn + " into " + parent
	case 9:
		if len(e.teams) == 0 {
			return "nothing"
		}
		dn := e.teams[0]
		e.do(fmt.Sprintf("dn: %s\nchangetype: delete\n", dn))
		e.teams = e.teams[1:]
		return "delete group " + dn
	default:
		_, cn := e.pick()
		if e.hidden[cn] {
			e.do(fmt.Sprintf("dn: %s\nchangetype: modify\ndelete: description\n", e.dn(cn)))
		} else {
			e.do(fmt.Sprintf("dn: %s\nchangetype: modify\nreplace: description\ndescription: hidden\n", e.dn(cn)))
		}
		e.hidden[cn] = !e.hidden[cn]
		return fmt.Sprintf("hidden %v %s", e.hidden[cn], cn)
	}
}

// adProperty builds OU=Prop: 40 users, prop-users {engineering, platform,
// user00..user19}, engineering {platform, user10..user29}, platform
// {user30..user34}, prop-admins {user00}; and one deleted object the
// bind user sees.
func adProperty(t *testing.T, url string) []string {
	var b strings.Builder
	fmt.Fprintf(&b, "dn: %s\nchangetype: add\nobjectClass: organizationalUnit\n\n", adProp)
	for _, ou := range []string{adUsers, adGroup, adAway} {
		fmt.Fprintf(&b, "dn: %s\nchangetype: add\nobjectClass: organizationalUnit\n\n", ou)
	}
	var users []string
	for i := 0; i < 40; i++ {
		cn := fmt.Sprintf("user%02d", i)
		users = append(users, cn)
		fmt.Fprintf(&b, "dn: CN=%s,%s\nchangetype: add\nobjectClass: user\nsAMAccountName: prop%02d\nuserPrincipalName: prop%02d@example.org\nmail: prop%02d@example.org\ngivenName: Given%d\nsn: Family%d\nuserAccountControl: 544\n\n",
			cn, adUsers, i, i, i, i, i)
	}
	members := func(from, to int) string {
		var s strings.Builder
		for i := from; i < to; i++ {
			fmt.Fprintf(&s, "member: CN=user%02d,%s\n", i, adUsers)
		}
		return s.String()
	}
	fmt.Fprintf(&b, "dn: CN=platform,%s\nchangetype: add\nobjectClass: group\n%s\n", adGroup, members(30, 35))
	fmt.Fprintf(&b, "dn: CN=engineering,%s\nchangetype: add\nobjectClass: group\nmember: CN=platform,%s\n%s\n", adGroup, adGroup, members(10, 30))
	fmt.Fprintf(&b, "dn: CN=prop-users,%s\nchangetype: add\nobjectClass: group\nmember: CN=engineering,%s\nmember: CN=platform,%s\n%s\n", adGroup, adGroup, adGroup, members(0, 20))
	fmt.Fprintf(&b, "dn: CN=prop-admins,%s\nchangetype: add\nobjectClass: group\n%s\n", adGroup, members(0, 1))
	fmt.Fprintf(&b, "dn: CN=tombstone,%s\nchangetype: add\nobjectClass: user\nsAMAccountName: prop-tombstone\n\ndn: CN=tombstone,%s\nchangetype: delete\n", adProp, adProp)
	adLDIF(t, url, b.String(), false)
	return users
}

func adCleanup(url string) {
	cmd := exec.Command("ldapdelete", "-r", "-x", "-H", url, "-D", "CN=Administrator,CN=Users,"+adBase, "-w", "Orgsync-Test-1!", adProp)
	cmd.Env = append(os.Environ(), "LDAPTLS_REQCERT=never")
	_ = cmd.Run()
}

// TestADIncrementalPlanEqualsFullPlan: TestIncrementalPlanEqualsFullPlan
// on the Samba AD DC, where deletions come from the Deleted Objects
// container: after random edits (deletions, renames, moves out of the base
// and back, a filter that stops matching, nested groups created and
// deleted), each incremental run plans what a full read plans, and a full
// run after the last plans nothing.
func TestADIncrementalPlanEqualsFullPlan(t *testing.T) {
	url := testenv.Require(t, testenv.ADURLVar)
	ca := os.Getenv("ORGSYNC_TEST_AD_CA")
	for _, tc := range []struct {
		name    string
		seed    uint64
		require string
	}{
		{"whole base", 1, ""},
		{"require_group prop-users", 2, "CN=prop-users," + adGroup},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			adCleanup(url)
			t.Cleanup(func() { adCleanup(url) })
			users := adProperty(t, url)
			rig := newIncrementalRig(t, url, func(c *ldap.Config) {
				*c = ldap.Config{
					Flavor: ldap.FlavorAD, URL: url, CAFile: ca, InsecureSkipVerify: ca == "",
					BindDN: "CN=Administrator,CN=Users," + adBase, BindPassword: "Orgsync-Test-1!", PageSize: 10,
					User:         ldap.UserConfig{BaseDN: adUsers, Filter: "(&(objectCategory=person)(objectClass=user)(!(description=hidden)))"},
					Group:        ldap.GroupConfig{BaseDN: adGroup, Nested: true},
					RequireGroup: tc.require,
					RoleMap:      map[string]string{"CN=prop-admins," + adGroup: orgsync.RoleAdmin},
				}
			})
			rep, err := rig.runner.Run(ctx, rig.inc, false)
			if err != nil || rep.Read == nil || rep.Read.Kind != orgsync.ReadFull {
				t.Fatalf("first run: read %+v, err %v", rep.Read, err)
			}
			ed := &adEditor{t: t, url: url, rnd: rand.New(rand.NewPCG(tc.seed, 17)), users: users, hidden: map[string]bool{}, disabled: map[string]bool{}}
			for round := 1; round <= 10; round++ {
				var did []string
				for n := 1 + ed.rnd.IntN(5); len(did) < n; {
					if e := ed.edit(); e != "nothing" {
						did = append(did, e)
					}
				}
				before := rig.cursor(t)
				// (The tolerant edits may all have changed nothing.)
				incPlan, runRep := rig.round(t, round, did, "through the deleted objects", func(r *orgsync.Read) bool {
					return strings.Contains(r.Reason, "AD deleted objects, no keys listing") || r.Reason == "nothing changed since the cursor"
				})
				a, _ := strconv.ParseUint(before.Position, 10, 64)
				b, _ := strconv.ParseUint(rig.cursor(t).Position, 10, 64)
				if b < a || b == a && incPlan.Read.Reason != "nothing changed since the cursor" {
					t.Fatalf("round %d: the cursor did not move (%d, then %d)", round, a, b)
				}
				t.Logf("round %d: %d changes planned for %s (%s)", round, len(incPlan.Plan.Changes), strings.Join(did, "; "), runRep.Read.Reason)
			}
			rep, err = rig.runner.Run(ctx, rig.full, false)
			if err != nil || !rep.Plan.Empty() {
				t.Fatalf("a full run after the incremental ones: %d changes (%s), err %v", len(rep.Plan.Changes), planOf(t, rep.Plan), err)
			}
			// The DC is shared with other packages' tests: its USN may move
			// without anything under OU=Prop changing.
			rep, err = rig.runner.Run(ctx, rig.inc, false)
			if err != nil || !rep.Plan.Empty() || rep.Read.Kind != orgsync.ReadIncremental {
				t.Fatalf("an incremental run with nothing changed: read %+v, %d changes, err %v", rep.Read, len(rep.Plan.Changes), err)
			}
		})
	}
}
