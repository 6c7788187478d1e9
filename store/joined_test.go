package store

import (
	"context"
	"reflect"
	"sort"
	"testing"

	"github.com/orgsync/orgsync"
)

func TestSplitJoined(t *testing.T) {
	for _, tc := range []struct {
		row  string
		n    int
		want []string
	}{
		{"a\x00b\x00c", 3, []string{"a", "b", "c"}},
		{"\x00\x00", 3, []string{"", "", ""}},
		{"only", 1, []string{"only"}},
		{"a\x00b", 3, nil},           // too few fields
		{"a\x00b\x00c\x00d", 3, nil}, // a value holding a NUL
	} {
		f := make([]string, tc.n)
		ok := splitJoined(tc.row, f)
		if ok != (tc.want != nil) || (ok && !reflect.DeepEqual(f, tc.want)) {
			t.Errorf("splitJoined(%q, %d) = %q, %v; want %q", tc.row, tc.n, f, ok, tc.want)
		}
	}
}

// variedOrg is an org whose members take every shape a snapshot reads:
// several emails (one stored out of order), none, unicode, a completed
// setup, a deprovisioned member, groups with and without members.
func variedOrg(t *testing.T) (*Store, []string) {
	t.Helper()
	ctx := context.Background()
	s, _ := openSQLite(t)
	members := []*orgsync.Member{
		{UserName: "ana@example.org", ExternalID: "k1", GivenName: "Ana", FamilyName: "Núñez", DisplayName: "Ana Núñez 🌵",
			Emails: []orgsync.Email{{Value: "ana@example.org", Type: "work", Primary: true}, {Value: "a@home.example", Type: "home"}}},
		{UserName: "bo@example.org", ExternalID: "k2", Role: orgsync.RoleAdmin},
		{UserName: "cy@example.org", ExternalID: "k3", GivenName: "", FamilyName: "Ø", Emails: []orgsync.Email{{Value: "cy@example.org"}}},
	}
	p := orgsync.Plan{Org: "acme", Owner: "ldap"}
	for _, m := range members {
		p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionProvision, UserName: m.UserName, MemberKey: m.ExternalID, Member: m})
	}
	for _, g := range []string{"eng", "empty"} {
		p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionGroupCreate, GroupName: g, GroupKey: g, Group: &orgsync.Group{DisplayName: g}})
	}
	p.Changes = append(p.Changes,
		orgsync.Change{Action: orgsync.ActionMemberAdd, GroupKey: "eng", MemberKey: "k1"},
		orgsync.Change{Action: orgsync.ActionMemberAdd, GroupKey: "eng", MemberKey: "k3"})
	if _, err := s.Apply(ctx, p); err != nil {
		t.Fatal(err)
	}
	snap, err := s.Observed(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, m := range snap.Members {
		ids[m.UserName] = m.ID
	}
	if _, err := s.CompleteSetup(ctx, "acme", ids["ana@example.org"], "kms"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(ctx, orgsync.Plan{Org: "acme", Owner: "ldap", Changes: []orgsync.Change{
		{Action: orgsync.ActionDeprovision, MemberID: ids["bo@example.org"], UserName: "bo@example.org"}}}); err != nil {
		t.Fatal(err)
	}
	// Swap the stored positions of ana's emails: reads follow positions.
	for _, q := range []string{`UPDATE member_emails SET pos = pos + 2 WHERE member_id = ?`, `UPDATE member_emails SET pos = 3 - pos WHERE member_id = ?`} {
		if err := s.db.Exec(q, ids["ana@example.org"]).Error; err != nil {
			t.Fatal(err)
		}
	}
	return s, []string{ids["ana@example.org"], ids["bo@example.org"], ids["cy@example.org"]}
}

// columnwiseSnapshot reads the org the way the joined read falls back to.
func columnwiseSnapshot(t *testing.T, s *Store) orgsync.Snapshot {
	t.Helper()
	ctx := context.Background()
	rows, err := s.db.Raw(`SELECT `+observedCols+` FROM members WHERE org_id = ?`, "acme").Rows()
	if err != nil {
		t.Fatal(err)
	}
	ms, err := scanObserved(rows, "acme", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.attachOrgEmails(s.pool(ctx), "acme", ms); err != nil {
		t.Fatal(err)
	}
	gs, err := s.groups(s.pool(ctx), "acme", "", true)
	if err != nil {
		t.Fatal(err)
	}
	return normal(orgsync.Snapshot{Members: ms, Groups: gs})
}

func normal(s orgsync.Snapshot) orgsync.Snapshot {
	sort.Slice(s.Members, func(i, j int) bool { return s.Members[i].ID < s.Members[j].ID })
	for i := range s.Groups {
		sort.Strings(s.Groups[i].Members)
	}
	return s
}

// observedAsColumnwise is Observed, normalised, after checking that it
// equals the column-by-column read.
func observedAsColumnwise(t *testing.T, s *Store) orgsync.Snapshot {
	t.Helper()
	snap, err := s.Observed(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	got, want := normal(snap), columnwiseSnapshot(t, s)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Observed differs from the column-by-column read:\n got %+v\nwant %+v", got, want)
	}
	return got
}

func TestJoinedReadEqualsColumnwise(t *testing.T) {
	s, ids := variedOrg(t)
	got := observedAsColumnwise(t, s)
	// And the shapes the fixture set up were really read.
	byID := map[string]orgsync.Member{}
	for _, m := range got.Members {
		byID[m.ID] = m
	}
	ana, bo := byID[ids[0]], byID[ids[1]]
	if ana.SetupCompletedAt == nil || ana.Status != orgsync.StatusActive || len(ana.Emails) != 2 ||
		ana.Emails[1].Value != "ana@example.org" || !ana.Emails[1].Primary || ana.Emails[0].Type != "home" || ana.DisplayName != "Ana Núñez 🌵" {
		t.Errorf("ana = %+v", ana)
	}
	if bo.DeprovisionedAt == nil || bo.Status != orgsync.StatusDeprovisioned || bo.Role != orgsync.RoleAdmin || len(bo.Emails) != 0 || bo.Version != 2 {
		t.Errorf("bo = %+v", bo)
	}
	if len(got.Groups) != 2 || len(got.Groups[0].Members)+len(got.Groups[1].Members) != 2 {
		t.Errorf("groups = %+v", got.Groups)
	}
}

// A stored value holding a NUL cannot be split; the read falls back to
// reading column by column and still returns it whole.
func TestJoinedReadFallsBackOnNUL(t *testing.T) {
	s, ids := variedOrg(t)
	for _, q := range []string{
		`UPDATE members SET family_name = 'N' || char(0) || 'UL' WHERE id = ?`,
		`UPDATE member_emails SET type = 'wo' || char(0) || 'rk' WHERE member_id = ?`,
	} {
		if err := s.db.Exec(q, ids[2]).Error; err != nil {
			t.Fatal(err)
		}
	}
	got := observedAsColumnwise(t, s)
	for _, m := range got.Members {
		if m.ID == ids[2] && (m.FamilyName != "N\x00UL" || len(m.Emails) != 1 || m.Emails[0].Type != "wo\x00rk") {
			t.Fatalf("member with NULs read as %+v", m)
		}
	}
}
