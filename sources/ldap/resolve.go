package ldap

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/cespare/xxhash/v2"

	"github.com/orgsync/orgsync"
)

// snapshot turns what was read into the Snapshot: nested groups linked,
// require_group and role_map applied, entries that cannot be used held
// (Snapshot.HeldUsers, HeldGroups), duplicates kept and warned about for
// the reconciler to hold. An entry with neither id nor name fails it.
func (r *reader) snapshot() (orgsync.Snapshot, error) {
	r.link()
	r.warnDuplicateUsers()
	r.warnDuplicateGroups()
	byGroupDN := make(map[string]int32, len(r.groups))
	for i := range r.groups {
		byGroupDN[r.groups[i].dn] = int32(i)
	}
	if r.cfg.Group.Nested {
		for i := range r.groups {
			g := &r.groups[i]
			for _, dn := range g.other {
				if j, ok := byGroupDN[dn]; ok && j != int32(i) {
					g.subs = append(g.subs, j)
				}
			}
			g.other = nil
		}
	}

	inScope := make([]bool, len(r.users))
	for i := range r.users {
		inScope[i] = true
	}
	if dn := r.cfg.RequireGroup; dn != "" {
		gi, ok := byGroupDN[normDN(dn)]
		if !ok {
			return orgsync.Snapshot{}, fmt.Errorf("ldap.require_group: group %q is not among the groups read from ldap.group.base_dn with ldap.group.filter: %w", dn, orgsync.ErrNotFound)
		}
		required := r.closure(gi)
		for i := range inScope {
			inScope[i] = inScope[i] && required[int32(i)]
		}
	}
	roles, err := r.roles()
	if err != nil {
		return orgsync.Snapshot{}, err
	}

	snap := orgsync.Snapshot{Warnings: r.warnings}
	r.inScope, r.roleOf = inScope, roles
	if snap.Members, snap.HeldUsers, r.disabledCount, err = r.members(inScope, roles, !r.partial); err != nil {
		return orgsync.Snapshot{}, err
	}
	if err := r.groupsOf(&snap, inScope); err != nil {
		return orgsync.Snapshot{}, err
	}
	sort.Slice(snap.Members, func(i, j int) bool { return snap.Members[i].UserName < snap.Members[j].UserName })
	sort.Slice(snap.HeldUsers, func(i, j int) bool { return snap.HeldUsers[i].Ref < snap.HeldUsers[j].Ref })
	return snap, nil
}

// snapGroups is what a snapshot made of the groups: a Source that keeps
// its state (KeepDecodedState) keeps it with the state, and the next
// read's snapshot takes it as it is while nothing it depends on changed
// (see groupsOf). Read only: two Snapshots may share it.
type snapGroups struct {
	groups []orgsync.Group     // Snapshot.Groups, sorted
	held   []orgsync.HeldEntry // Snapshot.HeldGroups, sorted
	// digest and gheld are each group's digest and hold, by index.
	digest []uint64
	gheld  []string
	// member says, by user index, whether a group lists the user: in
	// scope (require_group) and not held.
	member []bool
	// order is the index of the group each of groups was made of (nil:
	// unknown, as for groups that share a DN).
	order []int32
}

