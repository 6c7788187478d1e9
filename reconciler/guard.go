package reconciler

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/orgsync/orgsync"
)

// Guard defaults.
const (
	DefaultMaxDeprovision         = 25
	DefaultMaxDeprovisionPercent  = 10.0
	DefaultMaxGroupDelete         = 10
	DefaultMaxGroupDeletePercent  = 25.0
	DefaultMaxMemberRemove        = 100
	DefaultMaxMemberRemovePercent = 25.0
	DefaultMaxAdminDemotions      = 1
	DefaultPercentMinCount        = 10
	DefaultMaxRekey               = 10
)

// GuardConfig is a source's `guard` block: the limits a plan must stay
// within to be applied without --force.
//
// A zero (unset) limit takes its default in SetDefaults; a negative limit
// disables that check. Every limit applies: a plan is blocked when it
// exceeds any of them.
type GuardConfig struct {
	// MaxDeprovision is the most members one run may deprovision.
	MaxDeprovision int `yaml:"max_deprovision"`
	// MaxDeprovisionPercent is the most members one run may deprovision, as
	// a percentage of the members the source owns and has not deprovisioned.
	MaxDeprovisionPercent float64 `yaml:"max_deprovision_percent"`
	// MaxGroupDelete is the most groups one run may delete.
	MaxGroupDelete int `yaml:"max_group_delete"`
	// MaxGroupDeletePercent is the most groups one run may delete, as a
	// percentage of the groups the source owns.
	MaxGroupDeletePercent float64 `yaml:"max_group_delete_percent"`
	// MaxMemberRemove is the most memberships one run may remove
	// (member_remove changes; a deleted group's are guarded by the group
	// limits).
	MaxMemberRemove int `yaml:"max_member_remove"`
	// MaxMemberRemovePercent is the most memberships one run may remove, as
	// a percentage of the memberships of the groups the source owns.
	MaxMemberRemovePercent float64 `yaml:"max_member_remove_percent"`
	// MaxAdminDemotions is the most members one run may take the admin role
	// from (an update, adoption or reactivation that changes the role from
	// admin to another; deprovisions are guarded by the deprovision limits).
	MaxAdminDemotions int `yaml:"max_admin_demotions"`
	// PercentMinCount is the smallest base (owned members, groups or
	// memberships) a percentage limit is weighed against: below it only
	// the absolute limits apply, so that a 3-member source losing one
	// member is not blocked by 33% alone. Negative: percentages always
	// apply.
	PercentMinCount int `yaml:"percent_min_count"`
	// MaxRekey is the most members one run may move to the new key of a
	// re-created entry (see the source's recreated_entries).
	MaxRekey int `yaml:"max_rekey"`
	// AllowEmpty lets a source that returns no users at all deprovision
	// every member it owns (the deprovision limits still apply).
	AllowEmpty bool `yaml:"allow_empty"`
}

// SetDefaults fills unset limits: 25 members and 10 percent deprovisioned,
// 10 groups and 25 percent deleted, 100 memberships and 25 percent
// removed, 1 admin demoted, 10 rekeyed; percentages weighed from a base
// of 10.
func (g *GuardConfig) SetDefaults() {
	setInt := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setPct := func(v *float64, def float64) {
		if *v == 0 {
			*v = def
		}
	}
	setInt(&g.MaxDeprovision, DefaultMaxDeprovision)
	setPct(&g.MaxDeprovisionPercent, DefaultMaxDeprovisionPercent)
	setInt(&g.MaxGroupDelete, DefaultMaxGroupDelete)
	setPct(&g.MaxGroupDeletePercent, DefaultMaxGroupDeletePercent)
	setInt(&g.MaxMemberRemove, DefaultMaxMemberRemove)
	setPct(&g.MaxMemberRemovePercent, DefaultMaxMemberRemovePercent)
	setInt(&g.MaxAdminDemotions, DefaultMaxAdminDemotions)
	setInt(&g.PercentMinCount, DefaultPercentMinCount)
	setInt(&g.MaxRekey, DefaultMaxRekey)
}

