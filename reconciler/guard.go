package reconciler

import (
	"errors"
	"fmt"
	"math"

	"github.com/orgsync/orgsync"
)

// Guard defaults.
const (
	DefaultMaxDeprovision        = 25
	DefaultMaxDeprovisionPercent = 10.0
)

// GuardConfig is a source's `guard` block: the limits a plan must stay
// within to be applied without --force.
//
// A zero (unset) limit takes its default in SetDefaults; a negative limit
// disables that check. Both limits apply: a plan is blocked when its
// deprovisions exceed either.
type GuardConfig struct {
	// MaxDeprovision is the most members one run may deprovision.
	MaxDeprovision int `yaml:"max_deprovision"`
	// MaxDeprovisionPercent is the most members one run may deprovision, as
	// a percentage of the members the source owns and has not deprovisioned.
	MaxDeprovisionPercent float64 `yaml:"max_deprovision_percent"`
	// AllowEmpty lets a source that returns no users at all deprovision
	// every member it owns (the deprovision limits still apply).
	AllowEmpty bool `yaml:"allow_empty"`
}

// SetDefaults fills unset limits: 25 members and 10 percent.
func (g *GuardConfig) SetDefaults() {
	if g.MaxDeprovision == 0 {
		g.MaxDeprovision = DefaultMaxDeprovision
	}
	if g.MaxDeprovisionPercent == 0 {
		g.MaxDeprovisionPercent = DefaultMaxDeprovisionPercent
	}
}

// Validate reports every invalid setting, each prefixed with its key path.
func (g *GuardConfig) Validate() error {
	var errs []error
	p := g.MaxDeprovisionPercent
	if math.IsNaN(p) || math.IsInf(p, 0) || p > 100 {
		errs = append(errs, fmt.Errorf("guard.max_deprovision_percent: %v is not a percentage (0-100, negative disables): %w", p, orgsync.ErrInvalid))
	}
	return errors.Join(errs...)
}

// CheckGuards decides whether p may be applied. desiredUsers is the number
// of users the source returned. The reason of a blocked decision names the
// numbers and the setting to change.
func CheckGuards(p orgsync.Plan, desiredUsers int, g GuardConfig) orgsync.Decision {
	var reasons []string
	if desiredUsers == 0 && p.Owned > 0 && !g.AllowEmpty {
		reasons = append(reasons, fmt.Sprintf(
			"the source returned 0 users while %d members owned by %q are active; set guard.allow_empty: true if that is intended",
			p.Owned, p.Owner))
	}
	n := 0
	for _, c := range p.Changes {
		if c.Action == orgsync.ActionDeprovision {
			n++
		}
	}
	if g.MaxDeprovision >= 0 && n > g.MaxDeprovision {
		reasons = append(reasons, fmt.Sprintf(
			"%d deprovisions exceed guard.max_deprovision (%d)", n, g.MaxDeprovision))
	}
	if g.MaxDeprovisionPercent >= 0 && p.Owned > 0 {
		if pct := float64(n) * 100 / float64(p.Owned); pct > g.MaxDeprovisionPercent {
			reasons = append(reasons, fmt.Sprintf(
				"%d deprovisions are %.1f%% of the %d active owned members, above guard.max_deprovision_percent (%g%%)",
				n, pct, p.Owned, g.MaxDeprovisionPercent))
		}
	}
	if len(reasons) == 0 {
		return orgsync.Decision{}
	}
	reason := reasons[0]
	for _, r := range reasons[1:] {
		reason += "; " + r
	}
	return orgsync.Decision{Blocked: true, Reason: reason + "; review the plan and raise the limit or run with --force"}
}
