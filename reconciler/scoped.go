package reconciler

import (
	"context"
	"fmt"
	"slices"

	"github.com/orgsync/orgsync"
)

// ScopeReader is implemented by stores that can read the part of an org a
// scoped plan needs (see scopedPlan) instead of the whole org.
type ScopeReader interface {
	// ReadScope calls fn with one consistent read-only view of org; the
	// view is not valid after fn returns.
	ReadScope(ctx context.Context, org string, fn func(orgsync.ScopeTx) error) error
}

// scopedPlan computes the plan of a run whose source read says what
// changed (scope) while the org was settled at the cursor: the last plan
// of the job was applied whole and clean (no conflict, held entry or
// warning), and nothing has written to the store since. Then every user
// and group the scope does not reach plans nothing, and Diff over the part
// it reaches, with the counts of the whole org, is the full plan.
//
// The part reached: the desired users the scope lists, those of the
// changed groups and of the groups nesting them, and, until nothing more
// is found, the observed members sharing a key, folded user name or email
// with one of them, and the desired users sharing one with those. Every
// group is diffed (names, creations, deletions), with its desired members
// as listed, and its observed members restricted to the members read
// (all of them for the changed groups): a membership of a user outside
// the part is unchanged, and plans nothing either way.
//
// The owner's counts (Plan.Owned, Plan.OwnedMemberships) are those the
// settled cursor kept when it has them (counts set and Counted), else
// counted in the store.
//
// ok is false when the scoped plan cannot be trusted to be the full one:
// the desired state holds entries back or carries warnings, or the plan
// found a conflict. The caller then diffs the whole org.
//
// With rest (a partial Snapshot: orgsync.Read.Rest), the desired users are
// taken from rest by key alone: a desired user outside the scope is as the
// cursor's Snapshot had it, and so as the store has its member (settled);
// a name or email it shares with the part finds that member in the store,
// whose key then brings the desired user. The part, and the plan, are the
// same.
func scopedPlan(tx orgsync.ScopeTx, desired orgsync.Snapshot, rest orgsync.Rest, scope *orgsync.Scope, counts *orgsync.Settled, opts Options) (p orgsync.Plan, ok bool, err error) {
	if len(desired.HeldUsers)+len(desired.HeldGroups)+len(desired.Warnings) > 0 {
		return orgsync.Plan{}, false, nil
	}
	groups, err := tx.Groups()
	if err != nil {
		return orgsync.Plan{}, false, err
	}
	part := newScopePart(desired, rest, scope)
	fullGroups := part.changedGroups(groups, opts.Owner)
	ms, err := tx.Memberships(fullGroups, nil)
	if err != nil {
		return orgsync.Plan{}, false, err
	}
	for _, ids := range ms {
		part.addIDs(ids)
	}
	var members []orgsync.Member
	for {
		keys, folded, ids := part.pending()
		if len(keys)+len(folded)+len(ids) == 0 {
			break
		}
		found, err := tx.Members(opts.Owner, keys, folded, ids)
		if err != nil {
			return orgsync.Plan{}, false, err
		}
		for i := range found {
			if part.observe(&found[i], opts.Owner) {
				members = append(members, found[i])
			}
		}
		part.selectDesired()
	}
	ids := make([]string, len(members))
	for i := range members {
		ids[i] = members[i].ID
	}
	if ms, err = tx.Memberships(fullGroups, ids); err != nil {
		return orgsync.Plan{}, false, err
	}
	for i := range groups {
		groups[i].Members = ms[groups[i].ID]
	}
	var owned, memberships int
	if counts != nil && counts.Counted {
		owned, memberships = counts.Owned, counts.OwnedMemberships
	} else if owned, memberships, err = tx.Owned(opts.Owner); err != nil {
		return orgsync.Plan{}, false, err
	}
	sel := part.selected()
	sub := orgsync.Snapshot{Members: sel, Groups: part.restrictedGroups(sel)}
	p = Diff(sub, orgsync.Snapshot{Members: members, Groups: groups}, opts)
	if len(p.Conflicts) > 0 || len(p.Warnings) > 0 || p.Held != (orgsync.HeldCount{}) {
		return orgsync.Plan{}, false, nil
	}
	if rest != nil {
		p.Read, p.Disabled = rest.Counts()
	} else {
		p.Read, p.Disabled = len(desired.Members), 0
		for i := range desired.Members {
			if desired.Members[i].Status == orgsync.StatusDeprovisioned {
				p.Disabled++
			}
		}
	}
	p.Owned, p.OwnedMemberships = owned, memberships
	return p, true, nil
}