// Validate reports every invalid setting, each prefixed with its key path.
func (g *GuardConfig) Validate() error {
	var errs []error
	for _, pct := range []struct {
		key string
		v   float64
	}{
		{"max_deprovision_percent", g.MaxDeprovisionPercent},
		{"max_group_delete_percent", g.MaxGroupDeletePercent},
		{"max_member_remove_percent", g.MaxMemberRemovePercent},
	} {
		if p := pct.v; math.IsNaN(p) || math.IsInf(p, 0) || p > 100 {
			errs = append(errs, fmt.Errorf("guard.%s: %v is not a percentage (0-100, negative disables): %w", pct.key, p, orgsync.ErrInvalid))
		}
	}
	return errors.Join(errs...)
}

// CheckGuards decides whether p may be applied. desiredUsers is the number
// of users the source returned, held ones included. The reason of a blocked decision names the
// numbers and the setting to change.
func CheckGuards(p orgsync.Plan, desiredUsers int, g GuardConfig) orgsync.Decision {
	var reasons []string
	empty := desiredUsers == 0 && p.Owned > 0 && !g.AllowEmpty
	if empty {
		reasons = append(reasons, fmt.Sprintf(
			"the source returned 0 users while %d members owned by %q are active; set guard.allow_empty: true (or reconcile --allow-empty) if that is intended",
			p.Owned, p.Owner))
	}
	var deprovisions, groupDeletes, memberRemoves, demotions, rekeys int
	for i := range p.Changes {
		switch c := &p.Changes[i]; c.Action {
		case orgsync.ActionDeprovision, orgsync.ActionPurge:
			// A purge in a plan of Diff (a target's) removes access too.
			deprovisions++
		case orgsync.ActionGroupDelete:
			groupDeletes++
		case orgsync.ActionMemberRemove:
			memberRemoves++
		case orgsync.ActionRekey:
			rekeys++
		case orgsync.ActionUpdate, orgsync.ActionAdopt, orgsync.ActionReactivate:
			if f, ok := c.Fields["role"]; ok && orgsync.IsAdminRole(f.From) && !orgsync.IsAdminRole(f.To) {
				demotions++
			}
		}
	}
	limit := func(n, max int, what, key string) {
		if max >= 0 && n > max {
			reasons = append(reasons, fmt.Sprintf("%d %s exceed guard.%s (%d)", n, what, key, max))
		}
	}
	share := func(n, of int, max float64, what, of_, key string) {
		if max < 0 || of <= 0 || (g.PercentMinCount > 0 && of < g.PercentMinCount) {
			return
		}
		if pct := float64(n) * 100 / float64(of); pct > max {
			reasons = append(reasons, fmt.Sprintf("%d %s are %.1f%% of the %d %s, above guard.%s (%g%%)",
				n, what, pct, of, of_, key, max))
		}
	}
	limit(deprovisions, g.MaxDeprovision, "deprovisions", "max_deprovision")
	share(deprovisions, p.Owned, g.MaxDeprovisionPercent, "deprovisions", "active owned members", "max_deprovision_percent")
	limit(groupDeletes, g.MaxGroupDelete, "group deletions", "max_group_delete")
	share(groupDeletes, p.OwnedGroups, g.MaxGroupDeletePercent, "group deletions", "owned groups", "max_group_delete_percent")
	limit(memberRemoves, g.MaxMemberRemove, "membership removals", "max_member_remove")
	share(memberRemoves, p.OwnedMemberships, g.MaxMemberRemovePercent, "membership removals", "memberships of owned groups", "max_member_remove_percent")
	limit(demotions, g.MaxAdminDemotions, "admin demotions", "max_admin_demotions")
	limit(rekeys, g.MaxRekey, "rekeys of re-created entries", "max_rekey")
	if len(reasons) == 0 {
		return orgsync.Decision{}
	}
	if empty {
		return orgsync.Decision{Blocked: true, Empty: true, Reason: strings.Join(reasons, "; ") + "; --force does not override an empty source"}
	}
	return orgsync.Decision{Blocked: true, Reason: strings.Join(reasons, "; ") + "; review the plan and raise the limit or run with --force"}
}
