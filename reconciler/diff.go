package reconciler

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

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

// diffUsers plans provision, adopt, update and reactivate and deprovision of
// the users the source lists, and holds the entries in conflict and those
// the source held back.
func (d *differ) diffUsers(desired []orgsync.Member, heldBack []orgsync.HeldEntry) {
	n := len(desired)
	d.users = make([]user, n)
	d.userIdx = make(map[string]int32, n)
	// userIdx and seen record first occurrences; the dup maps count the
	// repeats and stay empty for a clean source. seen holds folded names
	// (bit 1) and emails (bit 2): one map, and one entry when a user's
	// name is its email, the usual LDAP setup.
	seen := make(map[string]uint8, n)
	dupKey, dupName, dupEmail := map[string]int{}, map[string]int{}, map[string]int{}
	emails := make([]string, n)
	for i := range desired {
		m := &desired[i]
		u := &d.users[i]
		u.src, u.name, u.obs = m, orgsync.Fold(m.UserName), -1
		if _, ok := d.userIdx[m.ExternalID]; ok {
			dupKey[m.ExternalID]++
		} else {
			d.userIdx[m.ExternalID] = int32(i)
		}
		if m.Status == orgsync.StatusDeprovisioned {
			// A disabled entry never holds an active member, so its email
			// clashes with nobody's (directories keep disabled accounts,
			// address and all, long after a successor is hired). Its user
			// name still counts: names are unique among all members.
			if seen[u.name]&1 != 0 {
				dupName[u.name]++
			}
			seen[u.name] |= 1
			continue
		}
		emails[i] = orgsync.Fold(m.Email())
		bits := seen[u.name]
		if bits&1 != 0 {
			dupName[u.name]++
		}
		if emails[i] == u.name {
			if bits&2 != 0 {
				dupEmail[u.name]++
			}
			seen[u.name] = bits | 3
			continue
		}
		seen[u.name] = bits | 1
		if emails[i] != "" {
			if b := seen[emails[i]]; b&2 != 0 {
				dupEmail[emails[i]]++
			} else {
				seen[emails[i]] = b | 2
			}
		}
	}
	// Held entries count as enabled (their status is not known), so their
	// emails clash too.
	heldKeys := map[string]bool{}
	for i := range heldBack {
		h := &heldBack[i]
		if h.Key != "" {
			if _, ok := d.userIdx[h.Key]; ok || heldKeys[h.Key] {
				dupKey[h.Key]++
			}
			heldKeys[h.Key] = true
		}
		name, email := orgsync.Fold(h.Name), orgsync.Fold(h.Email)
		if name != "" {
			if seen[name]&1 != 0 {
				dupName[name]++
			}
			seen[name] |= 1
		}
		if email != "" {
			if seen[email]&2 != 0 {
				dupEmail[email]++
			}
			seen[email] |= 2
		}
	}
	for i := range heldBack {
		h := &heldBack[i]
		name, email := orgsync.Fold(h.Name), orgsync.Fold(h.Email)
		why := ""
		switch {
		case h.Key != "" && dupKey[h.Key] > 0:
			why = "its external id is shared by another entry"
		case name != "" && dupName[name] > 0:
			why = "its user name is shared by another entry"
		case email != "" && dupEmail[email] > 0:
			why = "its email is shared by another entry"
		}
		d.holdEntry(h, why)
		if h.Status == orgsync.StatusDeprovisioned && h.Key != "" && dupKey[h.Key] == 0 {
			d.suspendHeld(&orgsync.Member{ExternalID: h.Key, Status: h.Status})
		}
	}
	for i := range desired {
		m, u := &desired[i], &d.users[i]
		switch {
		case m.ExternalID == "":
			d.conflict(m, "no external id")
		case m.UserName == "":
			d.conflict(m, "no user name")
		case len(dupKey) > 0 && dupKey[m.ExternalID] > 0:
			d.conflict(m, "external id appears %d times in the source", dupKey[m.ExternalID]+1)
		case len(dupName) > 0 && dupName[u.name] > 0:
			d.conflict(m, "user name appears %d times in the source", dupName[u.name]+1)
		case len(dupEmail) > 0 && emails[i] != "" && dupEmail[emails[i]] > 0:
			d.conflict(m, "email %q appears %d times in the source", m.Email(), dupEmail[emails[i]]+1)
		default:
			d.diffUser(int32(i), emails[i])
			continue
		}
		if len(dupKey) == 0 || dupKey[m.ExternalID] == 0 {
			d.suspendHeld(m)
		}
	}
}

