package reconciler

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/orgsync/orgsync"
)

// Options say whose plan Diff computes.
type Options struct {
	// Org is the org the plan is for.
	Org string
	// Owner is the source name: the owner of everything the plan changes.
	Owner string
	// DefaultRole is the role of a desired member whose Role is "";
	// orgsync.RoleMember when empty.
	DefaultRole string
	// Recreated is the source's rule for re-created entries (recreated.go).
	Recreated RecreatedEntries
}

func (o Options) role(r string) string {
	switch {
	case r != "":
		return r
	case o.DefaultRole != "":
		return o.DefaultRole
	}
	return orgsync.RoleMember
}

// Diff returns the Plan that turns observed into desired for the members and
// groups opts.Owner owns.
//
// desired is a source Snapshot: members keyed by ExternalID (Status
// deprovisioned for a user disabled at the source), groups keyed by
// ExternalID with member and subgroup ExternalIDs. observed is the store's
// view of the whole org: every member and group of every owner, group
// members given by member ID.
//
// Entries held back (desired.HeldUsers and HeldGroups, and desired entries
// in conflict) are conflicts of the plan: the member or group they name is
// kept exactly as it is — not deprovisioned, not updated, its memberships
// neither added to nor removed. A held entry's key, name and email take part
// in the duplicate checks, so a desired entry sharing one is held as well.
// A held entry without a key holds the owner's member (or group) of its
// name instead. A desired group that nests a held group, directly or
// through others, is held too: its flattened members cannot be known.
//
// Diff does no I/O, never modifies its inputs and always returns the same
// Plan for the same inputs: changes are ordered by orgsync.Action.Rank, then
// by group name, user name and keys; conflicts by key and user name.
func Diff(desired, observed orgsync.Snapshot, opts Options) orgsync.Plan {
	d := newDiffer(observed, opts)
	d.plan.Warnings = slices.Clone(desired.Warnings)
	d.plan.Read = len(desired.Members) + len(desired.HeldUsers)
	for i := range desired.Members {
		if desired.Members[i].Status == orgsync.StatusDeprovisioned {
			d.plan.Disabled++
		}
	}
	d.diffUsers(desired.Members, desired.HeldUsers)
	d.deprovisionMissing()
	d.diffGroups(desired.Groups, desired.HeldGroups, observed.Groups)
	d.plan.Changes = d.assemble()
	sortConflicts(d.plan.Conflicts)
	return d.plan
}

// user is the outcome of Diff for one desired user (same index as in the
// source Snapshot).
type user struct {
	src  *orgsync.Member
	name string // folded user name
	// valid is false for entries in conflict: they are skipped.
	valid   bool
	enabled bool
	// obs is the observed member that stands for the user after the plan
	// (matched or adopted), -1 when there is none: then the plan provisions
	// it when enabled (a user disabled at the source gets no member).
	obs int32
}

type differ struct {
	opts Options
	plan orgsync.Plan

	// Observed members are addressed by their index in obs.
	obs     []orgsync.Member
	byID    map[string]int32   // built on first use (see index)
	owned   map[string]int32   // opts.Owner's members by ExternalID
	unowned map[string][]int32 // members with no owner by folded email
	// byName maps folded user names to the members holding them (a store
	// keeps them unique, so mostly one). Built on first use: a plan
	// without new users or renames does not need it.
	byName map[string][]int32
	// matched marks observed members a valid desired user stands for.
	matched []bool

	users   []user           // by index in the source Snapshot
	userIdx map[string]int32 // first index in users by ExternalID
	// held are desired ExternalIDs in conflict: their owned member (if any)
	// is left untouched, memberships included.
	held map[string]bool
	// heldNames are the folded user names of held entries without a key:
	// the owned member holding one is not deprovisioned. Nil when none.
	heldNames map[string]bool
	// adopted are the observed members this plan adopts.
	adopted map[int32]bool

	// Group membership state, see diffGroup and assemble.
	refs          map[string]memberRef
	provisions    []int32 // users the plan provisions, see assemble
	rank          []int32 // users' positions in name order, see nameRank
	cur           map[string]bool
	scratch       []int32
	groupRefs     []orgsync.Change
	adds, removes []memberOp
}