// groupsOf sets snap's Groups and HeldGroups and each group's digest and
// hold. It takes them from the kept read's (r.keptGroups) when the groups
// and the users are that read's (storedDigestsHold: the same keys and
// DNs in the same places, no group changed, so link resolved the same
// members and subgroups) and every user is a member of what it was a
// member of then; a group's part of the Snapshot depends on nothing
// else. Otherwise it builds them.
func (r *reader) groupsOf(snap *orgsync.Snapshot, inScope []bool) error {
	member := make([]bool, len(r.users))
	for i := range r.users {
		member[i] = inScope[i] && r.users[i].held == ""
	}
	if k := r.keptGroups; k != nil && len(k.digest) == len(r.groups) && slices.Equal(k.member, member) && (r.reuse || r.storedDigestsHold()) {
		snap.Groups, snap.HeldGroups = k.groups, k.held
		for gi := range r.groups {
			r.groups[gi].digest, r.groups[gi].held = k.digest[gi], k.gheld[gi]
		}
		r.snapGroups, r.groupsKept = k, true
		return nil
	}
	snap.Groups = make([]orgsync.Group, 0, len(r.groups))
	for gi := range r.groups {
		g := &r.groups[gi]
		if g.held == "" {
			// A held group without an id cannot be named as a subgroup:
			// without its members, this group's would be too few.
			for _, gi := range g.subs {
				if sub := &r.groups[gi]; sub.id == "" {
					g.held = fmt.Sprintf("nests the group %q, which is held (%s)", sub.dn, sub.held)
					break
				}
			}
		}
		if g.held != "" {
			if g.id == "" && g.name == "" {
				return fmt.Errorf("group %q: %s, and no %s (ldap.group.name_attribute) either: the entry names no group, so none can be kept for it; nothing was synced: %w",
					g.dn, g.held, r.cfg.Group.NameAttribute, orgsync.ErrInvalid)
			}
			h := orgsync.HeldEntry{Key: g.id, Name: g.name, Ref: fmt.Sprintf("group %q", g.dn), DN: g.dn, Reason: g.held}
			g.digest = r.digest.held(&h)
			snap.HeldGroups = append(snap.HeldGroups, h)
			continue
		}
		og := orgsync.Group{ExternalID: g.id, DisplayName: g.name, DN: g.dn}
		for _, ui := range g.users {
			if member[ui] {
				og.Members = append(og.Members, r.users[ui].id)
			}
		}
		// Held subgroups are named too: the reconciler holds this group
		// for them.
		for _, gi := range g.subs {
			og.Subgroups = append(og.Subgroups, r.groups[gi].id)
		}
		og.Members, og.Subgroups = sortedUnique(og.Members), sortedUnique(og.Subgroups)
		g.digest = r.digest.group(&og)
		snap.Groups = append(snap.Groups, og)
	}
	sort.Slice(snap.Groups, func(i, j int) bool { return snap.Groups[i].DisplayName < snap.Groups[j].DisplayName })
	sort.Slice(snap.HeldGroups, func(i, j int) bool { return snap.HeldGroups[i].Ref < snap.HeldGroups[j].Ref })
	k := &snapGroups{groups: snap.Groups, held: snap.HeldGroups, member: member, order: groupOrder(r.groups, snap.Groups)}
	if r.s.keep {
		k.digest, k.gheld = make([]uint64, len(r.groups)), make([]string, len(r.groups))
		for gi := range r.groups {
			k.digest[gi], k.gheld[gi] = r.groups[gi].digest, r.groups[gi].held
		}
	}
	r.snapGroups = k
	return nil
}

// groupOrder returns, for each of the Snapshot's groups, the index of the
// group it was made of (by DN); nil when two groups share a DN.
func groupOrder(groups []group, made []orgsync.Group) []int32 {
	byDN := make(map[string]int32, len(groups))
	for gi := range groups {
		if _, dup := byDN[groups[gi].dn]; dup {
			return nil
		}
		byDN[groups[gi].dn] = int32(gi)
	}
	order := make([]int32, len(made))
	for k := range made {
		order[k] = byDN[made[k].DN]
	}
	return order
}

var _ orgsync.RestGroups = (*rest)(nil)

