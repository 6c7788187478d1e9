package orgsync

import "fmt"

// Digest identifies what a plan was computed from, and the plan: a plan
// reviewed earlier (a saved plan file, a blocked run) is applied only while
// the source and the org still read as they did, and the same inputs still
// give the same plan. Each value is "sha256:" and 64 hex digits.
type Digest struct {
	// Source is the digest of the source's snapshot: every user, group and
	// held entry it listed, in a canonical order.
	Source string `json:"source"`
	// Store is the digest of the org as read from the store: every
	// member's and group's id, version, owner, key and status, and every
	// group's members.
	Store string `json:"store"`
	// Plan is the digest of the plan's changes (with the members and groups
	// they set) and conflicts.
	Plan string `json:"plan"`
}

// IsZero reports whether d records nothing (a run recorded before digests
// were kept, or a purge).
func (d Digest) IsZero() bool { return d == Digest{} }

// Stale returns why a plan computed with digest d no longer stands when the
// same plan computed now has digest now, or "" when it still does.
func (d Digest) Stale(now Digest) string {
	switch {
	case d.IsZero():
		return "the plan carries no digest of what it was computed from"
	case d.Source != now.Source && d.Store != now.Store:
		return "both the source and the org's members and groups changed since the plan was computed"
	case d.Source != now.Source:
		return "the source changed since the plan was computed"
	case d.Store != now.Store:
		return "the org's members, groups or memberships changed in the store since the plan was computed"
	case d.Plan != now.Plan:
		return fmt.Sprintf("the same source and org now give another plan (%s, was %s): the config (default_role, guard-independent settings) or orgsync changed", short(now.Plan), short(d.Plan))
	}
	return ""
}

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19]
	}
	return digest
}