func newDiffer(observed orgsync.Snapshot, opts Options) *differ {
	n := len(observed.Members)
	d := &differ{
		opts:    opts,
		plan:    orgsync.Plan{Org: opts.Org, Owner: opts.Owner, Changes: []orgsync.Change{}},
		obs:     observed.Members,
		owned:   make(map[string]int32, n),
		unowned: map[string][]int32{},
		matched: make([]bool, n),
		held:    map[string]bool{},
		adopted: map[int32]bool{},
	}
	for i := range observed.Groups {
		if g := &observed.Groups[i]; g.Owner == opts.Owner && g.ExternalID != "" {
			d.plan.OwnedGroups++
			d.plan.OwnedMemberships += len(g.Members)
		}
	}
	for i := range observed.Members {
		m, i := &observed.Members[i], int32(i)
		switch {
		case m.Owner == opts.Owner && m.ExternalID != "":
			d.owned[m.ExternalID] = i
			if m.Status != orgsync.StatusDeprovisioned && m.DeletedAt == nil {
				d.plan.Owned++
			}
		case m.Owner == "" && m.DeletedAt == nil:
			if e := orgsync.Fold(m.Email()); e != "" {
				d.unowned[e] = append(d.unowned[e], i)
			}
		}
	}
	return d
}

func (d *differ) conflict(m *orgsync.Member, format string, args ...any) {
	d.plan.Conflicts = append(d.plan.Conflicts, orgsync.Conflict{
		UserName: m.UserName, Key: m.ExternalID, DN: m.DN, Reason: fmt.Sprintf(format, args...),
	})
	d.plan.Held.Users++
	if m.ExternalID != "" {
		d.held[m.ExternalID] = true
	}
}

// holdEntry records a user entry the source held back as a conflict and
// holds what it names: the member of its key, or without a key the member
// of its user name. why is the reason a duplicate check found, if any.
func (d *differ) holdEntry(h *orgsync.HeldEntry, why string) {
	reason := "held by the source: "
	if h.Ref != "" {
		reason += h.Ref + ": "
	}
	reason += h.Reason
	if why != "" {
		reason += "; " + why
	}
	d.plan.Conflicts = append(d.plan.Conflicts, orgsync.Conflict{UserName: h.Name, Key: h.Key, DN: h.DN, Reason: reason})
	d.plan.Held.Users++
	switch {
	case h.Key != "":
		d.held[h.Key] = true
	case h.Name != "":
		if d.heldNames == nil {
			d.heldNames = map[string]bool{}
		}
		d.heldNames[orgsync.Fold(h.Name)] = true
	}
}

// sortChanges orders changes in apply order, then by folded group and
// user names, then by exact names and keys, so that plans and their
// renderings are stable.
func sortChanges(cs []orgsync.Change) {
	sorted := make([]orgsync.Change, 0, len(cs))
	for _, i := range changeOrder(cs) {
		sorted = append(sorted, cs[i])
	}
	copy(cs, sorted)
}

// changeOrder returns the indices of cs in sortChanges order. Sort keys are
// computed once per change.
func changeOrder(cs []orgsync.Change) []int32 {
	type item struct {
		rank        int
		group, user string
		i           int32
	}
	items := make([]item, len(cs))
	for i := range cs {
		items[i] = item{cs[i].Action.Rank(), orgsync.Fold(cs[i].GroupName), orgsync.Fold(cs[i].UserName), int32(i)}
	}
	slices.SortFunc(items, func(x, y item) int {
		a, b := &cs[x.i], &cs[y.i]
		return cmp.Or(
			cmp.Compare(x.rank, y.rank),
			cmp.Compare(x.group, y.group),
			cmp.Compare(x.user, y.user),
			cmp.Compare(a.GroupName, b.GroupName),
			cmp.Compare(a.UserName, b.UserName),
			cmp.Compare(a.MemberID, b.MemberID),
			cmp.Compare(a.MemberKey, b.MemberKey),
			cmp.Compare(a.GroupID, b.GroupID),
			cmp.Compare(a.GroupKey, b.GroupKey),
		)
	})
	order := make([]int32, len(items))
	for k, it := range items {
		order[k] = it.i
	}
	return order
}

func sortConflicts(cs []orgsync.Conflict) {
	slices.SortFunc(cs, func(a, b orgsync.Conflict) int {
		return cmp.Or(cmp.Compare(a.Key, b.Key), cmp.Compare(a.UserName, b.UserName), cmp.Compare(a.Reason, b.Reason))
	})
}
