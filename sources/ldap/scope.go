package ldap

import (
	"encoding/binary"
	"slices"
	"strconv"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/orgsync/orgsync"
)

// changedScope says which users and groups of the Snapshot differ from
// the Snapshot of the state an incremental read started from, by
// comparing the two Snapshots entry by entry: every entry of the state
// carries the digest of what it became in the Snapshot computed with it
// (a member, a held entry, a group with its resolved members and
// subgroups), and snapshot has just set the digests of the new state.
// A key is listed when the digests under it differ, so whatever moves an
// entry's part of the Snapshot is seen — its own attributes, its manager's
// name, a role_map role or require_group reached through nested groups,
// a group's members flattened differently — without knowing why.
//
// It returns nil (the reconciler then diffs everything) when it cannot
// name all that changed: an account of the old state expired since
// (until passed: its Snapshot changes without its entry changing), or a
// held entry without a key differs (it cannot be named).
func changedScope(old *stateBase, users []user, groups []group, until, now time.Time) *orgsync.Scope {
	if !until.IsZero() && !now.Before(until) {
		return nil
	}
	sc := &orgsync.Scope{}
	var ok bool
	if sc.Users, ok = differing(len(old.users), len(users),
		func(i int) (string, uint64) { return old.users[i].id, old.users[i].digest },
		func(i int) (string, uint64) { return users[i].id, users[i].digest }); !ok {
		return nil
	}
	if sc.Groups, ok = differing(len(old.groups), len(groups),
		func(i int) (string, uint64) { return old.groups[i].id, old.groups[i].digest },
		func(i int) (string, uint64) { return groups[i].id, groups[i].digest }); !ok {
		return nil
	}
	return sc
}

// differing lists the keys whose entries' digests differ between the old
// and the new entries (several entries under one key are summed: the
// order does not matter). Entries out of the Snapshot (digest 0) are
// skipped; false when the keyless entries differ.
func differing(nOld, nNew int, old, cur func(int) (string, uint64)) ([]string, bool) {
	// A merged state keeps the stored order: walk the common prefix
	// without maps (at 100k, most of the work), then sum the rest.
	var out []string
	p := 0
	for ; p < nOld && p < nNew; p++ {
		ko, do := old(p)
		kn, dn := cur(p)
		if ko != kn {
			break
		}
		if do != dn {
			if ko == "" {
				return nil, false
			}
			out = append(out, ko)
		}
	}
	rest, ok := differingSums(p, nOld, nNew, old, cur)
	if !ok {
		return nil, false
	}
	out = append(out, rest...)
	slices.Sort(out)
	return slices.Compact(out), true
}

// differingSums is differing for the entries from p on.
func differingSums(p, nOld, nNew int, old, cur func(int) (string, uint64)) ([]string, bool) {
	sums := make(map[string]uint64, nNew-p)
	var keyless []uint64
	for i := p; i < nNew; i++ {
		k, d := cur(i)
		switch {
		case d == 0:
		case k == "":
			keyless = append(keyless, d)
		default:
			sums[k] += d
		}
	}
	var oldKeyless []uint64
	var out []string
	for i := p; i < nOld; i++ {
		k, d := old(i)
		switch {
		case d == 0:
		case k == "":
			oldKeyless = append(oldKeyless, d)
		default:
			sums[k] -= d
		}
	}
	slices.Sort(keyless)
	slices.Sort(oldKeyless)
	if !slices.Equal(keyless, oldKeyless) {
		return nil, false
	}
	for k, d := range sums {
		if d != 0 {
			out = append(out, k)
		}
	}
	return out, true
}

// digest is xxHash64 over length-prefixed fields, gathered in one
// buffer: stable across builds and processes, as the digests are stored
// with the state.
type digest struct{ buf []byte }

func (d *digest) str(s string) {
	d.buf = binary.AppendUvarint(d.buf, uint64(len(s)))
	d.buf = append(d.buf, s...)
}

func (d *digest) bytes(b []byte) {
	d.buf = binary.AppendUvarint(d.buf, uint64(len(b)))
	d.buf = append(d.buf, b...)
}

func (d *digest) sum() uint64 {
	s := xxhash.Sum64(d.buf)
	d.buf = d.buf[:0]
	if s == 0 {
		return 1 // 0 means "not in the Snapshot"
	}
	return s
}

func (d *digest) member(m *orgsync.Member) uint64 {
	d.str("member")
	for _, s := range [...]string{m.ExternalID, m.UserName, m.GivenName, m.FamilyName, m.DisplayName, m.Role, string(m.Status), m.DN} {
		d.str(s)
	}
	d.bytes(m.Attributes)
	for _, e := range m.Emails {
		p := "0"
		if e.Primary {
			p = "1"
		}
		d.str(e.Value)
		d.str(e.Type)
		d.str(p)
	}
	return d.sum()
}

func (d *digest) held(h *orgsync.HeldEntry) uint64 {
	d.str("held")
	for _, s := range [...]string{h.Key, h.Name, h.Email, h.Ref, h.DN, h.Reason, string(h.Status)} {
		d.str(s)
	}
	return d.sum()
}

func (d *digest) group(g *orgsync.Group) uint64 {
	d.str("group")
	d.str(g.ExternalID)
	d.str(g.DisplayName)
	d.str(g.DN)
	d.str(strconv.Itoa(len(g.Members)))
	for _, m := range g.Members {
		d.str(m)
	}
	d.str(strconv.Itoa(len(g.Subgroups)))
	for _, s := range g.Subgroups {
		d.str(s)
	}
	return d.sum()
}
