package orgsync

import "time"

// Cursor is where the last applied read of one source left off, so that
// the next read can ask the server only for what changed since.
//
// A source owns everything in it but Org, Source and SavedAt: the store
// keeps it opaque and replaces it only in the transaction that applies a
// run of the source (a failed or blocked run leaves it as it was).
type Cursor struct {
	Org    string
	Source string
	// Position is the server's change position when the applied read
	// began (OpenLDAP's contextCSN, AD's highestCommittedUSN, a SCIM
	// upstream's newest meta.lastModified).
	Position string
	// Server names the server Position belongs to (a URL, an AD DC's
	// dnsHostName and invocation id): another server's position is not
	// honoured.
	Server string
	// Config fingerprints the source's config: State read under another
	// config is not reused.
	Config string
	// FullAt is when the last full read that was applied began.
	FullAt time.Time
	// State is the source's own encoding of the desired state at
	// Position, which an incremental read merges what changed into. In a
	// cursor handed to the store, nil keeps the stored State.
	State []byte
	// StatePatch, when not nil, is State as a patch (internal/statepatch)
	// against the State the source was handed: the store may keep the
	// patch rather than write State again (it still checks that the patch
	// names State as its result). Only with State; a Cursor the store
	// returns never has one.
	StatePatch []byte
	// StateHeld: the store left State out of a cursor it returns because
	// it is the State the reader said it holds (reconciler.StateHolder),
	// which the source then reads from instead. Never in a cursor handed
	// to the store.
	StateHeld bool
	// Until is when the Snapshot of State stops holding by itself (the
	// first AD account to expire); zero: until the server changes.
	Until time.Time
	// Settled is the reconciler's: set when the run that saved the cursor
	// applied its whole plan (nothing skipped), nil otherwise.
	Settled *Settled
	// SavedAt is when the store saved the cursor.
	SavedAt time.Time
}

// Settled says that the org was converged to the cursor's desired state
// when the cursor was saved: while the server reports no change and the
// store no write (StoreSeq), a run of the same job would plan nothing.
type Settled struct {
	// Job fingerprints what besides the Snapshot the plan depends on
	// (the job's default role).
	Job string `json:"job"`
	// StoreSeq is the store's last event Seq when the cursor was saved;
	// the store sets it, in the same transaction.
	StoreSeq int64 `json:"store_seq"`
	// Users and Disabled are the plan's counts of the users read and of
	// those disabled at the source (Plan.Read, Plan.Disabled).
	Users    int `json:"users"`
	Disabled int `json:"disabled"`
	// Counted says that Owned and OwnedMemberships hold the owner's counts
	// after the run (Plan.Owned and Plan.OwnedMemberships of the next
	// plan), so that a scoped plan need not count the whole org: the
	// reconciler sets the plan's counts (those before it) and the store
	// advances them by what the apply changed, in the same transaction.
	Counted          bool `json:"counted,omitempty"`
	Owned            int  `json:"owned,omitempty"`
	OwnedMemberships int  `json:"owned_memberships,omitempty"`
}

// Zero reports whether c holds no position (no applied run yet).
func (c Cursor) Zero() bool { return c.Position == "" && len(c.State) == 0 && !c.StateHeld }

// Read kinds: how a run read its source.
const (
	ReadFull        = "full"
	ReadIncremental = "incremental"
)

// Read says how a run read its source and why: recorded with the run.
type Read struct {
	// Kind is ReadFull or ReadIncremental.
	Kind string `json:"kind"`
	// Reason says why a read was full (first run, full_every elapsed, a
	// cursor the server no longer honours), or what an incremental read
	// found ("nothing changed", "N entries changed").
	Reason string `json:"reason,omitempty"`
	// Changed counts the entries an incremental read fetched as changed.
	Changed int `json:"changed,omitempty"`
	// Listed counts the keys of its deletion check (keys-only listing).
	Listed int `json:"listed,omitempty"`
	// Scope, when set, says which entries an incremental read found
	// changed: everything of the Snapshot it does not name is exactly as
	// in the Snapshot of the cursor it read from. Nil for a full read, or
	// when the source cannot tell (the reconciler then diffs everything).
	Scope *Scope `json:"-"`
	// Unchanged: the server reported no change since the cursor, and the
	// source returned no Snapshot (it was allowed to; see
	// reconciler.ReadRequest.SkipUnchanged).
	Unchanged bool `json:"-"`
	// Rest, when set, holds the members the Snapshot leaves out: a source
	// asked for a part (reconciler.ReadRequest.Part) that names a Scope
	// may return a Snapshot without members (its groups, held entries and
	// warnings whole), and give the members by key from Rest. Nil
	// otherwise: the Snapshot is whole.
	Rest Rest `json:"-"`
}

// Rest is the desired state a partial Snapshot leaves out (Read.Rest): the
// members, built when asked for.
type Rest interface {
	// Members returns the members under keys (a key without one is left
	// out), each with its place in the whole Snapshot's Members, in that
	// order.
	Members(keys []string) (members []Member, places []int)
	// Counts returns how many members the whole Snapshot has, and how many
	// of them are deprovisioned.
	Counts() (members, disabled int)
	// Whole returns the whole Snapshot.
	Whole() (Snapshot, error)
}

// RestGroups is implemented by a Rest that can give the Snapshot's Groups
// restricted to some of its members more cheaply than by comparing keys.
type RestGroups interface {
	// GroupsOf returns the Snapshot's Groups, in its order, each with only
	// the Members that are the members at places (as Members gives them);
	// Subgroups as they are. ok is false when it cannot: the caller then
	// restricts the groups itself.
	GroupsOf(places []int) (groups []Group, ok bool)
}

// Scope lists the keys (ExternalIDs) of the desired users and groups an
// incremental read found added, modified or removed since its cursor; for
// an entry that changed its key, both keys. A user or group of the
// Snapshot whose key is not listed (and the resolved members of a group
// not listed) are exactly as they were in the cursor's Snapshot, so the
// reconciler may diff only what the scope reaches (reconciler.Scoped).
type Scope struct {
	Users  []string
	Groups []string
}

// ScopeTx reads parts of one org in one consistent view: what a scoped
// plan needs of the store (reconciler.ScopeReader).
type ScopeTx interface {
	// Members returns the members (tombstones included, with emails) that
	// owner owns under one of keys, whose folded user name is one of
	// folded, that have an email whose folded value is one of folded, or
	// whose ID is one of ids. Each member once, in any order.
	Members(owner string, keys, folded, ids []string) ([]Member, error)
	// Groups returns every group of the org without its members.
	Groups() ([]Group, error)
	// Memberships returns, by group ID, the member IDs of the groups
	// groupIDs (all their members) and the memberships of the members
	// memberIDs (in any group).
	Memberships(groupIDs, memberIDs []string) (map[string][]string, error)
	// Owned counts owner's members that are neither deprovisioned nor
	// deleted, and the memberships of owner's groups.
	Owned(owner string) (members, memberships int, err error)
}
