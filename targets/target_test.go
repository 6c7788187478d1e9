package targets

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/kmsfake"
	"github.com/orgsync/orgsync/store"
)

func TestFirstRunProvisionsInvitedAndPendingGroupMembers(t *testing.T) {
	st := newStore(t)
	newHR(t, st, 10, 3)
	f := newFake(t, kmsfake.Options{})
	admin := f.AddUnmanaged("owner@example.org")
	tg := openTarget(t, st, f, nil)

	rep := run(t, tg)
	if got := rep.Applied.Counts[orgsync.ActionProvision]; got != 10 {
		t.Fatalf("provisioned %d, want 10", got)
	}
	users := byName(f)
	if len(users) != 11 || f.Invites() != 10 {
		t.Fatalf("%d users, %d invites; want 11 and 10", len(users), f.Invites())
	}
	for name, u := range users {
		if name != "owner@example.org" && (u.Status != "invited" || !u.Active) {
			t.Errorf("%s: %+v, want invited and active", name, u)
		}
	}
	groups := f.Groups()
	if len(groups) != 3 {
		t.Fatalf("%d groups, want 3", len(groups))
	}
	for _, g := range groups {
		for id, pending := range g.Members {
			if !pending {
				t.Errorf("group %s: member %s not pending before accepting", g.Name, id)
			}
		}
	}
	sizes := map[string]int{}
	for _, g := range groups {
		sizes[g.Name] = len(g.Members)
	}
	if sizes["team-0"] != 4 || sizes["team-1"] != 3 || sizes["team-2"] != 3 {
		t.Errorf("group sizes %v, want team-0 4, team-1 and team-2 3", sizes)
	}
	// Idempotent: the next plan is empty, and a no-op run only reads.
	if p := plan(t, tg); !p.Plan.Empty() {
		t.Fatalf("second plan not empty: %+v", p.Plan.Changes)
	}
	f.ResetCounts()
	run(t, tg)
	if c := f.Counts(); c["POST"] > 1 || c["PATCH"] != 0 || c["PUT"] != 0 || c["DELETE"] != 0 {
		t.Fatalf("a no-op run wrote: %v (only the setup login may POST)", c)
	}
	if u := byName(f)["owner@example.org"]; u.ID != admin || !u.Active {
		t.Fatalf("the unmanaged member was touched: %+v", u)
	}
	runs, err := st.Runs(context.Background(), store.RunFilter{Source: "kms"})
	if err != nil || len(runs) != 2 || runs[0].Target != "kms" || runs[0].Result != orgsync.RunApplied {
		t.Fatalf("runs %+v, %v; want 2 applied runs with target kms", runs, err)
	}
}

