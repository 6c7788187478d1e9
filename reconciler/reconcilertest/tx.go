package reconcilertest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/orgsync/orgsync"
)

type memTx struct {
	*Store
	p       orgsync.Plan
	out     *orgsync.Applied
	members map[string]*orgsync.Member
	groups  map[string]*orgsync.Group

	// names (folded user name → ID) and keys (owner and key → ID) index
	// members: built when first needed, extended by provisions, dropped by
	// the other member changes (a large plan of provisions stays linear).
	names map[string]string
	keys  map[[2]string]string
}

func (tx *memTx) index() {
	if tx.names != nil {
		return
	}
	tx.names, tx.keys = map[string]string{}, map[[2]string]string{}
	for id, m := range tx.members {
		tx.names[orgsync.Fold(m.UserName)] = id
		tx.keys[[2]string{m.Owner, m.ExternalID}] = id
	}
}

// skip records why c was not applied, as the real store words it.
func (tx *memTx) skip(c orgsync.Change, why string) {
	tx.out.Skipped = append(tx.out.Skipped, fmt.Sprintf("%s %s: %s", c.Action, cmp.Or(c.UserName, c.GroupName), why))
}

func (tx *memTx) memberByKey(key string) *orgsync.Member {
	tx.index()
	return tx.members[tx.keys[[2]string{tx.p.Owner, key}]]
}

func (tx *memTx) groupByKey(key string) *orgsync.Group {
	for _, g := range tx.groups {
		if g.Owner == tx.p.Owner && g.ExternalID == key {
			return g
		}
	}
	return nil
}

// nameTaken returns the member other than self holding userName's folded
// form.
// (User names are unique by their folded form, as in the real store.)
func (tx *memTx) nameTaken(userName, self string) *orgsync.Member {
	tx.index()
	if id := tx.names[orgsync.Fold(userName)]; id != self {
		return tx.members[id]
	}
	return nil
}

// profile copies the attributes a source sets from src to dst and reports
// whether anything differed.
func (tx *memTx) profile(dst, src *orgsync.Member) bool {
	r := src.Role
	if r == "" {
		r = tx.DefaultRole
	}
	changed := dst.UserName != src.UserName || dst.GivenName != src.GivenName || dst.FamilyName != src.FamilyName ||
		dst.DisplayName != src.DisplayName || dst.Role != r || !slices.Equal(dst.Emails, src.Emails)
	dst.UserName, dst.GivenName, dst.FamilyName, dst.DisplayName, dst.Role = src.UserName, src.GivenName, src.FamilyName, src.DisplayName, r
	dst.Emails = slices.Clone(src.Emails)
	sum := orgsync.AttributesDigestOf(src.Attributes)
	changed = changed || dst.AttributesDigest != sum
	dst.Attributes, dst.AttributesDigest = src.Attributes, sum
	return changed
}

// hasNUL reports a value the real store cannot hold (PostgreSQL text
// refuses NUL): such a change is skipped.
func hasNUL(m *orgsync.Member) bool {
	vs := []string{m.UserName, m.ExternalID, m.GivenName, m.FamilyName, m.DisplayName, m.Role}
	for _, e := range m.Emails {
		vs = append(vs, e.Value, e.Type)
	}
	return slices.ContainsFunc(vs, func(v string) bool { return strings.IndexByte(v, 0) >= 0 })
}

func (tx *memTx) group(c orgsync.Change) *orgsync.Group {
	if c.GroupID != "" {
		return tx.groups[c.GroupID]
	}
	return tx.groupByKey(c.GroupKey)
}

func (tx *memTx) apply(c orgsync.Change) error {
	switch c.Action {
	case orgsync.ActionProvision:
		return tx.provision(c)
	case orgsync.ActionAdopt, orgsync.ActionUpdate, orgsync.ActionReactivate, orgsync.ActionDeprovision, orgsync.ActionPurge:
		return tx.memberChange(c)
	case orgsync.ActionGroupCreate:
		return tx.groupCreate(c)
	case orgsync.ActionGroupUpdate, orgsync.ActionGroupDelete:
		return tx.groupChange(c)
	case orgsync.ActionMemberAdd:
		return tx.memberAdd(c)
	case orgsync.ActionMemberRemove:
		return tx.memberRemove(c)
	}
	return orgsync.ErrInvalid
}

