package reconciler

import (
	"errors"
	"fmt"
	"strings"

	"github.com/orgsync/orgsync"
)

// RecreatedEntries is a source's `recreated_entries` block: whether a run
// may move a member to the new key of its re-created entry (deleted and
// added again in the directory: a new entryUUID or objectGUID, the same
// person) instead of holding the newcomer as a conflict.
//
// Never by name alone: a rekey is planned only when the source's complete
// read no longer lists the member's old key (nor holds an entry that could
// be it), the member is owned by this source, and besides the user name
// every attribute Match names is set and equal, at least one of them being
// something other than the user name itself.
type RecreatedEntries struct {
	// Rekey turns the rule on; off by default.
	Rekey bool `yaml:"rekey"`
	// Match names the member attributes that must all be equal: email,
	// given_name, family_name, display_name.
	Match []string `yaml:"match"`
}

// rekeyFields are the attributes Match may name, and how to read them.
var rekeyFields = map[string]func(*orgsync.Member) string{
	"email":        func(m *orgsync.Member) string { return orgsync.Fold(m.Email()) },
	"given_name":   func(m *orgsync.Member) string { return strings.TrimSpace(m.GivenName) },
	"family_name":  func(m *orgsync.Member) string { return strings.TrimSpace(m.FamilyName) },
	"display_name": func(m *orgsync.Member) string { return strings.TrimSpace(m.DisplayName) },
}

// Validate reports every invalid setting, each prefixed with its key path.
func (r *RecreatedEntries) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for _, f := range r.Match {
		switch {
		case rekeyFields[f] == nil:
			errs = append(errs, fmt.Errorf("recreated_entries.match: %q is not one of email, given_name, family_name, display_name: %w", f, orgsync.ErrInvalid))
		case seen[f]:
			errs = append(errs, fmt.Errorf("recreated_entries.match: %q named twice: %w", f, orgsync.ErrInvalid))
		}
		seen[f] = true
	}
	if r.Rekey && len(r.Match) == 0 {
		errs = append(errs, fmt.Errorf("recreated_entries.match: empty with rekey: true; name the attributes that must match besides the user name (never the name alone): %w", orgsync.ErrInvalid))
	}
	return errors.Join(errs...)
}

// rekeyRefusal returns why the member old may not be moved to src's key,
// or "" when it may (see RecreatedEntries). old is owned by this source and
// holds src's user name; src's key is owned by nobody here.
func (d *differ) rekeyRefusal(src *orgsync.Member, old int32) string {
	m := &d.obs[old]
	switch {
	case m.ExternalID == "" || m.DeletedAt != nil:
		return "the member has no key"
	case d.matched[old]:
		return "the member stands for another entry"
	case d.held[m.ExternalID]:
		return "the source holds an entry with the member's key"
	case d.heldNames != nil && d.heldNames[orgsync.Fold(m.UserName)]:
		return "the source holds an entry of that name without a key"
	}
	if _, listed := d.userIdx[m.ExternalID]; listed {
		return "the member's own entry is still in the source"
	}
	name := orgsync.Fold(src.UserName)
	beyondName := false
	for _, f := range d.opts.Recreated.Match {
		have, want := rekeyFields[f](m), rekeyFields[f](src)
		switch {
		case want == "":
			return f + " is empty"
		case have != want:
			return f + " differs"
		}
		beyondName = beyondName || orgsync.Fold(want) != name
	}
	if !beyondName {
		return "only the user name matches (recreated_entries.match names nothing else)"
	}
	return ""
}

// rekey plans moving the member old to the key of the desired user ui, its
// re-created entry, and then the user's changes as for any owned member
// (a reactivation when the old entry's removal deprovisioned it).
func (d *differ) rekey(ui, old int32) {
	u, m := &d.users[ui], &d.obs[old]
	d.plan.Changes = append(d.plan.Changes, orgsync.Change{
		Action: orgsync.ActionRekey, UserName: u.src.UserName, MemberID: m.ID, MemberKey: u.src.ExternalID,
		Fields: map[string]orgsync.FieldChange{"external_id": {From: m.ExternalID, To: u.src.ExternalID}},
		Reason: fmt.Sprintf("re-created entry: the same user name, %s; the old key is gone from the source", strings.Join(d.opts.Recreated.Match, ", ")),
	})
	u.valid, u.obs, d.matched[old] = true, old, true
	d.diffOwned(u, m)
}