// GroupsOf restricts the Snapshot's groups to the users at places by
// their indexes (a group's users, as link resolved them), not their keys:
// some 200k member keys at 100k users looked up one by one. Only where an
// index names one key (no warning, so no key shared: warnDuplicateUsers).
func (x *rest) GroupsOf(places []int) ([]orgsync.Group, bool) {
	r := x.r
	k := r.snapGroups
	if len(r.warnings) > 0 || k == nil || k.order == nil || len(k.order) != len(x.snap.Groups) {
		return nil, false
	}
	in := make([]bool, len(r.users))
	for _, p := range places {
		if p < 0 || p >= len(in) || !k.member[p] {
			return nil, false
		}
		in[p] = true
	}
	out := make([]orgsync.Group, len(x.snap.Groups))
	var kept []string // one array for every group's members
	for n, gi := range k.order {
		out[n] = x.snap.Groups[n]
		from := len(kept)
		for _, ui := range r.groups[gi].users {
			if in[ui] {
				kept = append(kept, r.users[ui].id)
			}
		}
		ms := sortedUnique(kept[from:])
		kept = kept[:from+len(ms)]
		out[n].Members = kept[from:len(kept):len(kept)]
	}
	return out, true
}

// closure returns the users that are members of group gi, directly or
// (when nested) through member groups; cycles end the walk, not the read.
func (r *reader) closure(gi int32) map[int32]bool {
	users := map[int32]bool{}
	seen := map[int32]bool{gi: true}
	stack := []int32{gi}
	for len(stack) > 0 {
		g := &r.groups[stack[len(stack)-1]]
		stack = stack[:len(stack)-1]
		for _, u := range g.users {
			users[u] = true
		}
		for _, s := range g.subs {
			if !seen[s] {
				seen[s] = true
				stack = append(stack, s)
			}
		}
	}
	return users
}

// roles maps user indexes to their role from role_map. A user in several
// mapped groups gets RoleAdmin if one of them says so, else the first role
// by name: deterministic, and never less than admin by accident.
func (r *reader) roles() (map[int32]string, error) {
	out := map[int32]string{}
	byGroupDN := make(map[string]int32, len(r.groups))
	for i := range r.groups {
		byGroupDN[r.groups[i].dn] = int32(i)
	}
	for _, dn := range sortedKeys(r.cfg.RoleMap) {
		role := strings.TrimSpace(r.cfg.RoleMap[dn])
		gi, ok := byGroupDN[normDN(dn)]
		if !ok {
			return nil, fmt.Errorf("ldap.role_map: group %q is not among the groups read from ldap.group.base_dn with ldap.group.filter: %w", dn, orgsync.ErrNotFound)
		}
		for u := range r.closure(gi) {
			cur, has := out[u]
			switch {
			case !has, role == orgsync.RoleAdmin:
				out[u] = role
			case cur != orgsync.RoleAdmin && role < cur:
				out[u] = role
			}
		}
	}
	return out, nil
}

var dupHash = xxhash.Sum64String // a variable for tests (collisions)

// parallelMin is the fewest users whose members are built in two halves
// at once (a variable for tests).
var parallelMin = 2000

