package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
)

// TestRevivalDropsLegacyMemberships: a tombstone written by an older
// release still holds its group memberships (DELETE kept them then). Its
// revival by the same externalId, and its retirement for another one,
// start the member without them, each removal in the event log.
func TestRevivalDropsLegacyMemberships(t *testing.T) {
	ctx := context.Background()
	for _, ext := range []string{"X", "Y"} {
		s, err := Open(ctx, Config{Driver: DriverSQLite, DSN: filepath.Join(t.TempDir(), "orgsync.db")}, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.EnsureOrgs(ctx, []orgsync.Org{{ID: "acme", Name: "Acme", DefaultRole: orgsync.RoleMember, PurgeAfter: time.Hour}}); err != nil {
			t.Fatal(err)
		}
		alice, err := s.SCIMCreateMember(ctx, "acme", orgsync.Member{UserName: "alice@example.org", ExternalID: "X"})
		if err != nil {
			t.Fatal(err)
		}
		g, err := s.SCIMCreateGroup(ctx, "acme", orgsync.Group{DisplayName: "admins", Members: []string{alice.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SCIMDeleteMember(ctx, "acme", alice.ID, 0); err != nil {
			t.Fatal(err)
		}
		// What an older release left: the tombstone still in the group.
		if err := s.db.Exec(`INSERT INTO group_members (group_id, member_id, org_id, created_at) VALUES (?, ?, ?, ?)`,
			g.ID, alice.ID, "acme", time.Now().UTC()).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := s.SCIMCreateMember(ctx, "acme", orgsync.Member{UserName: "alice@example.org", ExternalID: ext}); err != nil {
			t.Fatalf("re-POST with externalId %s: %v", ext, err)
		}
		snap, err := s.Observed(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Groups) != 1 || len(snap.Groups[0].Members) != 0 {
			t.Fatalf("externalId %s: admins holds %v after the re-POST", ext, snap.Groups[0].Members)
		}
		evs, err := s.Events(ctx, "acme", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		removed := 0
		for _, e := range evs {
			if e.Kind == orgsync.EventGroupMemberRemoved && e.MemberID == alice.ID && e.GroupID == g.ID {
				removed++
			}
		}
		if removed != 2 { // the DELETE's, then the re-POST's of the legacy row
			t.Fatalf("externalId %s: %d group.member_removed events for alice, want 2", ext, removed)
		}
	}
}