// suspendHeld deprovisions the owned member of a source entry that is in
// conflict (or held by the source) but disabled at the source. The hold
// keeps the entry's profile and memberships, but its key names the member
// unambiguously, and access to a KMS must not outlive the account because
// some other attribute clashes or cannot be read. (With a duplicated key
// nothing is certain: the caller does not ask.)
func (d *differ) suspendHeld(src *orgsync.Member) {
	if src.Status != orgsync.StatusDeprovisioned || src.ExternalID == "" {
		return
	}
	i, ok := d.owned[src.ExternalID]
	if !ok || d.obs[i].Status == orgsync.StatusDeprovisioned {
		return
	}
	d.plan.Changes = append(d.plan.Changes, orgsync.Change{
		Action: orgsync.ActionDeprovision, UserName: d.obs[i].UserName, MemberID: d.obs[i].ID,
		Reason: "disabled at the source (its entry is held)",
	})
}

// diffUser plans the desired user ui, which is valid; email is folded.
func (d *differ) diffUser(ui int32, email string) {
	u := &d.users[ui]
	src := u.src
	u.enabled = src.Status != orgsync.StatusDeprovisioned
	if i, ok := d.owned[src.ExternalID]; ok {
		// Only a rename can collide with another member's name.
		if u.name != orgsync.Fold(d.obs[i].UserName) {
			if h := d.nameHolder(u.name, i); h >= 0 {
				d.conflict(src, "user name %q belongs to another member (%s)", src.UserName, describeOwner(d.obs[h].Owner))
				d.suspendHeld(src)
				return
			}
		}
		u.valid, u.obs, d.matched[i] = true, i, true
		d.diffOwned(u, &d.obs[i])
		return
	}
	if !u.enabled {
		// Disabled at the source and never provisioned: nothing to do.
		u.valid = true
		return
	}
	adoptee := int32(-1)
	if email != "" {
		switch c := d.unowned[email]; len(c) {
		case 0:
		case 1:
			adoptee = c[0]
		default:
			d.conflict(src, "email %q matches %d members with no owner", src.Email(), len(c))
			return
		}
	}
	if h := d.nameHolder(u.name, adoptee); h >= 0 {
		owner := d.obs[h].Owner
		switch {
		case owner == "":
			d.conflict(src, "user name %q belongs to a member with no owner and another email", src.UserName)
		case owner != d.opts.Owner || !d.opts.Recreated.Rekey || adoptee >= 0:
			d.conflict(src, "user name %q belongs to a member owned by %q", src.UserName, owner)
		default:
			if why := d.rekeyRefusal(src, h); why != "" {
				d.conflict(src, "user name %q belongs to a member owned by %q; not re-keyed (recreated_entries): %s", src.UserName, owner, why)
				return
			}
			d.rekey(ui, h)
		}
		return
	}
	u.valid = true
	if adoptee >= 0 {
		u.obs, d.matched[adoptee] = adoptee, true
		d.adopt(u, adoptee)
		return
	}
	// Provisions are many on a first run: kept compact until assemble.
	d.provisions = append(d.provisions, ui)
}

// index returns the index of the observed member with id.
func (d *differ) index(id string) (int32, bool) {
	if d.byID == nil {
		d.byID = make(map[string]int32, len(d.obs))
		for i := range d.obs {
			d.byID[d.obs[i].ID] = int32(i)
		}
	}
	i, ok := d.byID[id]
	return i, ok
}

// nameHolder returns the index of a member other than self that holds the
// folded user name, or -1.
func (d *differ) nameHolder(name string, self int32) int32 {
	if d.byName == nil {
		d.byName = make(map[string][]int32, len(d.obs))
		for i := range d.obs {
			f := orgsync.Fold(d.obs[i].UserName)
			d.byName[f] = append(d.byName[f], int32(i))
		}
	}
	for _, i := range d.byName[name] {
		if i != self {
			return i
		}
	}
	return -1
}

func describeOwner(owner string) string {
	if owner == "" {
		return "no owner"
	}
	return fmt.Sprintf("owned by %q", owner)
}

// adopt takes over an unowned member with the same email; the store sets
// its profile, owner and key, and a deprovisioned adoptee is reactivated in
// the same plan.
func (d *differ) adopt(u *user, i int32) {
	have := &d.obs[i]
	d.adopted[i] = true
	d.plan.Changes = append(d.plan.Changes, orgsync.Change{
		Action: orgsync.ActionAdopt, UserName: u.src.UserName, MemberID: have.ID, MemberKey: u.src.ExternalID,
		Fields: d.fields(have, u.src), Member: d.want(u.src, have.ID, have.Status),
		Reason: fmt.Sprintf("no owner, same email %q", u.src.Email()),
	})
	if have.Status == orgsync.StatusDeprovisioned {
		d.plan.Changes = append(d.plan.Changes, orgsync.Change{
			Action: orgsync.ActionReactivate, UserName: u.src.UserName, MemberID: have.ID,
			Member: d.want(u.src, have.ID, have.ReactivatedStatus()),
		})
	}
}

