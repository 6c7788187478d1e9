package render

import (
	"fmt"
	"slices"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
	"github.com/orgsync/orgsync/reconciler/internal/fixture"
)

// The reports the tests render are computed by the reconciler itself
// (Diff, CheckGuards) from small snapshots, so that they hold what real
// plans hold.

const src = "corp"

const (
	active  = orgsync.StatusActive
	pending = orgsync.StatusPendingSetup
	deprov  = orgsync.StatusDeprovisioned
)

var noGroupGuards = reconciler.GuardConfig{MaxGroupDelete: -1, MaxGroupDeletePercent: -1, MaxMemberRemove: -1, MaxMemberRemovePercent: -1}

// sampleReports covers every action and every way a run ends.
func sampleReports() []reconciler.Report {
	desired := orgsync.Snapshot{
		Members: []orgsync.Member{
			fixture.User("k1", "alice@example.org"),
			fixture.User("k2", "bob@example.org", fixture.DisplayName("Bob Builder"), fixture.Role("admin")),
			fixture.User("k3", "carol@example.org"),
			fixture.User("k4", "dan@example.org", fixture.Disabled),
			fixture.User("k6", "frank@example.org"),
			fixture.User("k7", "grace@example.org", fixture.Email("dup@example.org"), func(m *orgsync.Member) { m.DN = "uid=grace,ou=people,dc=example,dc=org" }),
			fixture.User("k8", "heidi@example.org", fixture.Email("DUP@example.org")),
			fixture.User("k9", "ivan@example.org"),
		},
		Groups: []orgsync.Group{
			fixture.Group("g1", "engineering", []string{"k1", "k2"}, "g3"),
			fixture.Group("g2", "platform-team", []string{"k3"}),
			fixture.Group("g3", "sre", []string{"k9"}),
		},
		Warnings: []string{`entry "uid=zed,ou=people": no mail attribute, skipped`},
	}
	observed := orgsync.Snapshot{
		Members: []orgsync.Member{
			fixture.Member("m2", src, "k2", "bob@example.org", active),
			fixture.Member("m3", src, "k3", "carol@example.org", deprov, fixture.SetupDone),
			fixture.Member("m4", src, "k4", "dan@example.org", active),
			fixture.Member("m5", src, "k5", "erin@example.org", pending),
			fixture.Member("m6", "", "", "frank.old", active, fixture.Email("frank@example.org")),
			fixture.Member("s1", orgsync.OwnerSCIM, "e1", "ivan@example.org", pending),
		},
		Groups: []orgsync.Group{
			fixture.OwnedGroup("G1", src, "g1", "engineering", "m2", "m5"),
			fixture.OwnedGroup("G2", src, "g2", "platform", "m4", "m2"),
			fixture.OwnedGroup("G4", src, "g4", "legacy"),
		},
	}
	plan := reconciler.Diff(desired, observed, reconciler.Options{Org: "acme", Owner: src})
	guards := noGroupGuards
	guards.MaxDeprovision, guards.MaxDeprovisionPercent = 25, 50
	dry := reconciler.Report{
		Org: "acme", Source: src, Plan: plan, Guard: reconciler.CheckGuards(plan, len(desired.Members), guards),
		DryRun: true, PendingSetup: []string{"alice@example.org", "ivan@example.org"}, ProvisionedPending: []string{"alice@example.org"},
	}

	small := reconciler.Diff(orgsync.Snapshot{Members: []orgsync.Member{fixture.User("k1", "alice@example.org")}},
		orgsync.Snapshot{Members: []orgsync.Member{fixture.Member("m9", src, "k9", "old@example.org", active)}},
		reconciler.Options{Org: "acme", Owner: src})
	counts := small.Summary()
	applied := reconciler.Report{
		Org: "acme", Source: src, Plan: small, RunID: 42,
		Applied:      &orgsync.Applied{Counts: counts, Provisioned: []string{"alice@example.org"}},
		PendingSetup: []string{"alice@example.org", "zoe@example.org"}, ProvisionedPending: []string{"alice@example.org"},
	}
	forced := applied
	forced.Applied = &orgsync.Applied{Counts: counts, Provisioned: []string{"alice@example.org"},
		Skipped: []string{`update bob@example.org: new user name is taken by a member owned by "scim"`}}
	forced.Guard = orgsync.Decision{Blocked: true, Forced: true, Reason: "1 deprovisions are 100.0% of the 1 active owned members, above guard.max_deprovision_percent (10%)"}
	guards.MaxDeprovision, guards.MaxDeprovisionPercent = 0, 10
	blocked := reconciler.Report{
		Org: "acme", Source: src, Plan: small, RunID: 43,
		Guard:        reconciler.CheckGuards(small, 1, guards),
		Error:        "reconciler: corp: refused by guard: ...",
		PendingSetup: []string{"zoe@example.org"}, ProvisionedPending: []string{},
	}
	failed := reconciler.Report{Org: "acme", Source: "idp-scim", Plan: orgsync.Plan{Org: "acme", Owner: "idp-scim", Changes: []orgsync.Change{}},
		RunID: 44, Error: "reconciler: idp-scim: read source: scim: GET /Users page 3: 503 Service Unavailable"}
	inSync := reconciler.Report{Org: "beta", Source: "beta-ldap", Plan: orgsync.Plan{Org: "beta", Owner: "beta-ldap", Changes: []orgsync.Change{}},
		Applied: &orgsync.Applied{Counts: orgsync.Plan{}.Summary()}, PendingSetup: []string{}, ProvisionedPending: []string{}}
	return []reconciler.Report{dry, applied, forced, blocked, failed, inSync}
}