// restrictMembers returns groups with only the members among users: Diff
// adds a group's member only when it is one of the desired users it is
// given, so the others are left out before rather than looked up one by
// one (a 100k directory's groups name some 200k members, a scoped plan's
// part a thousand). Nesting is flattened over the same members.
func restrictMembers(groups []orgsync.Group, users []orgsync.Member) []orgsync.Group {
	keys := make(map[string]struct{}, len(users))
	for i := range users {
		keys[users[i].ExternalID] = struct{}{}
	}
	out := make([]orgsync.Group, len(groups))
	var kept []string // one array for every group's members
	for i := range groups {
		out[i] = groups[i]
		from := len(kept)
		for _, k := range groups[i].Members {
			if _, ok := keys[k]; ok {
				kept = append(kept, k)
			}
		}
		out[i].Members = kept[from:len(kept):len(kept)]
	}
	return out
}

// restrictedGroups returns the desired groups with only the members among
// sel (the selected users): from the Rest when it can give them by the
// users' places (orgsync.RestGroups), by key otherwise.
func (p *scopePart) restrictedGroups(sel []orgsync.Member) []orgsync.Group {
	if rg, ok := p.rest.(orgsync.RestGroups); ok {
		if gs, ok := rg.GroupsOf(p.places); ok {
			return gs
		}
	}
	return restrictMembers(p.groups, sel)
}

// scopePart is the part of an org a scoped plan reaches, grown until it is
// closed: every key, folded name and email and member ID seen is looked up
// in the store once, and every desired user sharing one is selected.
type scopePart struct {
	desired []orgsync.Member
	groups  []orgsync.Group
	scope   *orgsync.Scope
	// rest, when set, gives the desired users by key (desired holds those
	// taken, all selected, and places their places in the whole
	// Snapshot); asked holds the keys asked for.
	rest   orgsync.Rest
	places []int
	asked  map[string]bool

	keys, folded, ids map[string]bool // seen; false: not looked up yet
	sel               []bool          // by index in desired
	seenMember        map[string]bool

	// grown: keys or folded values were added since the desired users
	// were last scanned; scans counts the scans.
	grown bool
	scans int
	// The desired users by key and by folded name and email, built only
	// once scanning has taken maxScans (a long chain of shared names), and
	// the keys and folded values already looked up there (folded ones
	// prefixed with a NUL).
	byKey, byFolded map[string][]int32
	visited         map[string]bool
}

// maxScans is how many times selectDesired scans the desired users before
// it indexes them instead: a scan costs no memory and a fraction of the
// index, and a part closes in two or three scans unless names and emails
// chain from user to user.
var maxScans = 8 // a variable for tests

func newScopePart(desired orgsync.Snapshot, rest orgsync.Rest, scope *orgsync.Scope) *scopePart {
	p := &scopePart{
		desired: desired.Members, groups: desired.Groups, scope: scope,
		keys: map[string]bool{}, folded: map[string]bool{}, ids: map[string]bool{},
		sel: make([]bool, len(desired.Members)), seenMember: map[string]bool{},
	}
	if rest != nil {
		p.rest, p.desired, p.sel, p.asked = rest, nil, nil, map[string]bool{}
	}
	for _, k := range scope.Users {
		p.addKey(k)
	}
	return p
}

func (p *scopePart) addKey(k string) {
	if _, ok := p.keys[k]; !ok && k != "" {
		p.keys[k], p.grown = false, true
	}
}

func (p *scopePart) addFolded(v string) {
	if _, ok := p.folded[v]; !ok && v != "" {
		p.folded[v], p.grown = false, true
	}
}

func (p *scopePart) addIDs(ids []string) {
	for _, id := range ids {
		if _, ok := p.ids[id]; !ok && id != "" {
			p.ids[id] = false
		}
	}
}

