package reconciler

import (
	"fmt"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
)

// A re-created entry (new key, same name) is moved onto its member only by
// the opt-in rule, and only when its old key is gone from the read, the
// member is the source's own and every named attribute matches; otherwise
// it stays a conflict that says why.
func TestDiffRecreatedEntries(t *testing.T) {
	eli := displayName("Eli Tester")
	on := func(match ...string) RecreatedEntries { return RecreatedEntries{Rekey: true, Match: match} }
	oldEli := func(status orgsync.Status, mods ...func(*orgsync.Member)) orgsync.Member {
		return member("m1", src, "old", "eli@x", status, append([]func(*orgsync.Member){eli}, mods...)...)
	}
	tests := []struct {
		name     string
		desired  orgsync.Snapshot
		observed orgsync.Snapshot
		rule     RecreatedEntries
		want     []string
	}{
		{
			name:     "off by default: a conflict",
			desired:  orgsync.Snapshot{Members: []orgsync.Member{desiredUser("new", "eli@x", eli)}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{oldEli(deprov)}},
			want:     []string{`conflict new eli@x: user name "eli@x" belongs to a member owned by "corp"`},
		},
		{
			name:     "deprovisioned by the deletion: rekeyed and reactivated, memberships kept",
			desired:  orgsync.Snapshot{Members: []orgsync.Member{desiredUser("new", "eli@x", eli)}, Groups: []orgsync.Group{group("g1", "eng", []string{"new"})}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{oldEli(deprov, setupDone)}, Groups: []orgsync.Group{ownedGroup("G1", src, "g1", "eng", "m1")}},
			rule:     on("email", "display_name"),
			want: []string{
				"rekey eli@x id=m1 key=new fields=external_id:old>new",
				"reactivate eli@x id=m1 role=member status=active",
			},
		},
		{
			name:     "still active (deleted and re-added between two runs)",
			desired:  orgsync.Snapshot{Members: []orgsync.Member{desiredUser("new", "eli@x", eli)}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{oldEli(active)}},
			rule:     on("display_name"),
			want:     []string{"rekey eli@x id=m1 key=new fields=external_id:old>new"},
		},
		{
			name:     "never by the name alone: the email is the user name",
			desired:  orgsync.Snapshot{Members: []orgsync.Member{desiredUser("new", "eli@x", eli)}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{oldEli(deprov)}},
			rule:     on("email"),
			want:     []string{`conflict new eli@x: user name "eli@x" belongs to a member owned by "corp"; not re-keyed (recreated_entries): only the user name matches (recreated_entries.match names nothing else)`},
		},
		{
			name:     "an attribute differs",
			desired:  orgsync.Snapshot{Members: []orgsync.Member{desiredUser("new", "eli@x", displayName("Eli Other"))}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{oldEli(deprov)}},
			rule:     on("email", "display_name"),
			want:     []string{`conflict new eli@x: user name "eli@x" belongs to a member owned by "corp"; not re-keyed (recreated_entries): display_name differs`},
		},
		{
			name:     "an empty attribute is no evidence",
			desired:  orgsync.Snapshot{Members: []orgsync.Member{desiredUser("new", "eli@x", displayName(""))}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{member("m1", src, "old", "eli@x", deprov, displayName(""))}},
			rule:     on("display_name"),
			want:     []string{`conflict new eli@x: user name "eli@x" belongs to a member owned by "corp"; not re-keyed (recreated_entries): display_name is empty`},
		},
		{
			name: "the old key is still listed (renamed away)",
			desired: orgsync.Snapshot{Members: []orgsync.Member{
				desiredUser("new", "eli@x", eli), desiredUser("old", "eli.old@x", eli),
			}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{oldEli(active)}},
			rule:     on("display_name"),
			want: []string{
				"update eli.old@x id=m1 fields=email:eli@x>eli.old@x,user_name:eli@x>eli.old@x",
				`conflict new eli@x: user name "eli@x" belongs to a member owned by "corp"; not re-keyed (recreated_entries): the member's own entry is still in the source`,
			},
		},
		{
			name: "the source holds an entry with the old key",
			desired: orgsync.Snapshot{Members: []orgsync.Member{desiredUser("new", "eli@x", eli)},
				HeldUsers: []orgsync.HeldEntry{{Key: "old", Ref: `user "uid=x"`, Reason: "no mail"}}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{oldEli(active)}},
			rule:     on("display_name"),
			want: []string{
				`conflict new eli@x: user name "eli@x" belongs to a member owned by "corp"; not re-keyed (recreated_entries): the source holds an entry with the member's key`,
				`conflict old : held by the source: user "uid=x": no mail`,
			},
		},
		{
			name:     "a member of another owner is never taken",
			desired:  orgsync.Snapshot{Members: []orgsync.Member{desiredUser("new", "eli@x", eli)}},
			observed: orgsync.Snapshot{Members: []orgsync.Member{member("m1", "other", "old", "eli@x", deprov, eli)}},
			rule:     on("display_name"),
			want:     []string{`conflict new eli@x: user name "eli@x" belongs to a member owned by "other"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := deepCopy(t, tt.desired, tt.observed)
			p := Diff(tt.desired, tt.observed, Options{Org: "acme", Owner: src, Recreated: tt.rule})
			if got := planLines(p); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("plan:\n got %q\nwant %q", got, tt.want)
			}
			if deepCopy(t, tt.desired, tt.observed) != before {
				t.Error("Diff modified its inputs")
			}
			if fmt.Sprint(planLines(Diff(tt.desired, tt.observed, Options{Org: "acme", Owner: src, Recreated: tt.rule}))) != fmt.Sprint(planLines(p)) {
				t.Error("Diff is not deterministic")
			}
		})
	}
}

func TestRecreatedEntriesValidate(t *testing.T) {
	for _, tt := range []struct {
		rule RecreatedEntries
		want []string // substrings; none: valid
	}{
		{RecreatedEntries{}, nil},
		{RecreatedEntries{Rekey: true, Match: []string{"email", "display_name"}}, nil},
		{RecreatedEntries{Match: []string{"given_name"}}, nil},
		{RecreatedEntries{Rekey: true}, []string{"recreated_entries.match: empty with rekey: true"}},
		{RecreatedEntries{Rekey: true, Match: []string{"employee_number", "email", "email"}},
			[]string{`"employee_number" is not one of`, `"email" named twice`}},
	} {
		err := tt.rule.Validate()
		if (err != nil) != (len(tt.want) > 0) {
			t.Errorf("%+v: err = %v", tt.rule, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: err %q lacks %q", tt.rule, err, w)
			}
		}
	}
}
