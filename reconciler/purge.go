package reconciler

import (
	"errors"
	"fmt"
	"time"

	"github.com/orgsync/orgsync"
)

// DefaultPurgeLimit is the most members one purge may delete without
// --force when the limit is left at 0.
const DefaultPurgeLimit = 25

// PurgePlan plans the hard deletion of the org's members that have been
// deprovisioned (DeprovisionedAt) or deleted by their owner (DeletedAt) for
// longer than purgeAfter, whoever owns them. What orgsync.MayApply refuses
// the purge is never planned: members with role admin (however spelled)
// are listed as conflicts instead. A member that is not deprovisioned is
// never purged, whatever its timestamps say.
//
// purgeAfter <= 0 plans nothing. The Decision blocks the plan when it would
// purge more than limit members (0 means DefaultPurgeLimit, negative means
// no limit). Like Diff, PurgePlan is pure and deterministic.
func PurgePlan(observed orgsync.Snapshot, org string, now time.Time, purgeAfter time.Duration, limit int) (orgsync.Plan, orgsync.Decision) {
	p := orgsync.Plan{Org: org, Owner: orgsync.OwnerPurge, Changes: []orgsync.Change{}, Owned: len(observed.Members)}
	if purgeAfter <= 0 {
		return p, orgsync.Decision{}
	}
	cutoff := now.Add(-purgeAfter)
	for i := range observed.Members {
		m := &observed.Members[i]
		since := suspendedSince(m)
		if m.Status != orgsync.StatusDeprovisioned || since == nil || !since.Before(cutoff) {
			continue
		}
		if err := orgsync.MayApply(p.Owner, orgsync.ActionPurge, m); err != nil {
			reason := fmt.Sprintf("deprovisioned since %s but %v", since.UTC().Format(time.DateOnly), err)
			if errors.Is(err, orgsync.ErrPurgeAdmin) {
				reason = fmt.Sprintf("deprovisioned since %s but has role admin: never purged automatically", since.UTC().Format(time.DateOnly))
			}
			p.Conflicts = append(p.Conflicts, orgsync.Conflict{UserName: m.UserName, Key: m.ExternalID, Reason: reason})
			continue
		}
		p.Changes = append(p.Changes, orgsync.Change{
			Action: orgsync.ActionPurge, UserName: m.UserName, MemberID: m.ID,
			Reason: fmt.Sprintf("deprovisioned since %s (owner %q)", since.UTC().Format(time.DateOnly), m.Owner),
		})
	}
	sortChanges(p.Changes)
	sortConflicts(p.Conflicts)
	return p, checkPurge(p, limit)
}

// suspendedSince is the earliest of the member's deprovision and deletion
// times, or nil.
func suspendedSince(m *orgsync.Member) *time.Time {
	t := m.DeprovisionedAt
	if m.DeletedAt != nil && (t == nil || m.DeletedAt.Before(*t)) {
		t = m.DeletedAt
	}
	return t
}

func checkPurge(p orgsync.Plan, limit int) orgsync.Decision {
	if limit == 0 {
		limit = DefaultPurgeLimit
	}
	if n := len(p.Changes); limit > 0 && n > limit {
		return orgsync.Decision{Blocked: true, Reason: fmt.Sprintf(
			"%d purges exceed the purge limit (%d); review the plan and raise the limit or run with --force", n, limit)}
	}
	return orgsync.Decision{}
}