// members builds the Snapshot's members and held users of the users in
// scope, in the users' order, and sets every user's digest; with whole
// false it builds the held users alone and each member only to take its
// digest (a partial Snapshot: see rest), counting the members and the
// deprovisioned ones. Two halves of the users are built at once (a 100k
// directory's members are most of an incremental read's work) into their
// places of one array; the first failing user in the users' order fails
// it.
func (r *reader) members(inScope []bool, roles map[int32]string, whole bool) (members []orgsync.Member, held []orgsync.HeldEntry, disabled int, err error) {
	var nMembers, nHeld, nDisabled [2]int
	mid := len(r.users) / 2
	if len(r.users) < parallelMin {
		mid = len(r.users) // not worth a goroutine
	}
	nEmails := 0
	var kept []bool // the users whose stored digest stands: a partial build only
	if !whole {
		kept = r.keptDigests(inScope)
	}
	for i := range r.users {
		if kept != nil && kept[i] {
			nMembers[0]++ // in scope and not held: a member, counted
			continue
		}
		r.users[i].digest = 0
		half := 0
		if i >= mid {
			half = 1
		}
		switch {
		case !inScope[i]:
		case r.users[i].held != "":
			nHeld[half]++
		default:
			nMembers[half]++
			if r.users[i].email != "" {
				nEmails++
			}
		}
	}
	var emails []orgsync.Email // one array for every member's one email
	if whole {
		members = make([]orgsync.Member, nMembers[0]+nMembers[1])
		emails = make([]orgsync.Email, nEmails)
	} else {
		members = make([]orgsync.Member, 0) // a count without the members
	}
	if nHeld[0]+nHeld[1] > 0 {
		held = make([]orgsync.HeldEntry, nHeld[0]+nHeld[1])
	}
	var errs [2]error
	build := func(half, from, to int, d *digest) {
		mi, hi, ei := 0, 0, 0
		if half == 1 {
			mi, hi = nMembers[0], nHeld[0]
			for i := 0; whole && i < from; i++ {
				if inScope[i] && r.users[i].held == "" && r.users[i].email != "" {
					ei++
				}
			}
		}
		var scratch orgsync.Member
		var scratchEmail [1]orgsync.Email
		for i := from; i < to; i++ {
			if !inScope[i] {
				continue
			}
			u := &r.users[i]
			if kept != nil && kept[i] {
				if u.disabled {
					nDisabled[half]++
				}
				continue // its stored digest holds
			}
			if u.held != "" {
				if u.id == "" && u.name == "" {
					errs[half] = fmt.Errorf("user %q: %s, and no %s (ldap.user.user_name_attribute) either: the entry names no member, so none can be kept for it; nothing was synced: %w",
						u.dn, u.held, r.cfg.User.UserNameAttribute, orgsync.ErrInvalid)
					return
				}
				h := &held[hi]
				hi++
				*h = orgsync.HeldEntry{Key: u.id, Name: u.name, Email: u.email, Ref: fmt.Sprintf("user %q", u.dn), DN: u.dn, Reason: u.held}
				if u.disabled {
					h.Status = orgsync.StatusDeprovisioned // disabled all the same: suspended
				}
				u.digest = d.held(h)
				continue
			}
			m := &scratch
			if whole {
				m = &members[mi]
				mi++
			}
			var email []orgsync.Email
			if u.email != "" {
				email = scratchEmail[:]
				if whole {
					email = emails[ei : ei+1 : ei+1]
					ei++
				}
			}
			r.fillMember(m, i, roles, email)
			if m.Status == orgsync.StatusDeprovisioned {
				nDisabled[half]++
			}
			u.digest = d.member(m)
		}
	}
	if mid < len(r.users) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			var d digest
			build(1, mid, len(r.users), &d)
		}()
		build(0, 0, mid, &r.digest)
		<-done
	} else {
		build(0, 0, len(r.users), &r.digest)
	}
	if errs[0] != nil {
		return nil, nil, 0, errs[0]
	}
	if errs[1] != nil {
		return nil, nil, 0, errs[1]
	}
	return members, held, nDisabled[0] + nDisabled[1], nil
}

// fillMember sets *m to the member the user i becomes, with email (the
// user's one email, of one element, or nil) as its Emails.
func (r *reader) fillMember(m *orgsync.Member, i int, roles map[int32]string, email []orgsync.Email) {
	u := &r.users[i]
	*m = orgsync.Member{
		ExternalID: u.id, UserName: u.name,
		GivenName: u.given, FamilyName: u.family, DisplayName: u.display,
		Role: roles[int32(i)], Status: orgsync.StatusActive, DN: u.dn, Attributes: r.document(u.extra),
	}
	if email != nil {
		email[0] = orgsync.Email{Value: u.email, Type: "work", Primary: true}
		m.Emails = email
	}
	if u.disabled {
		m.Status = orgsync.StatusDeprovisioned
	}
}