// diffOwned plans the changes of a desired user that has an owned member.
// A reactivation carries the profile changes too (the store applies both at
// once); otherwise they are an update.
func (d *differ) diffOwned(u *user, have *orgsync.Member) {
	f := d.fields(have, u.src)
	switch {
	case u.enabled && have.Status == orgsync.StatusDeprovisioned:
		d.plan.Changes = append(d.plan.Changes, orgsync.Change{
			Action: orgsync.ActionReactivate, UserName: u.src.UserName, MemberID: have.ID, Fields: f,
			Member: d.want(u.src, have.ID, have.ReactivatedStatus()),
		})
		return
	case !u.enabled && have.Status != orgsync.StatusDeprovisioned:
		d.plan.Changes = append(d.plan.Changes, orgsync.Change{
			Action: orgsync.ActionDeprovision, UserName: u.src.UserName, MemberID: have.ID,
			Reason: "disabled at the source",
		})
	}
	if f != nil {
		d.plan.Changes = append(d.plan.Changes, orgsync.Change{
			Action: orgsync.ActionUpdate, UserName: u.src.UserName, MemberID: have.ID, Fields: f,
			Member: d.want(u.src, have.ID, have.Status),
		})
	}
}

// deprovisionMissing suspends owned members the source no longer lists.
func (d *differ) deprovisionMissing() {
	for i := range d.obs {
		m := &d.obs[i]
		if d.matched[i] || m.Owner != d.opts.Owner || m.ExternalID == "" || m.Status == orgsync.StatusDeprovisioned || d.held[m.ExternalID] {
			continue
		}
		if d.heldNames != nil && d.heldNames[orgsync.Fold(m.UserName)] {
			continue // a held entry without a key may be this member's
		}
		d.plan.Changes = append(d.plan.Changes, orgsync.Change{
			Action: orgsync.ActionDeprovision, UserName: m.UserName, MemberID: m.ID,
			Reason: "gone from the source",
		})
	}
}

// want is the member a change sets: the source's attributes with the role
// resolved. Status is the status after the change.
func (d *differ) want(src *orgsync.Member, id string, status orgsync.Status) *orgsync.Member {
	m := &orgsync.Member{}
	d.fill(m, src, id, status, slices.Clone(src.Emails))
	return m
}

// fill sets m to the member a change sets (see want), with emails, a copy
// of the source's.
func (d *differ) fill(m *orgsync.Member, src *orgsync.Member, id string, status orgsync.Status, emails []orgsync.Email) {
	*m = orgsync.Member{
		ID: id, Org: d.opts.Org, UserName: src.UserName, ExternalID: src.ExternalID,
		Emails:    emails,
		GivenName: src.GivenName, FamilyName: src.FamilyName, DisplayName: src.DisplayName,
		Role: d.opts.role(src.Role), Status: status, Owner: d.opts.Owner,
	}
}

// fields names the attributes of have that differ from the source's, or nil.
func (d *differ) fields(have, src *orgsync.Member) map[string]orgsync.FieldChange {
	var f map[string]orgsync.FieldChange
	set := func(name, from, to string) {
		if from == to {
			return
		}
		if f == nil {
			f = map[string]orgsync.FieldChange{}
		}
		f[name] = orgsync.FieldChange{From: from, To: to}
	}
	set("user_name", have.UserName, src.UserName)
	if set("email", have.Email(), src.Email()); f["email"] == (orgsync.FieldChange{}) && !slices.Equal(have.Emails, src.Emails) {
		set("emails", emailList(have.Emails), emailList(src.Emails))
	}
	set("given_name", have.GivenName, src.GivenName)
	set("family_name", have.FamilyName, src.FamilyName)
	set("display_name", have.DisplayName, src.DisplayName)
	set("role", have.Role, d.opts.role(src.Role))
	return f
}

// emailList is the text of all addresses, the primary one marked.
func emailList(es []orgsync.Email) string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.Value)
		if e.Type != "" {
			b.WriteString(" (" + e.Type + ")")
		}
		if e.Primary {
			b.WriteString(" *")
		}
	}
	return b.String()
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
