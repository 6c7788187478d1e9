package reconciler

import (
	"regexp"
	"slices"
	"testing"

	"github.com/orgsync/orgsync"
)

func digestFixture() (desired, observed orgsync.Snapshot) {
	desired = orgsync.Snapshot{
		Members: []orgsync.Member{desiredUser("k1", "ann@x"), desiredUser("k2", "bob@x"), desiredUser("k3", "cy@x", disabled)},
		Groups:  []orgsync.Group{group("g1", "eng", []string{"k1", "k2"}), group("g2", "ops", []string{"k2"})},
		HeldUsers: []orgsync.HeldEntry{
			{Key: "k9", Name: "held@x", Ref: `user "uid=held"`, Reason: "no mail"},
			{Key: "k8", Name: "other@x", Ref: `user "uid=other"`, Reason: "no mail"},
		},
	}
	observed = orgsync.Snapshot{
		Members: []orgsync.Member{
			member("m1", src, "k1", "ann@x", orgsync.StatusActive),
			member("m2", src, "k2", "bob@x", orgsync.StatusPendingSetup),
			member("m3", orgsync.OwnerSCIM, "e3", "dee@x", orgsync.StatusActive),
		},
		Groups: []orgsync.Group{ownedGroup("G1", src, "g1", "eng", "m1", "m2")},
	}
	return desired, observed
}

var digestForm = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// The digests do not depend on the order entries are listed in, and change
// with anything a plan is computed from.
func TestDigests(t *testing.T) {
	desired, observed := digestFixture()
	before := deepCopy(t, desired, observed)
	base := Digests(desired, observed, Diff(desired, observed, Options{Org: "acme", Owner: src}))
	for _, v := range []string{base.Source, base.Store, base.Plan} {
		if !digestForm.MatchString(v) {
			t.Fatalf("digest %q is not sha256:HEX", v)
		}
	}
	if deepCopy(t, desired, observed) != before {
		t.Fatal("Digests modified its inputs")
	}
	if again := Digests(desired, observed, Diff(desired, observed, Options{Org: "acme", Owner: src})); again != base {
		t.Fatalf("digests of the same inputs differ: %+v, %+v", again, base)
	}

	t.Run("order does not matter", func(t *testing.T) {
		d, o := digestFixture()
		slices.Reverse(d.Members)
		slices.Reverse(d.Groups)
		slices.Reverse(d.HeldUsers)
		slices.Reverse(d.Groups[1].Members)
		slices.Reverse(o.Members)
		slices.Reverse(o.Groups[0].Members)
		if got := SourceDigest(d); got != base.Source {
			t.Errorf("source digest changed with the order of entries")
		}
		if got := StoreDigest(o); got != base.Store {
			t.Errorf("store digest changed with the order of entries")
		}
	})

	sourceChanges := map[string]func(*orgsync.Snapshot){
		"a new display name":    func(s *orgsync.Snapshot) { s.Members[0].DisplayName = "Ann" },
		"another email":         func(s *orgsync.Snapshot) { s.Members[1].Emails[0].Value = "robert@x" },
		"a user disabled":       func(s *orgsync.Snapshot) { s.Members[0].Status = orgsync.StatusDeprovisioned },
		"a user gone":           func(s *orgsync.Snapshot) { s.Members = s.Members[1:] },
		"a membership gone":     func(s *orgsync.Snapshot) { s.Groups[0].Members = s.Groups[0].Members[:1] },
		"a subgroup":            func(s *orgsync.Snapshot) { s.Groups[0].Subgroups = []string{"g2"} },
		"a held entry's reason": func(s *orgsync.Snapshot) { s.HeldUsers[0].Reason = "no uid" },
		"another DN":            func(s *orgsync.Snapshot) { s.Members[0].DN = "uid=ann,ou=new" },
		"a role":                func(s *orgsync.Snapshot) { s.Members[0].Role = orgsync.RoleAdmin },
		// Moving a field's content to its neighbour must not collide.
		"given and family name shifted": func(s *orgsync.Snapshot) { s.Members[0].GivenName, s.Members[0].FamilyName = "", "x" },
	}
	for name, change := range sourceChanges {
		t.Run("source: "+name, func(t *testing.T) {
			d, _ := digestFixture()
			change(&d)
			if SourceDigest(d) == base.Source {
				t.Error("source digest unchanged")
			}
		})
	}
	storeChanges := map[string]func(*orgsync.Snapshot){
		"a member's version":        func(s *orgsync.Snapshot) { s.Members[0].Version++ },
		"a member of another owner": func(s *orgsync.Snapshot) { s.Members[2].Version++ },
		"a member gone":             func(s *orgsync.Snapshot) { s.Members = s.Members[:2] },
		"a group's version":         func(s *orgsync.Snapshot) { s.Groups[0].Version++ },
		"a membership":              func(s *orgsync.Snapshot) { s.Groups[0].Members = []string{"m1"} },
		"an owner":                  func(s *orgsync.Snapshot) { s.Members[1].Owner = "other" },
	}
	for name, change := range storeChanges {
		t.Run("store: "+name, func(t *testing.T) {
			_, o := digestFixture()
			change(&o)
			if StoreDigest(o) == base.Store {
				t.Error("store digest unchanged")
			}
		})
	}
	t.Run("plan: another default role", func(t *testing.T) {
		p := Diff(desired, observed, Options{Org: "acme", Owner: src, DefaultRole: "viewer"})
		if PlanDigest(p) == base.Plan {
			t.Error("plan digest unchanged with another default role")
		}
	})
}

func TestDigestStale(t *testing.T) {
	d := orgsync.Digest{Source: "sha256:a", Store: "sha256:b", Plan: "sha256:c"}
	tests := []struct {
		name string
		now  orgsync.Digest
		want string // "" : current
	}{
		{"same", d, ""},
		{"source", orgsync.Digest{Source: "sha256:x", Store: d.Store, Plan: d.Plan}, "the source changed"},
		{"store", orgsync.Digest{Source: d.Source, Store: "sha256:x", Plan: d.Plan}, "changed in the store"},
		{"both", orgsync.Digest{Source: "sha256:x", Store: "sha256:y", Plan: d.Plan}, "both the source and the org"},
		{"plan", orgsync.Digest{Source: d.Source, Store: d.Store, Plan: "sha256:x"}, "now give another plan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := d.Stale(tt.now)
			if (got == "") != (tt.want == "") || !regexp.MustCompile(regexp.QuoteMeta(tt.want)).MatchString(got) {
				t.Errorf("Stale = %q, want %q", got, tt.want)
			}
		})
	}
	if (orgsync.Digest{}).Stale(d) == "" {
		t.Error("a zero digest is current")
	}
}