func (tx *memTx) provision(c orgsync.Change) error {
	if c.Member == nil || c.MemberKey == "" {
		return orgsync.ErrInvalid
	}
	if tx.memberByKey(c.MemberKey) != nil {
		return nil
	}
	if hasNUL(c.Member) {
		tx.skip(c, errNUL)
		return nil
	}
	if holder := tx.nameTaken(c.Member.UserName, ""); holder != nil {
		tx.skip(c, fmt.Sprintf("user name is taken by a member owned by %q", orgsync.OwnerName(holder.Owner)))
		return nil
	}
	tx.seq++
	n := cloneMember(*c.Member)
	n.ID, n.Org, n.Owner, n.ExternalID, n.Status, n.Version = fmt.Sprintf("n%03d", tx.seq), tx.p.Org, tx.p.Owner, c.MemberKey, orgsync.StatusPendingSetup, 1
	n.SetupCompletedAt, n.DeprovisionedAt, n.DeletedAt, n.Groups = nil, nil, nil, nil
	if n.Role == "" {
		n.Role = tx.DefaultRole
	}
	tx.members[n.ID] = &n
	tx.names[orgsync.Fold(n.UserName)] = n.ID
	tx.keys[[2]string{n.Owner, n.ExternalID}] = n.ID
	tx.out.Provisioned = append(tx.out.Provisioned, n.UserName)
	tx.out.Counts[c.Action]++
	return nil
}

// errNUL is the real store's reason for skipping a value with a NUL.
const errNUL = "a value contains a NUL character"

func (tx *memTx) memberChange(c orgsync.Change) error {
	m := tx.members[c.MemberID]
	if m == nil {
		tx.skip(c, "member no longer exists")
		return nil
	}
	if c.Member != nil && hasNUL(c.Member) {
		tx.skip(c, errNUL)
		return nil
	}
	if err := orgsync.MayApply(tx.p.Owner, c.Action, m); err != nil {
		tx.skip(c, err.Error())
		return nil
	}
	before := cloneMember(*m)
	tx.names, tx.keys = nil, nil
	switch c.Action {
	case orgsync.ActionAdopt:
		if c.Member == nil || c.MemberKey == "" {
			return orgsync.ErrInvalid
		}
		tx.profile(m, c.Member)
		if holder := tx.nameTaken(m.UserName, m.ID); holder != nil {
			*m = before
			tx.skip(c, fmt.Sprintf("user name is taken by a member owned by %q", orgsync.OwnerName(holder.Owner)))
			return nil
		}
		m.Owner, m.ExternalID = tx.p.Owner, c.MemberKey
	case orgsync.ActionUpdate:
		if c.Member == nil {
			return orgsync.ErrInvalid
		}
		if !tx.profile(m, c.Member) {
			return nil
		}
		if holder := tx.nameTaken(m.UserName, m.ID); holder != nil {
			*m = before
			tx.skip(c, fmt.Sprintf("new user name is taken by a member owned by %q", orgsync.OwnerName(holder.Owner)))
			return nil
		}
	case orgsync.ActionReactivate:
		if m.Reactivate() == "" {
			return nil
		}
		if c.Member != nil {
			tx.profile(m, c.Member)
		}
	case orgsync.ActionDeprovision:
		if m.Deprovision(tx.Now()) == "" {
			return nil
		}
	case orgsync.ActionPurge:
		delete(tx.members, m.ID)
		for _, g := range tx.groups {
			g.Members = slices.DeleteFunc(g.Members, func(id string) bool { return id == m.ID })
		}
		tx.out.Counts[c.Action]++
		return nil
	}
	m.Version++
	tx.out.Counts[c.Action]++
	return nil
}
