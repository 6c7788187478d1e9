package reconciler

import (
	"fmt"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
)

// TestPurgePlanNeverPurgesAdminsHoweverSpelled: "admins are never purged"
// holds for a role a source spelled "Admin" or " admin " too.
func TestPurgePlanNeverPurgesAdminsHoweverSpelled(t *testing.T) {
	now := t0.Add(40 * 24 * time.Hour)
	old := t0
	var observed orgsync.Snapshot
	for i, r := range []string{"admin", "Admin", " admin ", "ADMIN", "administrator"} {
		observed.Members = append(observed.Members, member(fmt.Sprint("m", i), src, fmt.Sprint("k", i), fmt.Sprintf("u%d@x", i), deprov,
			func(m *orgsync.Member) { m.DeprovisionedAt = &old }, role(r)))
	}
	p, _ := PurgePlan(observed, "acme", now, 30*24*time.Hour, -1)
	want := []string{
		"purge u4@x id=m4",
		"conflict k0 u0@x: deprovisioned since 2026-11-01 but has role admin: never purged automatically",
		"conflict k1 u1@x: deprovisioned since 2026-11-01 but has role admin: never purged automatically",
		"conflict k2 u2@x: deprovisioned since 2026-11-01 but has role admin: never purged automatically",
		"conflict k3 u3@x: deprovisioned since 2026-11-01 but has role admin: never purged automatically",
	}
	if got := planLines(p); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("plan:\n got %q\nwant %q", got, want)
	}
}
