package orgsync

// Snapshot is the complete desired state of one org as one source reads it.
//
// A source returns a whole Snapshot or an error: a failed page, a size
// limit, a truncated range or a server error is an error, never a shorter
// Snapshot. Entries a source had to skip (a missing required attribute, a
// duplicate key) are named in Warnings.
type Snapshot struct {
	Members  []Member `json:"members"`
	Groups   []Group  `json:"groups"`
	Warnings []string `json:"warnings,omitempty"`
}

// Progress reports how far a long source read has come.
type Progress struct {
	Users  int
	Groups int
}