// rest is the orgsync.Rest of a partial Snapshot: the reader's users,
// whose members are built when asked for, as snapshot builds them.
type rest struct {
	r                 *reader
	snap              orgsync.Snapshot // the partial Snapshot
	members, disabled int
}

var _ orgsync.Rest = (*rest)(nil)

// newRest is the Rest of snap, the partial Snapshot snapshot just built.
func (r *reader) newRest(snap orgsync.Snapshot) *rest {
	x := &rest{r: r, snap: snap, disabled: r.disabledCount}
	for i := range r.users {
		if r.inScope[i] && r.users[i].held == "" {
			x.members++
		}
	}
	return x
}

// Members builds the members under keys; their places are the users'
// indexes (the whole Snapshot's members are in the users' order).
func (x *rest) Members(keys []string) ([]orgsync.Member, []int) {
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	var out []orgsync.Member
	var places []int
	for i := range x.r.users {
		if u := &x.r.users[i]; x.r.inScope[i] && u.held == "" && want[u.id] {
			var m orgsync.Member
			var email []orgsync.Email
			if u.email != "" {
				email = make([]orgsync.Email, 1)
			}
			x.r.fillMember(&m, i, x.r.roleOf, email)
			out = append(out, m)
			places = append(places, i)
		}
	}
	return out, places
}

// Counts counts the whole Snapshot's members and the deprovisioned ones.
func (x *rest) Counts() (members, disabled int) { return x.members, x.disabled }

// Whole builds every member.
func (x *rest) Whole() (orgsync.Snapshot, error) {
	members, _, _, err := x.r.members(x.r.inScope, x.r.roleOf, true)
	if err != nil {
		return orgsync.Snapshot{}, err
	}
	snap := x.snap
	snap.Members = members
	return snap, nil
}

// warnDuplicateUsers warns about every id or folded user name that several
// users share. They are all kept: the reconciler holds them as conflicts,
// with the member of each, which dropping them would deprovision.
//
// The keys are compared by hash first (see warnDups). A daemon's read whose
// users are those of the kept state, in its order, takes the hashes of
// the users whose record did not change from the kept read's (keptDups),
// and keeps its own for the next (dups).
func (r *reader) warnDuplicateUsers() {
	if len(r.users) >= 1<<dupIdxBits {
		r.warnDupKeys(len(r.users), func(i int) (string, string, string) { u := &r.users[i]; return u.id, u.name, u.dn },
			"user name", "ldap.user.id_attribute", "ldap.user.user_name_attribute")
		return
	}
	d := &userHashes{ids: make([]uint64, len(r.users)), names: make([]uint64, len(r.users))}
	k := r.keptDups
	if k != nil && (len(k.ids) != len(r.users) || !r.asStored) {
		k = nil
	}
	for i := range r.users {
		u := &r.users[i]
		if k != nil && u.at != 0 { // the kept read's record: the same keys
			d.ids[i], d.names[i] = k.ids[i], k.names[i]
			continue
		}
		d.ids[i], d.names[i] = keyHash(u.id), keyHash(orgsync.Fold(u.name))
	}
	if r.s.keep {
		r.dups = d
	}
	at := func(i int) string { return r.users[i].dn }
	r.warnDupHashes(d.ids, func(i int) string { return r.users[i].id }, at, "id", "ldap.user.id_attribute")
	r.warnDupHashes(d.names, func(i int) string { return orgsync.Fold(r.users[i].name) }, at, "user name", "ldap.user.user_name_attribute")
}

// userHashes are the users' key hashes of a duplicate check (keyHash of
// the id and of the folded user name), by user index.
type userHashes struct{ ids, names []uint64 }

// keyHash is a key's hash for warnDupHashes: dupHash with its lowest bit
// set, 0 for the empty key (which is no duplicate of another).
func keyHash(k string) uint64 {
	if k == "" {
		return 0
	}
	return dupHash(k) | 1
}