// changedGroups returns the IDs of the observed groups (owned by owner)
// that the scope lists or that nest one it lists, and selects the keys of
// their desired members. A listed group the store does not have yet is
// created with its members, which are selected too.
func (p *scopePart) changedGroups(observed []orgsync.Group, owner string) []string {
	if len(p.scope.Groups) == 0 {
		return nil
	}
	changed := map[string]bool{}
	for _, k := range p.scope.Groups {
		changed[k] = true
	}
	// Close over nesting: a group nesting a changed group changes too.
	for grew := true; grew; {
		grew = false
		for i := range p.groups {
			g := &p.groups[i]
			if changed[g.ExternalID] {
				continue
			}
			if slices.ContainsFunc(g.Subgroups, func(s string) bool { return changed[s] }) {
				changed[g.ExternalID], grew = true, true
			}
		}
	}
	flat := orgsync.Flatten(p.groups)
	for i := range p.groups {
		g := &p.groups[i]
		if !changed[g.ExternalID] {
			continue
		}
		for _, k := range g.Members {
			p.addKey(k)
		}
		for k := range flat[g.ExternalID] {
			p.addKey(k)
		}
	}
	var ids []string
	for i := range observed {
		if g := &observed[i]; g.Owner == owner && changed[g.ExternalID] {
			ids = append(ids, g.ID)
		}
	}
	return ids
}

// pending returns what has been seen but not looked up yet, and marks it
// looked up.
func (p *scopePart) pending() (keys, folded, ids []string) {
	take := func(m map[string]bool) []string {
		var out []string
		for v, done := range m {
			if !done {
				out = append(out, v)
				m[v] = true
			}
		}
		slices.Sort(out)
		return out
	}
	p.selectDesired()
	return take(p.keys), take(p.folded), take(p.ids)
}

// observe takes in a member the store returned; false when it was already
// in.
func (p *scopePart) observe(m *orgsync.Member, owner string) bool {
	if p.seenMember[m.ID] {
		return false
	}
	p.seenMember[m.ID] = true
	p.ids[m.ID] = true // in hand: not to be looked up by ID
	p.addFolded(orgsync.Fold(m.UserName))
	for _, e := range m.Emails {
		p.addFolded(orgsync.Fold(e.Value))
	}
	if m.Owner == owner {
		p.addKey(m.ExternalID)
	}
	return true
}

// selectDesired selects the desired users sharing a key, name or email
// with the part, and adds theirs, until no more are found.
func (p *scopePart) selectDesired() {
	if p.rest != nil {
		p.takeRest()
		return
	}
	for p.byKey == nil && p.grown {
		if p.scans == maxScans {
			p.index()
			break
		}
		p.scans++
		p.grown = false
		for i := range p.desired {
			if !p.sel[i] && p.reaches(&p.desired[i]) {
				p.take(i)
			}
		}
	}
	if p.byKey == nil {
		return
	}
	for {
		var next []int32
		for k := range p.keys {
			if !p.visited[k] {
				p.visited[k] = true
				next = append(next, p.byKey[k]...)
			}
		}
		for v := range p.folded {
			if !p.visited["\x00"+v] {
				p.visited["\x00"+v] = true
				next = append(next, p.byFolded[v]...)
			}
		}
		grew := false
		for _, i := range next {
			if !p.sel[i] {
				p.take(int(i))
				grew = true
			}
		}
		if !grew {
			return
		}
	}
}

// reaches reports whether the desired user m shares its key, folded name
// or an email with the part.
func (p *scopePart) reaches(m *orgsync.Member) bool {
	if _, ok := p.keys[m.ExternalID]; ok {
		return true
	}
	if _, ok := p.folded[orgsync.Fold(m.UserName)]; ok {
		return true
	}
	for _, e := range m.Emails {
		if _, ok := p.folded[orgsync.Fold(e.Value)]; ok {
			return true
		}
	}
	return false
}

// take selects the desired user i and adds its key, name and emails.
func (p *scopePart) take(i int) {
	p.sel[i] = true
	m := &p.desired[i]
	p.addKey(m.ExternalID)
	p.addFolded(orgsync.Fold(m.UserName))
	for _, e := range m.Emails {
		p.addFolded(orgsync.Fold(e.Value))
	}
}

// index maps the desired users' keys, folded names and emails to their
// indexes.
func (p *scopePart) index() {
	n := len(p.desired)
	p.byKey = make(map[string][]int32, n)
	p.byFolded = make(map[string][]int32, n)
	p.visited = map[string]bool{}
	for i := range p.desired {
		m, i := &p.desired[i], int32(i)
		p.byKey[m.ExternalID] = append(p.byKey[m.ExternalID], i)
		name := orgsync.Fold(m.UserName)
		p.byFolded[name] = append(p.byFolded[name], i)
		for _, e := range m.Emails {
			if v := orgsync.Fold(e.Value); v != "" && v != name {
				p.byFolded[v] = append(p.byFolded[v], i)
			}
		}
	}
}

