package reconciler

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/orgsync/orgsync"
)

// memStore is an in-memory Store that applies plans with the semantics the
// real store promises: one transaction, idempotent changes (a change that
// already holds is not counted), keys of members and groups created by the
// same plan resolved by owner + ExternalID, and ownership checks.
type memStore struct {
	mu          sync.Mutex
	org         string
	defaultRole string
	now         time.Time
	members     map[string]*orgsync.Member
	groups      map[string]*orgsync.Group
	seq         int

	runs       []orgsync.Run
	applies    int
	observeErr error
	applyErr   error
	recordErr  error
}

var _ Store = (*memStore)(nil)

func newMemStore(members []orgsync.Member, groups []orgsync.Group) *memStore {
	s := &memStore{org: "acme", defaultRole: orgsync.RoleMember, now: t0,
		members: map[string]*orgsync.Member{}, groups: map[string]*orgsync.Group{}}
	for _, m := range members {
		m := cloneMember(m)
		s.members[m.ID] = &m
	}
	for _, g := range groups {
		g := cloneGroup(g)
		s.groups[g.ID] = &g
	}
	return s
}

func cloneMember(m orgsync.Member) orgsync.Member {
	m.Emails = slices.Clone(m.Emails)
	m.Groups = slices.Clone(m.Groups)
	return m
}

func cloneGroup(g orgsync.Group) orgsync.Group {
	g.Members = slices.Clone(g.Members)
	g.Subgroups = slices.Clone(g.Subgroups)
	return g
}

func (s *memStore) Observed(_ context.Context, org string) (orgsync.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.observeErr != nil {
		return orgsync.Snapshot{}, s.observeErr
	}
	return s.snapshot(), nil
}

func (s *memStore) snapshot() orgsync.Snapshot {
	var snap orgsync.Snapshot
	for _, id := range sortedKeys(s.members) {
		snap.Members = append(snap.Members, cloneMember(*s.members[id]))
	}
	for _, id := range sortedKeys(s.groups) {
		snap.Groups = append(snap.Groups, cloneGroup(*s.groups[id]))
	}
	return snap
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func (s *memStore) RecordRun(_ context.Context, r orgsync.Run) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recordErr != nil {
		return 0, s.recordErr
	}
	s.runs = append(s.runs, r)
	return int64(len(s.runs)), nil
}

// Apply works on a copy and commits it only when every change succeeded.
func (s *memStore) Apply(_ context.Context, p orgsync.Plan) (orgsync.Applied, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applies++
	out := orgsync.Applied{Counts: orgsync.Plan{}.Summary()}
	if s.applyErr != nil {
		return out, s.applyErr
	}
	tx := &memTx{memStore: s, p: p, out: &out, members: map[string]*orgsync.Member{}, groups: map[string]*orgsync.Group{}}
	for id, m := range s.members {
		c := cloneMember(*m)
		tx.members[id] = &c
	}
	for id, g := range s.groups {
		c := cloneGroup(*g)
		tx.groups[id] = &c
	}
	for _, c := range p.Changes {
		if err := tx.apply(c); err != nil {
			return orgsync.Applied{Counts: orgsync.Plan{}.Summary()}, fmt.Errorf("memstore: %s %s%s: %w", c.Action, c.UserName, c.GroupName, err)
		}
	}
	s.members, s.groups, s.seq = tx.members, tx.groups, tx.seq
	return out, nil
}

type memTx struct {
	*memStore
	p       orgsync.Plan
	out     *orgsync.Applied
	members map[string]*orgsync.Member
	groups  map[string]*orgsync.Group
}

func (tx *memTx) skip(c orgsync.Change, why string) {
	tx.out.Skipped = append(tx.out.Skipped, fmt.Sprintf("%s %s%s: %s", c.Action, c.UserName, c.GroupName, why))
}

func (tx *memTx) memberByKey(key string) *orgsync.Member {
	for _, m := range tx.members {
		if m.Owner == tx.p.Owner && m.ExternalID == key {
			return m
		}
	}
	return nil
}

func (tx *memTx) groupByKey(key string) *orgsync.Group {
	for _, g := range tx.groups {
		if g.Owner == tx.p.Owner && g.ExternalID == key {
			return g
		}
	}
	return nil
}

func (tx *memTx) nameTaken(userName, self string) bool {
	for _, m := range tx.members {
		if m.ID != self && orgsync.Fold(m.UserName) == orgsync.Fold(userName) {
			return true
		}
	}
	return false
}

