package reconciler

import (
	"cmp"
	"slices"

	"github.com/orgsync/orgsync"
)

// memberOp is a planned membership change in compact form: the desired
// group's index and the user's (member_add: index in users; member_remove:
// index in obs). Plans of 100k members carry hundreds of thousands.
type memberOp struct{ group, i int32 }

// assemble returns the plan's changes in order: the other changes sorted,
// with provisions and membership changes (kept compact, and membership
// changes already in group and user name order) placed at their action's
// rank. The result is the order sortChanges gives.
func (d *differ) assemble() []orgsync.Change {
	others := d.plan.Changes
	order := changeOrder(others)
	out := make([]orgsync.Change, 0, len(others)+len(d.provisions)+len(d.adds)+len(d.removes))
	k := 0
	upTo := func(a orgsync.Action) {
		for ; k < len(order) && others[order[k]].Action.Rank() < a.Rank(); k++ {
			out = append(out, others[order[k]])
		}
	}
	upTo(orgsync.ActionProvision)
	out = d.appendProvisions(out)
	upTo(orgsync.ActionMemberAdd)
	for _, op := range d.adds {
		c, u := d.groupRefs[op.group], &d.users[op.i]
		c.Action, c.UserName = orgsync.ActionMemberAdd, u.src.UserName
		if u.obs < 0 {
			c.MemberKey = u.src.ExternalID
		} else {
			c.MemberID = d.obs[u.obs].ID
		}
		out = append(out, c)
	}
	for _, op := range d.removes {
		c, m := d.groupRefs[op.group], &d.obs[op.i]
		c.Action, c.UserName, c.MemberID = orgsync.ActionMemberRemove, m.UserName, m.ID
		out = append(out, c)
	}
	for ; k < len(order); k++ {
		out = append(out, others[order[k]])
	}
	return out
}

// appendProvisions appends the provision changes sorted by user name.
func (d *differ) appendProvisions(out []orgsync.Change) []orgsync.Change {
	ps := slices.Clone(d.provisions)
	d.sortUsers(ps)
	// One allocation for all the new members and one for their emails,
	// rather than two each.
	members := make([]orgsync.Member, len(ps))
	n := 0
	for _, i := range ps {
		n += len(d.users[i].src.Emails)
	}
	emails := make([]orgsync.Email, 0, n)
	for k, i := range ps {
		src := d.users[i].src
		start := len(emails)
		emails = append(emails, src.Emails...)
		d.fill(&members[k], src, "", orgsync.StatusPendingSetup, emails[start:len(emails):len(emails)])
		out = append(out, orgsync.Change{
			Action: orgsync.ActionProvision, UserName: src.UserName, MemberKey: src.ExternalID, Member: &members[k],
		})
	}
	return out
}

// sortUsers sorts user indices by folded user name, then user name and
// key: directly when they are few, else by their precomputed rank.
func (d *differ) sortUsers(us []int32) {
	if len(us) <= 32 {
		slices.SortFunc(us, d.compareUsers)
		return
	}
	rank := d.nameRank()
	slices.SortFunc(us, func(a, b int32) int { return cmp.Compare(rank[a], rank[b]) })
}

func (d *differ) compareUsers(a, b int32) int {
	x, y := &d.users[a], &d.users[b]
	return cmp.Or(cmp.Compare(x.name, y.name), cmp.Compare(x.src.UserName, y.src.UserName), cmp.Compare(x.src.ExternalID, y.src.ExternalID))
}

// nameRank returns every user's position in compareUsers order, computed
// once: sorting integers is far cheaper than comparing names scattered in
// memory, group after group.
func (d *differ) nameRank() []int32 {
	if d.rank != nil {
		return d.rank
	}
	type item struct {
		name string
		i    int32
	}
	items := make([]item, len(d.users))
	for i := range d.users {
		items[i] = item{d.users[i].name, int32(i)}
	}
	slices.SortFunc(items, func(x, y item) int {
		if c := cmp.Compare(x.name, y.name); c != 0 {
			return c
		}
		return d.compareUsers(x.i, y.i)
	})
	d.rank = make([]int32, len(d.users))
	for r, it := range items {
		d.rank[it.i] = int32(r)
	}
	return d.rank
}

// removable reports whether the plan may take observed member i out of an
// owned group: only an owned (or adopted) member that is enabled at the
// source and not in conflict. Memberships of suspended members are frozen.
func (d *differ) removable(i int32) bool {
	m := &d.obs[i]
	if m.Owner != d.opts.Owner {
		return d.adopted[i] // adopted users are enabled at the source
	}
	ui, ok := d.userIdx[m.ExternalID]
	return ok && d.users[ui].valid && d.users[ui].enabled && d.users[ui].obs == i
}