// takeRest takes from rest the desired users under the keys seen and not
// asked for yet, selected.
func (p *scopePart) takeRest() {
	var keys []string
	for k := range p.keys {
		if !p.asked[k] {
			p.asked[k] = true
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return
	}
	slices.Sort(keys)
	ms, places := p.rest.Members(keys)
	for i := range ms {
		p.desired = append(p.desired, ms[i])
		p.sel = append(p.sel, false)
		p.places = append(p.places, places[i])
		p.take(len(p.desired) - 1)
	}
}

// selected returns the selected desired users, in the source's order.
func (p *scopePart) selected() []orgsync.Member {
	if p.rest != nil {
		order := make([]int, len(p.desired))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return p.places[a] - p.places[b] })
		out := make([]orgsync.Member, len(order))
		for n, i := range order {
			out[n] = p.desired[i]
		}
		return out
	}
	var out []orgsync.Member
	for i := range p.desired {
		if p.sel[i] {
			out = append(out, p.desired[i])
		}
	}
	return out
}

// SnapshotScope is an orgsync.ScopeTx over an org held whole in memory (observed,
// as Store.Observed returns it): for stores that keep the org in memory,
// and for tests.
func SnapshotScope(observed orgsync.Snapshot) orgsync.ScopeTx { return snapshotScope{observed} }

type snapshotScope struct{ s orgsync.Snapshot }

func (v snapshotScope) Members(owner string, keys, folded, ids []string) ([]orgsync.Member, error) {
	set := func(ss []string) map[string]bool {
		m := make(map[string]bool, len(ss))
		for _, s := range ss {
			m[s] = true
		}
		return m
	}
	k, f, id := set(keys), set(folded), set(ids)
	var out []orgsync.Member
	for _, m := range v.s.Members {
		hit := id[m.ID] || f[orgsync.Fold(m.UserName)] || (m.Owner == owner && m.ExternalID != "" && k[m.ExternalID])
		for _, e := range m.Emails {
			hit = hit || f[orgsync.Fold(e.Value)]
		}
		if hit {
			out = append(out, m)
		}
	}
	return out, nil
}

func (v snapshotScope) Groups() ([]orgsync.Group, error) {
	out := make([]orgsync.Group, len(v.s.Groups))
	for i, g := range v.s.Groups {
		g.Members, g.Subgroups = nil, nil
		out[i] = g
	}
	return out, nil
}

func (v snapshotScope) Memberships(groupIDs, memberIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, g := range v.s.Groups {
		all := slices.Contains(groupIDs, g.ID)
		for _, id := range g.Members {
			if all || slices.Contains(memberIDs, id) {
				out[g.ID] = append(out[g.ID], id)
			}
		}
	}
	return out, nil
}

func (v snapshotScope) Owned(owner string) (members, memberships int, err error) {
	for _, m := range v.s.Members {
		if m.Owner == owner && m.ExternalID != "" && m.Status != orgsync.StatusDeprovisioned && m.DeletedAt == nil {
			members++
		}
	}
	for _, g := range v.s.Groups {
		if g.Owner == owner && g.ExternalID != "" {
			memberships += len(g.Members)
		}
	}
	return members, memberships, nil
}

// planScoped plans rep from the part of the org the source's scope
// reaches (scopedPlan). ok is false when the run must diff the whole org
// instead: the scoped plan is not known to be the full one, or a guard
// blocks it (a blocked run is recorded with the full plan and its digests,
// so that it can be approved).
func (r *Runner) planScoped(ctx context.Context, job Job, sr ScopeReader, desired orgsync.Snapshot, rest orgsync.Rest, counts *orgsync.Settled, rep *Report) (ok bool, err error) {
	opts := Options{Org: job.Org, Owner: job.Name, DefaultRole: job.DefaultRole, Recreated: job.Recreated}
	var p orgsync.Plan
	err = sr.ReadScope(ctx, job.Org, func(tx orgsync.ScopeTx) error {
		var err error
		p, ok, err = scopedPlan(tx, desired, rest, rep.Read.Scope, counts, opts)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("reconciler: %s: read org %q: %w", job.Name, job.Org, err)
	}
	if !ok {
		return false, nil
	}
	guard := CheckGuards(p, p.Read, job.Guard) // no held users: the members read
	if guard.Blocked {
		return false, nil
	}
	rep.Plan, rep.Guard = p, guard
	rep.storeUnread = true
	rep.ProvisionedPending = plannedProvisions(&rep.Plan)
	rep.Read.Reason += fmt.Sprintf("; planned from the %d changed users and %d changed groups alone", len(rep.Read.Scope.Users), len(rep.Read.Scope.Groups))
	return true, nil
}