// warnDuplicateGroups does the same for groups by id and folded name.
func (r *reader) warnDuplicateGroups() {
	r.warnDupKeys(len(r.groups), func(i int) (string, string, string) { g := &r.groups[i]; return g.id, g.name, g.dn },
		"name", "ldap.group.id_attribute", "ldap.group.name_attribute")
}

// warnDupKeys warns about every id and every folded name that several of
// n entries share; entry gives an entry's id, name and DN, and the
// other arguments name the name and the two attributes in the warnings.
func (r *reader) warnDupKeys(n int, entry func(int) (id, name, dn string), nameWhat, idAttr, nameAttr string) {
	ids := make([]string, n)
	names := make([]string, n)
	for i := range n {
		id, name, _ := entry(i)
		ids[i], names[i] = id, orgsync.Fold(name)
	}
	at := func(i int) string { _, _, dn := entry(i); return dn }
	r.warnDups(ids, at, "id", idAttr)
	r.warnDups(names, at, nameWhat, nameAttr)
}

// warnDups warns about every non-empty key several entries share. The
// keys are sorted by their xxHash64 (its top bits, with the entry's index
// in the low ones: one slice of integers, a fraction of a map of strings
// at 100k entries), and only entries whose hashes agree are compared by
// key. The common case (no duplicate) allocates the one slice.
func (r *reader) warnDups(keys []string, dnAt func(int) string, what, key string) {
	if len(keys) >= 1<<dupIdxBits {
		r.warnDupsByMap(keys, dnAt, what, key)
		return
	}
	hashes := make([]uint64, len(keys))
	for i, k := range keys {
		hashes[i] = keyHash(k)
	}
	r.warnDupHashes(hashes, func(i int) string { return keys[i] }, dnAt, what, key)
}

// dupIdxBits is how many low bits of a tagged hash hold the entry's index.
const dupIdxBits = 24

// warnDupHashes is warnDups with the keys' hashes (keyHash, by entry
// index; fewer than 1<<dupIdxBits) given, and the keys read only for the
// entries whose hashes agree.
func (r *reader) warnDupHashes(hashes []uint64, keyAt func(int) string, dnAt func(int) string, what, key string) {
	const idxBits = dupIdxBits
	tagged := make([]uint64, 0, len(hashes))
	for i, h := range hashes {
		if h != 0 {
			tagged = append(tagged, h&^(1<<idxBits-1)|uint64(i))
		}
	}
	tagged = sharedTops(tagged, idxBits)
	slices.Sort(tagged)
	var dups map[string][]int
	for a := 0; a < len(tagged); {
		b := a + 1
		for b < len(tagged) && tagged[b]>>idxBits == tagged[a]>>idxBits {
			b++
		}
		if b-a > 1 {
			// Entries sharing the hash's top bits, in index order (the low
			// bits): group them by key.
			grouped := make([]bool, b-a)
			for x := a; x < b; x++ {
				if grouped[x-a] {
					continue
				}
				i := int(tagged[x] & (1<<idxBits - 1))
				k := keyAt(i)
				var same []int
				for y := x + 1; y < b; y++ {
					if j := int(tagged[y] & (1<<idxBits - 1)); !grouped[y-a] && keyAt(j) == k {
						same = append(same, j)
						grouped[y-a] = true
					}
				}
				if len(same) > 0 {
					if dups == nil {
						dups = map[string][]int{}
					}
					dups[k] = append([]int{i}, same...)
				}
			}
		}
		a = b
	}
	r.warnEach(dups, dnAt, what, key)
}

