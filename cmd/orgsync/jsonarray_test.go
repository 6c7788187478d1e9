package main

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/admin"
)

// writeJSONArray prints exactly what encoding the whole slice prints.
func TestWriteJSONArrayEqualsWholeSlice(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	var members []orgsync.Member
	for n := 0; n <= 3; n++ {
		members = members[:0]
		for i := 0; i < n; i++ {
			members = append(members, orgsync.Member{ID: fmt.Sprint("id", i), Org: "acme", UserName: fmt.Sprintf("<u%d>&@example.org", i),
				Emails: []orgsync.Email{{Value: "a@example.org", Type: "work", Primary: true}}, Status: orgsync.StatusPendingSetup,
				Groups: []string{"eng", "ops"}, CreatedAt: at, UpdatedAt: at, SetupCompletedAt: &at})
		}
		views := make([]admin.Member, 0, n)
		for _, m := range members {
			views = append(views, admin.NewMember(m))
		}
		var want, got bytes.Buffer
		if err := (&app{stdout: &want}).writeJSON(views); err != nil {
			t.Fatal(err)
		}
		if err := writeJSONArray(&got, len(members), func(i int) any { return admin.NewMember(members[i]) }); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("%d members:\ngot  %q\nwant %q", n, got.String(), want.String())
		}
	}
}