// hostileNames are names a directory user or an IdP could set, each trying
// to fake a line of a report.
var hostileNames = []string{
	"x\n| evil | row |",
	"\x1b[2J\x1b[1;1Hguard: ok",
	"y\nguard: ok",
	"z\n\n## Guard: ok\n**Guard:** ok",
	"\u202egro.elpmaxe@nimda",
}

// hostileReport provisions the hostile names (and a group of them), with a
// guard that blocks: a faked "guard: ok" would be the only one.
func hostileReport() reconciler.Report {
	var desired orgsync.Snapshot
	var keys []string
	for i, n := range hostileNames {
		k := fmt.Sprintf("k%d", i)
		keys = append(keys, k)
		desired.Members = append(desired.Members, fixture.User(k, n))
	}
	desired.Groups = []orgsync.Group{fixture.Group("g1", "ops\n| member_add | 99 |", keys)}
	desired.Warnings = []string{"entry \"cn=x\n**Guard:** ok\": skipped"}
	observed := orgsync.Snapshot{Members: []orgsync.Member{fixture.Member("m1", src, "gone", "old\n- `fake`", active)}}
	plan := reconciler.Diff(desired, observed, reconciler.Options{Org: "acme", Owner: src})
	plan.Conflicts = append(plan.Conflicts, orgsync.Conflict{UserName: "c\n| conflict |", Key: "k\x1b[31m", Reason: "name \"c\nguard: ok\" is taken"})
	return reconciler.Report{Org: "acme", Source: src, Plan: plan, DryRun: true,
		Guard:        orgsync.Decision{Blocked: true, Reason: "1 deprovision of \"old\n\nguard: ok\""},
		PendingSetup: slices.Sorted(slices.Values(hostileNames)), ProvisionedPending: slices.Sorted(slices.Values(hostileNames))}
}

// firstReport is the dry run of a first provisioning: groups created,
// users provisioned, perGroup members added to each group; every user
// awaits setup.
func firstReport(users, groups, perGroup int) reconciler.Report {
	p := orgsync.Plan{Org: "acme", Owner: src}
	for j := range groups {
		p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionGroupCreate, GroupName: fmt.Sprintf("group-%d", j)})
	}
	names := make([]string, users)
	for i := range users {
		names[i] = fmt.Sprintf("user%d@example.org", i)
		p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionProvision, UserName: names[i]})
	}
	for j := range groups {
		for k := range perGroup {
			p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionMemberAdd, GroupName: fmt.Sprintf("group-%d", j),
				UserName: names[(j*perGroup+k)%users]})
		}
	}
	slices.Sort(names)
	return reconciler.Report{Org: "acme", Source: src, Plan: p, DryRun: true, PendingSetup: names, ProvisionedPending: names}
}