func (tx *memTx) profile(dst, src *orgsync.Member) bool {
	r := src.Role
	if r == "" {
		r = tx.defaultRole
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

func (tx *memTx) group(c orgsync.Change) *orgsync.Group {
	if c.GroupID != "" {
		return tx.groups[c.GroupID]
	}
	return tx.groupByKey(c.GroupKey)
}

func (tx *memTx) apply(c orgsync.Change) error {
	count := func() { tx.out.Counts[c.Action]++ }
	var m *orgsync.Member
	if c.MemberID != "" {
		m = tx.members[c.MemberID]
	}
	switch c.Action {
	case orgsync.ActionProvision:
		if c.Member == nil || c.MemberKey == "" {
			return orgsync.ErrInvalid
		}
		if tx.memberByKey(c.MemberKey) != nil {
			return nil
		}
		if tx.nameTaken(c.Member.UserName, "") {
			tx.skip(c, "user name taken")
			return nil
		}
		tx.seq++
		n := cloneMember(*c.Member)
		n.ID, n.Org, n.Owner, n.ExternalID, n.Status = fmt.Sprintf("n%03d", tx.seq), tx.p.Org, tx.p.Owner, c.MemberKey, orgsync.StatusPendingSetup
		if n.Role == "" {
			n.Role = tx.defaultRole
		}
		tx.members[n.ID] = &n
		tx.out.Provisioned = append(tx.out.Provisioned, n.UserName)
		count()
	case orgsync.ActionAdopt:
		if m == nil || c.Member == nil || c.MemberKey == "" {
			return orgsync.ErrInvalid
		}
		if err := orgsync.MayApply(tx.p.Owner, c.Action, m); err != nil {
			tx.skip(c, err.Error())
			return nil
		}
		if tx.nameTaken(c.Member.UserName, m.ID) {
			tx.skip(c, "user name taken")
			return nil
		}
		tx.profile(m, c.Member)
		m.Owner, m.ExternalID = tx.p.Owner, c.MemberKey
		count()
	case orgsync.ActionUpdate, orgsync.ActionReactivate, orgsync.ActionDeprovision:
		if m == nil {
			return orgsync.ErrNotFound
		}
		if err := orgsync.MayApply(tx.p.Owner, c.Action, m); err != nil {
			tx.skip(c, err.Error())
			return nil
		}
		switch c.Action {
		case orgsync.ActionUpdate:
			if tx.nameTaken(c.Member.UserName, m.ID) {
				tx.skip(c, "user name taken")
				return nil
			}
			if tx.profile(m, c.Member) {
				count()
			}
		case orgsync.ActionReactivate:
			if m.Reactivate() == "" {
				return nil
			}
			tx.profile(m, c.Member)
			count()
		case orgsync.ActionDeprovision:
			if m.Deprovision(tx.now) == "" {
				return nil
			}
			count()
		}
	case orgsync.ActionPurge:
		if m == nil {
			return nil
		}
		if err := orgsync.MayApply(tx.p.Owner, c.Action, m); err != nil {
			tx.skip(c, err.Error())
			return nil
		}
		delete(tx.members, m.ID)
		for _, g := range tx.groups {
			g.Members = slices.DeleteFunc(g.Members, func(id string) bool { return id == m.ID })
		}
		count()
	case orgsync.ActionGroupCreate:
		if tx.groupByKey(c.GroupKey) != nil {
			return nil
		}
		for _, g := range tx.groups {
			if orgsync.Fold(g.DisplayName) == orgsync.Fold(c.Group.DisplayName) {
				tx.skip(c, "group name taken")
				return nil
			}
		}
		tx.seq++
		g := orgsync.Group{ID: fmt.Sprintf("G%03d", tx.seq), Org: tx.p.Org, DisplayName: c.Group.DisplayName, ExternalID: c.GroupKey, Owner: tx.p.Owner}
		tx.groups[g.ID] = &g
		count()
	case orgsync.ActionGroupUpdate, orgsync.ActionGroupDelete, orgsync.ActionMemberAdd, orgsync.ActionMemberRemove:
		g := tx.group(c)
		if g == nil {
			if c.Action == orgsync.ActionGroupDelete {
				return nil
			}
			return fmt.Errorf("group: %w", orgsync.ErrNotFound)
		}
		if err := orgsync.MayChangeGroup(tx.p.Owner, g.Owner); err != nil {
			tx.skip(c, err.Error())
			return nil
		}
		return tx.groupChange(c, g, count)
	default:
		return orgsync.ErrInvalid
	}
	return nil
}

func (tx *memTx) groupChange(c orgsync.Change, g *orgsync.Group, count func()) error {
	switch c.Action {
	case orgsync.ActionGroupUpdate:
		if g.DisplayName != c.Group.DisplayName {
			g.DisplayName = c.Group.DisplayName
			count()
		}
	case orgsync.ActionGroupDelete:
		delete(tx.groups, g.ID)
		count()
	case orgsync.ActionMemberAdd:
		id := c.MemberID
		if id == "" {
			if m := tx.memberByKey(c.MemberKey); m != nil {
				id = m.ID
			}
		}
		if tx.members[id] == nil {
			return fmt.Errorf("member %q%q: %w", c.MemberID, c.MemberKey, orgsync.ErrNotFound)
		}
		if !slices.Contains(g.Members, id) {
			g.Members = append(g.Members, id)
			count()
		}
	case orgsync.ActionMemberRemove:
		if i := slices.Index(g.Members, c.MemberID); i >= 0 {
			g.Members = slices.Delete(g.Members, i, i+1)
			count()
		}
	}
	return nil
}
