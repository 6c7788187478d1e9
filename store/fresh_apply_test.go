package store_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// TestFirstApplyIntoEmptyOrg: a plan applied to an org without members or
// groups (where the store answers its lookups from what the apply wrote)
// does exactly what it does in an org that holds something already: a
// user or group name taken earlier in the same plan, even batches apart,
// is skipped; memberships of the groups it created are added; keys given
// twice provision once.
func TestFirstApplyIntoEmptyOrg(t *testing.T) {
	const n = 2*store.ApplyBatch + 500 // more than two batches of the apply
	plan := orgsync.Plan{Org: "acme", Owner: "corp"}
	for _, g := range []string{"Admins", "Staff", "ADMINS"} { // the third's name is the first's
		plan.Changes = append(plan.Changes, orgsync.Change{Action: orgsync.ActionGroupCreate, GroupName: g, GroupKey: "g-" + g,
			Group: &orgsync.Group{DisplayName: g}})
	}
	for i := range n {
		key, name := fmt.Sprintf("k%05d", i), fmt.Sprintf("user%05d@example.org", i)
		switch i {
		case n - 1: // the first user's name, in another case, batches later
			name = "USER00000@example.org"
		case n - 2: // the second user's key again
			key = "k00001"
		}
		plan.Changes = append(plan.Changes, orgsync.Change{Action: orgsync.ActionProvision, UserName: name, MemberKey: key,
			Member: &orgsync.Member{UserName: name, ExternalID: key, Emails: []orgsync.Email{{Value: name, Primary: true}}}})
	}
	for i := range n {
		g := []string{"g-Admins", "g-Staff", "g-ADMINS", "g-missing"}[i%4]
		plan.Changes = append(plan.Changes, orgsync.Change{Action: orgsync.ActionMemberAdd, GroupKey: g, MemberKey: fmt.Sprintf("k%05d", i)})
	}
	type outcome struct {
		Counts                    map[orgsync.Action]int
		Skipped                   []string
		Members, Groups, Members2 []string
	}
	apply := func(t *testing.T, s *store.Store, populated bool) outcome {
		if populated {
			provision(t, s, "acme", "other", "someone.else@example.org")
		}
		applied, err := s.Apply(ctx, plan)
		if err != nil {
			t.Fatal(err)
		}
		var o outcome
		o.Counts, o.Skipped = applied.Counts, slices.Sorted(slices.Values(applied.Skipped))
		db := s.DBForTest()
		for q, into := range map[string]*[]string{
			`SELECT user_name FROM members WHERE org_id = 'acme' AND owner = 'corp' ORDER BY user_name`:          &o.Members,
			`SELECT display_name FROM org_groups WHERE org_id = 'acme' AND owner = 'corp' ORDER BY display_name`: &o.Groups,
			`SELECT g.display_name || ' ' || m.user_name FROM group_members gm JOIN org_groups g ON g.id = gm.group_id
				JOIN members m ON m.id = gm.member_id WHERE gm.org_id = 'acme' AND g.owner = 'corp' ORDER BY 1`: &o.Members2,
		} {
			if err := db.Raw(q).Scan(into).Error; err != nil {
				t.Fatal(err)
			}
		}
		return o
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			got := apply(t, openSCIM(t, b), false)
			want := apply(t, openSCIM(t, b), true)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("into an empty org: %d members, %d groups, %d memberships, counts %v, skipped %v\nwith a member there: %d, %d, %d, %v, %v",
					len(got.Members), len(got.Groups), len(got.Members2), got.Counts, got.Skipped,
					len(want.Members), len(want.Groups), len(want.Members2), want.Counts, want.Skipped)
			}
			if len(got.Members) != n-2 || len(got.Groups) != 2 || got.Counts[orgsync.ActionProvision] != n-2 ||
				len(got.Skipped) != 1+1+n/4*2 || len(got.Members2) != n/2 {
				t.Fatalf("%d members, %d groups, counts %v, %d skipped: %v", len(got.Members), len(got.Groups), got.Counts, len(got.Skipped), got.Skipped[:min(5, len(got.Skipped))])
			}
		})
	}
}

// TestApplyFailedCopyWritesNothing: on PostgreSQL the bulk inserts run
// behind the applier; one the server refuses (text that is not UTF-8)
// fails the apply, nothing of it stays, and the next apply goes through.
func TestApplyFailedCopyWritesNothing(t *testing.T) {
	s := openSCIM(t, backends[1])
	plan := func(bad bool) orgsync.Plan {
		p := orgsync.Plan{Org: "acme", Owner: "corp"}
		for i := range 3 * store.ApplyBatch / 2 {
			name := fmt.Sprintf("user%05d@example.org", i)
			m := &orgsync.Member{UserName: name, ExternalID: name, GivenName: "Given"}
			if bad && i == store.ApplyBatch+7 { // in the second batch
				m.GivenName = "G\xffiven"
			}
			p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionProvision, UserName: name, MemberKey: name, Member: m})
		}
		return p
	}
	count := func() (n int64) {
		if err := s.DBForTest().Raw(`SELECT COUNT(*) FROM members WHERE org_id = 'acme'`).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	if _, err := s.Apply(ctx, plan(true)); err == nil || !strings.Contains(err.Error(), "insert into members") {
		t.Fatalf("an apply whose COPY the server refuses: err %v, want the COPY's", err)
	}
	if n := count(); n != 0 {
		t.Fatalf("a failed apply left %d members", n)
	}
	applied, err := s.Apply(ctx, plan(false))
	if err != nil || applied.Counts[orgsync.ActionProvision] != 3*store.ApplyBatch/2 || count() != int64(3*store.ApplyBatch/2) {
		t.Fatalf("the next apply: %v, %v", applied.Counts, err)
	}
}
