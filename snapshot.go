package orgsync

// Snapshot is the complete desired state of one org as one source reads it.
//
// A source returns a whole Snapshot or an error: a failed page, a size
// limit, a truncated range or a server error is an error, never a shorter
// Snapshot.
//
// An entry the source read but cannot use (a missing or unreadable
// attribute) is never left out, because a missing entry reads as a removal:
// it is returned in HeldUsers or HeldGroups, and the reconciler keeps the
// member or group it names exactly as it is. Entries sharing a key, user
// name, email or group name are returned as they are, in Members and
// Groups, for the reconciler to hold as conflicts. An entry that names
// nothing at all (neither key nor name) fails the read.
type Snapshot struct {
	Members  []Member `json:"members"`
	Groups   []Group  `json:"groups"`
	Warnings []string `json:"warnings,omitempty"`
	// HeldUsers and HeldGroups are the entries held back, see above.
	HeldUsers  []HeldEntry `json:"held_users,omitempty"`
	HeldGroups []HeldEntry `json:"held_groups,omitempty"`
}

// HeldEntry is a source entry the reconciler must not act on: the member
// (or group) whose ExternalID is Key keeps its status, profile, role and
// memberships. Without a Key, the member of the source holding the user
// name Name (the group holding the display name Name) is kept instead.
//
// Name and Email take part in the duplicate checks like those of any
// other entry: a desired member sharing them is held too, so that an entry
// claiming another member's name or address can never displace it.
type HeldEntry struct {
	Key   string `json:"external_id,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	// Ref says where the entry is at the source (a DN, a list position).
	Ref string `json:"ref,omitempty"`
	// DN is the entry's DN when the source is a directory, "" otherwise.
	DN string `json:"dn,omitempty"`
	// Reason names the attribute at fault and what is wrong with it.
	Reason string `json:"reason"`
	// Status is StatusDeprovisioned when the source knows the user is
	// disabled all the same (by an attribute that could be read): access
	// must not outlive the account, so the member of Key is suspended
	// (only that; its profile and memberships are still kept). "" otherwise.
	Status Status `json:"status,omitempty"`
}

// Progress reports how far a long source read has come.
type Progress struct {
	Users  int
	Groups int
}
