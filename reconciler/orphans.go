package reconciler

// Orphan is an owner in the store that is no source of its org's config:
// a source renamed or removed in the config, or moved to another org. No
// run reconciles its members any more. Nothing happens to them on its
// own: they keep their access, and no run deprovisions, updates or
// reassigns them, until the operator hands them to a source (`orgsync
// sources rename`), puts the source back, or removes them.
type Orphan struct {
	Org   string `json:"org"`
	Owner string `json:"owner"`
	// Members counts every member the owner holds; Live those neither
	// deprovisioned nor deleted, who keep their access.
	Members int `json:"members"`
	Live    int `json:"live"`
	Groups  int `json:"groups"`
	// Successor, when set, is the one source of the org that owns nothing
	// yet: likely the orphan's new name, so the advice names it. A guess
	// for the operator to confirm, never acted on.
	Successor string `json:"successor,omitempty"`
}