// sharedTops returns the tagged values (a hash's top bits over an index
// in the low idxBits) whose top bits another value has too: the only ones
// that can be duplicates. An open-addressing set of the top bits finds
// them in one pass, where sorting all of a 100k directory's took most of
// the duplicate check; the few shared ones are then sorted and grouped.
func sharedTops(tagged []uint64, idxBits uint) []uint64 {
	bits := uint(1)
	for 1<<bits < 2*len(tagged) {
		bits++
	}
	table := make([]uint64, 1<<bits)
	mask := uint64(len(table) - 1)
	var shared map[uint64]bool
	for _, t := range tagged {
		top := t>>idxBits + 1 // 0 marks an empty slot
		for h := (top * 0x9e3779b97f4a7c15) >> (64 - bits); ; h = (h + 1) & mask {
			if table[h] == 0 {
				table[h] = top
				break
			}
			if table[h] == top {
				if shared == nil {
					shared = map[uint64]bool{}
				}
				shared[top] = true
				break
			}
		}
	}
	out := tagged[:0]
	for _, t := range tagged {
		if shared[t>>idxBits+1] {
			out = append(out, t)
		}
	}
	return out
}

// warnDupsByMap is warnDups for more entries than an index tag holds.
func (r *reader) warnDupsByMap(keys []string, dnAt func(int) string, what, key string) {
	first := make(map[string]int32, len(keys))
	var dups map[string][]int
	for i, k := range keys {
		if k == "" {
			continue
		}
		j, seen := first[k]
		if !seen {
			first[k] = int32(i)
			continue
		}
		if dups == nil {
			dups = map[string][]int{}
		}
		if dups[k] == nil {
			dups[k] = []int{int(j)}
		}
		dups[k] = append(dups[k], i)
	}
	r.warnEach(dups, dnAt, what, key)
}

// warnEach warns about each shared key of dups, with its entries.
func (r *reader) warnEach(dups map[string][]int, dnAt func(int) string, what, key string) {
	for _, k := range sortedKeys(dups) {
		idx := dups[k]
		dns := make([]string, len(idx))
		for n, i := range idx {
			dns[n] = fmt.Sprintf("%q", dnAt(i))
		}
		r.warn("entries %s share the %s %q (%s): all kept, for the reconciler to hold", strings.Join(dns, ", "), what, k, key)
	}
}

func sortedUnique(s []string) []string {
	if len(s) < 2 {
		return s
	}
	sort.Strings(s)
	out := s[:1]
	for _, v := range s[1:] {
		if v != out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}

// storedDigestsHold reports whether the digest a user decoded from the
// stored state carries is still that of the member it becomes when its
// record did not change: the same users in the same places (keys and
// DNs), and no group changed. A member's digest depends on its own
// record, its role and require_group's reach (the groups and the users'
// DNs), its disabled verdict (in the record, but for AD's accountExpires,
// which keptDigests leaves out) and its manager's key, name and hold
// (keptDigests recomputes those whose manager changed). memberUid groups
// (uid_attribute) resolve by a value the stored entries do not keep: no
// reuse there.
func (r *reader) storedDigestsHold() bool {
	if !r.usersAsStored() || len(r.groups) != len(r.stored.groups) {
		return false
	}
	for i := range r.groups {
		if r.groups[i].at == 0 {
			return false
		}
	}
	for i := range r.users {
		if r.users[i].id != r.stored.users[i].id {
			return false
		}
	}
	return true
}

// keptDigests says, by user index, whose stored digest stands (nil: none;
// see storedDigestsHold): a user in scope and not held whose record did
// not change, with a digest, no accountExpires, and no manager among the
// changed users.
func (r *reader) keptDigests(inScope []bool) []bool {
	if !r.reuse {
		return nil
	}
	changed := map[string]bool{}
	for i := range r.users {
		if r.users[i].at == 0 {
			changed[r.users[i].dn] = true
		}
	}
	kept := make([]bool, len(r.users))
	r.kept = 0
	for i := range r.users {
		u := &r.users[i]
		kept[i] = u.at != 0 && inScope[i] && u.held == "" && u.digest != 0 && u.expires == "" &&
			(u.extra == nil || !changed[u.extra.managerDN])
		if kept[i] {
			r.kept++
		}
	}
	return kept
}
