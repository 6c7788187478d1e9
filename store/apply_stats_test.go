package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/orgsync/orgsync"
)

// TestApplyAnalysesWhatItFills: on PostgreSQL an apply that provisions a
// batch or more of members into a table its statistics call empty analyses
// members in its transaction (pg_class counts the rows), and a small one
// leaves the statistics to autovacuum.
func TestApplyAnalysesWhatItFills(t *testing.T) {
	for _, tt := range []struct {
		name     string
		members  int
		analyzed bool
	}{
		{"a batch or more", applyBatch + 10, true},
		{"fewer", 10, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := openInsertStore(t, insertBackends[1].config(t))
			p := orgsync.Plan{Org: "acme", Owner: "ldap"}
			for i := 0; i < tt.members; i++ {
				key, name := fmt.Sprintf("k%05d", i), fmt.Sprintf("u%05d@example.org", i)
				p.Changes = append(p.Changes, orgsync.Change{Action: orgsync.ActionProvision, UserName: name, MemberKey: key,
					Member: &orgsync.Member{UserName: name, ExternalID: key}})
			}
			a, err := s.Apply(context.Background(), p)
			if err != nil || a.Counts[orgsync.ActionProvision] != tt.members {
				t.Fatalf("Apply: %v, %v", a.Counts, err)
			}
			var rows float64
			if _, err := s.pool(context.Background()).row(`SELECT reltuples FROM pg_class WHERE oid = CAST('members' AS regclass)`, nil, &rows); err != nil {
				t.Fatal(err)
			}
			if analyzed := rows > 0; analyzed != tt.analyzed {
				t.Fatalf("members: reltuples %v after provisioning %d, want analysed %v", rows, tt.members, tt.analyzed)
			}
		})
	}
}