func TestAcceptedMembersBecomeActive(t *testing.T) {
	st := newStore(t)
	newHR(t, st, 5, 1)
	f := newFake(t, kmsfake.Options{})
	tg := openTarget(t, st, f, nil)
	run(t, tg)
	for _, n := range []string{"u001@example.org", "u003@example.org"} {
		if !f.Accept(n) {
			t.Fatalf("accept %s", n)
		}
	}
	n, err := tg.SyncSetup(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("SyncSetup = %d, %v; want 2", n, err)
	}
	for name, want := range map[string]orgsync.Status{"u001@example.org": orgsync.StatusActive, "u003@example.org": orgsync.StatusActive, "u000@example.org": orgsync.StatusPendingSetup} {
		if got := status(t, st, name); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	evs, err := st.Events(context.Background(), org, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	actors := 0
	for _, e := range evs {
		if e.Kind == orgsync.EventMemberSetupComplete && e.Actor == "target:kms" {
			actors++
		}
	}
	if actors != 2 {
		t.Fatalf("%d setup events by target:kms, want 2", actors)
	}
	// Their group memberships are no longer pending in the KMS.
	for id, pending := range f.Groups()[0].Members {
		if byID(f, id).Status == "accepted" && pending {
			t.Errorf("accepted member %s still pending in the group", id)
		}
	}
	if n, _ := tg.SyncSetup(context.Background()); n != 0 {
		t.Fatalf("a second read-back completed %d again", n)
	}
	// The target's report lists who still awaits master-key creation.
	if p := plan(t, tg); len(p.PendingSetup) != 3 || slices.Contains(p.PendingSetup, "u001@example.org") {
		t.Fatalf("pending in the report: %v, want the 3 who did not accept", p.PendingSetup)
	}
}

func byID(f *kmsfake.Server, id string) kmsfake.Membership {
	for _, u := range f.Users() {
		if u.ID == id {
			return u
		}
	}
	return kmsfake.Membership{}
}

func TestDeprovisionSuspendsAndReactivates(t *testing.T) {
	st := newStore(t)
	h := newHR(t, st, 10, 2)
	f := newFake(t, kmsfake.Options{})
	tg := openTarget(t, st, f, nil)
	run(t, tg)
	h.disable(4)
	rep := run(t, tg)
	if rep.Applied.Counts[orgsync.ActionDeprovision] != 1 {
		t.Fatalf("applied %v, want one deprovision", rep.Applied.Counts)
	}
	if u := byName(f)["u004@example.org"]; u.Active {
		t.Fatal("disabled user still active in the KMS")
	}
	if len(f.Users()) != 10 {
		t.Fatal("a suspend must not delete")
	}
	h.src.snap.Members[4].Status = orgsync.StatusActive
	h.sync()
	run(t, tg)
	if u := byName(f)["u004@example.org"]; !u.Active {
		t.Fatal("reactivated user still suspended in the KMS")
	}
}

func TestGuardBlocksAMassSuspendAndSendsNothing(t *testing.T) {
	st := newStore(t)
	h := newHR(t, st, 20, 2)
	f := newFake(t, kmsfake.Options{})
	tg := openTarget(t, st, f, nil)
	run(t, tg)
	for i := range 6 { // 30 %
		h.src.snap.Members[i].Status = orgsync.StatusDeprovisioned
	}
	h.sync()
	f.ResetCounts()
	_, err := tg.Run(context.Background(), base, tg.Guard, false)
	if !errors.Is(err, orgsync.ErrGuard) {
		t.Fatalf("run: %v, want a guard block", err)
	}
	if c := f.Counts(); c["PATCH"]+c["PUT"]+c["DELETE"] != 0 {
		t.Fatalf("a blocked run wrote: %v", c)
	}
	for _, u := range f.Users() {
		if !u.Active {
			t.Fatalf("%s suspended by a blocked run", u.UserName)
		}
	}
}

func TestEmptyTargetReadIsRefused(t *testing.T) {
	st := newStore(t)
	newHR(t, st, 3, 1)
	f := newFake(t, kmsfake.Options{})
	tg := openTarget(t, st, f, nil)
	run(t, tg)
	other := newFake(t, kmsfake.Options{}) // a token of another, empty org
	tg.Client = openTarget(t, st, other, nil).Client
	rep, err := tg.Run(context.Background(), base, tg.Guard, false)
	if !errors.Is(err, orgsync.ErrGuard) || len(other.Users()) != 0 || !rep.Guard.Blocked || !rep.Guard.Empty {
		t.Fatalf("run against an empty org: %v, %+v, %d users created; want a guard block and none", err, rep.Guard, len(other.Users()))
	}
	runs, _ := st.Runs(context.Background(), store.RunFilter{Source: "kms", Limit: 1})
	if len(runs) != 1 || runs[0].Result != orgsync.RunBlocked || !runs[0].Guard.Blocked {
		t.Fatalf("recorded %+v, want a blocked run", runs)
	}
}

func TestLostLinksAreRebuiltByName(t *testing.T) {
	st := newStore(t)
	newHR(t, st, 8, 2)
	f := newFake(t, kmsfake.Options{})
	tg := openTarget(t, st, f, nil)
	run(t, tg)
	if err := st.DB().Exec(`DELETE FROM target_links`).Error; err != nil {
		t.Fatal(err)
	}
	if p := plan(t, tg); !p.Plan.Empty() {
		t.Fatalf("plan after losing the links: %+v", p.Plan.Changes)
	}
	run(t, tg)
	links, _ := st.TargetLinks(context.Background(), "kms")
	if len(links) != 10 || len(f.Users()) != 8 || len(f.Groups()) != 2 {
		t.Fatalf("%d links, %d users, %d groups; want 10, 8, 2", len(links), len(f.Users()), len(f.Groups()))
	}
}

func TestFailureMidApplyConvergesWithoutDuplicates(t *testing.T) {
	st := newStore(t)
	newHR(t, st, 30, 3)
	f := newFake(t, kmsfake.Options{})
	var posts atomic.Int64
	f.Fail = func(r *http.Request) int {
		if r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/Users") && posts.Add(1) > 12 {
			return http.StatusInternalServerError
		}
		return 0
	}
	tg := openTarget(t, st, f, func(c *Config) { c.Concurrency = 1 })
	_, err := tg.Run(context.Background(), base, tg.Guard, false)
	if err == nil || errors.Is(err, orgsync.ErrGuard) {
		t.Fatalf("run with a failing KMS: %v, want a failure", err)
	}
	runs, _ := st.Runs(context.Background(), store.RunFilter{Source: "kms"})
	if len(runs) != 1 || runs[0].Result != orgsync.RunFailed || runs[0].Applied == nil {
		t.Fatalf("recorded %+v, want one failed run with what it applied", runs)
	}
	f.Fail = nil
	run(t, tg)
	if n := len(f.Users()); n != 30 {
		t.Fatalf("%d users after converging, want 30", n)
	}
	if p := plan(t, tg); !p.Plan.Empty() {
		t.Fatalf("not converged: %+v", p.Plan.Changes)
	}
}

func TestRateLimitedKMSIsRetried(t *testing.T) {
	st := newStore(t)
	newHR(t, st, 12, 2)
	f := newFake(t, kmsfake.Options{RateLimit: 10})
	tg := openTarget(t, st, f, nil)
	run(t, tg)
	if len(f.Users()) != 12 {
		t.Fatalf("%d users, want 12", len(f.Users()))
	}
	if p := plan(t, tg); !p.Plan.Empty() {
		t.Fatalf("not converged: %+v", p.Plan.Changes)
	}
}

func TestGroupPatchesAreOnePerGroup(t *testing.T) {
	st := newStore(t)
	h := newHR(t, st, 40, 1)
	f := newFake(t, kmsfake.Options{PatchDelay: 20 * 1e6})
	tg := openTarget(t, st, f, nil)
	run(t, tg)
	if got := len(f.Groups()[0].Members); got != 40 {
		t.Fatalf("group has %d members, want 40 (lost concurrent updates?)", got)
	}
	_ = h
}

func TestPurgeDeletesOnlyWhenAllowed(t *testing.T) {
	for _, allow := range []bool{false, true} {
		st := newStore(t)
		h := newHR(t, st, 5, 1)
		f := newFake(t, kmsfake.Options{})
		tg := openTarget(t, st, f, func(c *Config) { c.AllowPurge, c.Guard.MaxDeprovisionPercent = allow, -1 })
		run(t, tg)
		h.disable(2)
		// purge u002 from orgsync
		m, _ := st.Member(context.Background(), org, "u002@example.org")
		if err := st.DB().Exec(`DELETE FROM members WHERE id = ?`, m.ID).Error; err != nil {
			t.Fatal(err)
		}
		rep := run(t, tg)
		_, present := byName(f)["u002@example.org"]
		if present == allow {
			t.Fatalf("allow_purge %v: user present in the KMS = %v (%v)", allow, present, rep.Applied.Counts)
		}
	}
}

func TestTokensNeverLeak(t *testing.T) {
	c := Config{Name: "kms", Org: org, Type: TypeKMS, URL: "http://kms", Token: "scim-secret-xyz", SetupStatus: &SetupConfig{ClientID: "id", ClientSecret: "client-secret-xyz"}}
	for _, s := range []string{fmtV(c), fmtV(*c.SetupStatus)} {
		if strings.Contains(s, "secret-xyz") {
			t.Fatalf("secret printed: %s", s)
		}
	}
}

func TestSuspendedMembersKeepTheirProfile(t *testing.T) {
	st := newStore(t)
	h := newHR(t, st, 4, 1)
	f := newFake(t, kmsfake.Options{})
	tg := openTarget(t, st, f, func(c *Config) { c.Guard.MaxDeprovisionPercent = -1 })
	run(t, tg)
	h.src.snap.Members[1].Status = orgsync.StatusDeprovisioned
	h.src.snap.Members[1].GivenName = "Changed"
	h.sync()
	rep := run(t, tg)
	if c := rep.Applied.Counts; c[orgsync.ActionDeprovision] != 1 || c[orgsync.ActionUpdate] != 0 {
		t.Fatalf("applied %v, want one suspension and no update", c)
	}
	if u := byName(f)["u001@example.org"]; u.Active || u.GivenName != "Given1" {
		t.Fatalf("suspended member in the KMS: %+v", u)
	}
	if p := plan(t, tg); !p.Plan.Empty() {
		t.Fatalf("plan after suspending: %+v", p.Plan.Changes)
	}
}

func TestKMSDownFailsTheRunAndTheNextConverges(t *testing.T) {
	st := newStore(t)
	newHR(t, st, 6, 1)
	f := newFake(t, kmsfake.Options{})
	tg := openTarget(t, st, f, func(c *Config) { c.URL = "http://127.0.0.1:1"; c.SetupStatus = nil })
	if _, err := tg.Run(context.Background(), base, tg.Guard, false); err == nil {
		t.Fatal("a run against a KMS that is down succeeded")
	}
	runs, _ := st.Runs(context.Background(), store.RunFilter{Source: "kms"})
	if len(runs) != 1 || runs[0].Result != orgsync.RunFailed || !strings.Contains(runs[0].Error, "read users") {
		t.Fatalf("recorded %+v, want one failed run naming the read", runs)
	}
	tg = openTarget(t, st, f, nil)
	run(t, tg)
	if len(f.Users()) != 6 {
		t.Fatalf("%d users after the KMS came back, want 6", len(f.Users()))
	}
}

func TestDuplicateInTheTargetIsLeftAlone(t *testing.T) {
	st := newStore(t)
	newHR(t, st, 3, 1)
	f := newFake(t, kmsfake.Options{})
	tg := openTarget(t, st, f, nil)
	run(t, tg)
	dup := f.AddUnmanaged("u001@example.org") // a second membership of one name
	if p := plan(t, tg); !p.Plan.Empty() {
		t.Fatalf("plan with a duplicate in the KMS: %+v", p.Plan.Changes)
	}
	// Even when the linked one is suspended: only it is.
	m, _ := st.Member(context.Background(), org, "u001@example.org")
	if _, err := st.Apply(context.Background(), orgsync.Plan{Org: org, Owner: "hr", Changes: []orgsync.Change{{Action: orgsync.ActionDeprovision, MemberID: m.ID, UserName: m.UserName}}}); err != nil {
		t.Fatal(err)
	}
	tg.Guard.MaxDeprovisionPercent = -1
	run(t, tg)
	if u := byID(f, dup); !u.Active || u.UserName != "u001@example.org" {
		t.Fatalf("the duplicate was touched: %+v", u)
	}
}

func TestCreatedButNotAcknowledgedIsLinkedNotDuplicated(t *testing.T) {
	st := newStore(t)
	newHR(t, st, 9, 1)
	f := newFake(t, kmsfake.Options{})
	var posts atomic.Int64
	// Every third create is done by the KMS but answered 500; and on the
	// first create, two users appear that the run's read did not see.
	f.FailAfter = func(r *http.Request) int {
		if r.Method != "POST" || !strings.HasSuffix(r.URL.Path, "/Users") {
			return 0
		}
		if posts.Add(1) == 1 {
			f.AddUnmanaged("u007@example.org")
			f.AddUnmanaged("u008@example.org")
		}
		if posts.Load()%3 == 0 {
			return http.StatusInternalServerError
		}
		return 0
	}
	tg := openTarget(t, st, f, func(c *Config) { c.Concurrency = 1 })
	if _, err := tg.Run(context.Background(), base, tg.Guard, false); err == nil {
		t.Fatal("a run told of a failed create succeeded")
	}
	f.FailAfter = nil
	run(t, tg)
	names := map[string]int{}
	for _, u := range f.Users() {
		names[u.UserName]++
	}
	if len(names) != 9 || len(f.Users()) != 9 {
		t.Fatalf("KMS users %v, want 9 distinct", names)
	}
	links, _ := st.TargetLinks(context.Background(), "kms")
	if len(links) != 10 { // 9 members, 1 group
		t.Fatalf("%d links, want 10", len(links))
	}
	if p := plan(t, tg); !p.Plan.Empty() {
		t.Fatalf("not converged: %+v", p.Plan.Changes)
	}
}

func TestCreateOfAnExistingUserTakesItOver(t *testing.T) {
	st := newStore(t)
	newHR(t, st, 9, 1)
	f := newFake(t, kmsfake.Options{})
	var once atomic.Bool
	// On the first create, two users appear that the run's read did not see.
	f.Fail = func(r *http.Request) int {
		if r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/Users") && once.CompareAndSwap(false, true) {
			f.AddUnmanaged("u007@example.org")
			f.AddUnmanaged("u008@example.org")
		}
		return 0
	}
	tg := openTarget(t, st, f, func(c *Config) { c.Concurrency = 1 })
	rep := run(t, tg)
	if f.Conflicts() != 2 || len(f.Users()) != 9 || rep.Applied.Counts[orgsync.ActionProvision] != 9 {
		t.Fatalf("%d conflicting creates, %d users, applied %v; want 2, 9, 9 provisions", f.Conflicts(), len(f.Users()), rep.Applied.Counts)
	}
	if u := byName(f)["u007@example.org"]; u.GivenName != "Given7" {
		t.Fatalf("the existing user was not set as planned: %+v", u)
	}
	if p := plan(t, tg); !p.Plan.Empty() {
		t.Fatalf("not converged: %+v", p.Plan.Changes)
	}
}

func TestMemberWithoutEmailIsHeldForTheKMS(t *testing.T) {
	st := newStore(t)
	h := newHR(t, st, 3, 1)
	h.src.snap.Members[1].Emails = nil
	h.sync()
	f := newFake(t, kmsfake.Options{})
	tg := openTarget(t, st, f, nil)
	rep := run(t, tg)
	if len(f.Users()) != 2 || len(rep.Plan.Conflicts) != 1 || !strings.Contains(rep.Plan.Conflicts[0].Reason, "no email") {
		t.Fatalf("%d KMS users, conflicts %+v; want 2 and the member without email held", len(f.Users()), rep.Plan.Conflicts)
	}
}
