package reconciler

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"slices"
	"sort"
	"strconv"

	"github.com/orgsync/orgsync"
)

// Digests returns the digest of what plan p was computed from: the source
// snapshot desired and the org as observed in the store. Each is stable: it
// does not depend on the order in which the source or the store listed
// entries, and it never modifies its inputs.
func Digests(desired, observed orgsync.Snapshot, p orgsync.Plan) orgsync.Digest {
	return orgsync.Digest{Source: SourceDigest(desired), Store: StoreDigest(observed), Plan: PlanDigest(p)}
}

// digester writes length-prefixed fields into a SHA-256, so that no two
// different sequences of fields give the same stream.
type digester struct {
	h   hash.Hash
	buf []byte
}

func newDigester(kind string) *digester {
	d := &digester{h: sha256.New()}
	d.str(kind)
	return d
}

func (d *digester) str(ss ...string) {
	for _, s := range ss {
		d.buf = binary.AppendUvarint(d.buf[:0], uint64(len(s)))
		d.h.Write(d.buf)
		d.h.Write([]byte(s))
	}
}

func (d *digester) int(n int64) { d.str(strconv.FormatInt(n, 10)) }

func (d *digester) sum() string { return "sha256:" + hex.EncodeToString(d.h.Sum(nil)) }

func (d *digester) sorted(ss []string) {
	c := slices.Clone(ss)
	sort.Strings(c)
	d.int(int64(len(c)))
	d.str(c...)
}

func (d *digester) member(m *orgsync.Member) {
	d.str(m.ExternalID, m.UserName, m.GivenName, m.FamilyName, m.DisplayName, m.Role, string(m.Status), m.DN)
	d.int(int64(len(m.Emails)))
	for _, e := range m.Emails {
		d.str(e.Value, e.Type, strconv.FormatBool(e.Primary))
	}
}

func (d *digester) held(hs []orgsync.HeldEntry) {
	idx := order(len(hs), func(a, b int) int {
		return cmp.Or(cmp.Compare(hs[a].Key, hs[b].Key), cmp.Compare(hs[a].Name, hs[b].Name), cmp.Compare(hs[a].Ref, hs[b].Ref))
	})
	d.int(int64(len(hs)))
	for _, i := range idx {
		h := &hs[i]
		d.str(h.Key, h.Name, h.Email, h.Ref, h.Reason, string(h.Status))
	}
}

// order returns 0..n-1 sorted by cmp (stable).
func order(n int, cmp func(a, b int) int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, cmp)
	return idx
}

// SourceDigest is the digest of a source snapshot: its users (every
// attribute a plan reads), groups with their member and subgroup keys, held
// entries and warnings.
func SourceDigest(s orgsync.Snapshot) string {
	d := newDigester("orgsync source snapshot 1")
	ms := s.Members
	idx := order(len(ms), func(a, b int) int {
		return cmp.Or(cmp.Compare(ms[a].ExternalID, ms[b].ExternalID), cmp.Compare(ms[a].UserName, ms[b].UserName), cmp.Compare(ms[a].DN, ms[b].DN))
	})
	d.int(int64(len(ms)))
	for _, i := range idx {
		d.member(&ms[i])
	}
	gs := s.Groups
	idx = order(len(gs), func(a, b int) int {
		return cmp.Or(cmp.Compare(gs[a].ExternalID, gs[b].ExternalID), cmp.Compare(gs[a].DisplayName, gs[b].DisplayName))
	})
	d.int(int64(len(gs)))
	for _, i := range idx {
		g := &gs[i]
		d.str(g.ExternalID, g.DisplayName)
		d.sorted(g.Members)
		d.sorted(g.Subgroups)
	}
	d.held(s.HeldUsers)
	d.held(s.HeldGroups)
	d.sorted(s.Warnings)
	return d.sum()
}

// StoreDigest is the digest of an org as Store.Observed reads it: each
// member's id, version, owner, key, user name and status (and whether it is
// deleted), each group's id, version, owner, key and name, and its members.
// A store bumps a version with every change, so a digest that still
// matches means the org is as it was.
func StoreDigest(s orgsync.Snapshot) string {
	d := newDigester("orgsync store state 1")
	ms := s.Members
	idx := order(len(ms), func(a, b int) int { return cmp.Compare(ms[a].ID, ms[b].ID) })
	d.int(int64(len(ms)))
	for _, i := range idx {
		m := &ms[i]
		d.str(m.ID, m.Owner, m.ExternalID, m.UserName, string(m.Status), strconv.FormatBool(m.DeletedAt != nil), strconv.FormatBool(m.SetupCompletedAt != nil))
		d.int(m.Version)
	}
	gs := s.Groups
	idx = order(len(gs), func(a, b int) int { return cmp.Compare(gs[a].ID, gs[b].ID) })
	d.int(int64(len(gs)))
	for _, i := range idx {
		g := &gs[i]
		d.str(g.ID, g.Owner, g.ExternalID, g.DisplayName)
		d.int(g.Version)
		d.sorted(g.Members)
	}
	return d.sum()
}

// PlanDigest is the digest of a plan's changes, in order, with the members
// and groups they set, and of its conflicts.
func PlanDigest(p orgsync.Plan) string {
	d := newDigester("orgsync plan 1")
	d.str(p.Org, p.Owner)
	d.int(int64(len(p.Changes)))
	for i := range p.Changes {
		c := &p.Changes[i]
		d.str(string(c.Action), c.UserName, c.GroupName, c.Reason, c.MemberID, c.MemberKey, c.GroupID, c.GroupKey)
		keys := make([]string, 0, len(c.Fields))
		for k := range c.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		d.int(int64(len(keys)))
		for _, k := range keys {
			d.str(k, c.Fields[k].From, c.Fields[k].To)
		}
		if c.Member != nil {
			d.str("member", c.Member.ID, c.Member.Owner)
			d.member(c.Member)
		} else {
			d.str("")
		}
		if c.Group != nil {
			d.str("group", c.Group.ID, c.Group.ExternalID, c.Group.DisplayName, c.Group.Owner)
			d.sorted(c.Group.Members)
		} else {
			d.str("")
		}
	}
	d.int(int64(len(p.Conflicts)))
	for _, c := range p.Conflicts {
		d.str(c.UserName, c.Key, c.Reason, c.DN)
	}
	return d.sum()
}
