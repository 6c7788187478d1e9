package reconcilertest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler/internal/fixture"
)

// Store is an in-memory reconciler.Store of one org that applies plans
// with the semantics the real store promises: one transaction, idempotent
// changes (a change that already holds is not counted), keys of members
// and groups created by the same plan resolved by owner + ExternalID, and
// ownership checks.
type Store struct {
	mu sync.Mutex
	// Org is the one org the store holds (acme); DefaultRole is its
	// default role (member).
	Org         string
	DefaultRole string
	// Now is the clock of the changes it applies (fixture.T0).
	Now     func() time.Time
	Members map[string]*orgsync.Member
	Groups  map[string]*orgsync.Group
	seq     int
	// writes counts the changes committed, as the SQL store's event seq
	// does (see StoreSeq).
	writes int64

	// Runs are the recorded runs; Applies counts the calls of Apply.
	Runs    []orgsync.Run
	Applies int
	// ObserveErr, ApplyErr and RecordErr, when set, are what Observed,
	// Apply and RecordRun fail with.
	ObserveErr error
	ApplyErr   error
	RecordErr  error
}

// NewStore returns a Store of org acme holding members and groups.
func NewStore(members []orgsync.Member, groups []orgsync.Group) *Store {
	s := &Store{Org: "acme", DefaultRole: orgsync.RoleMember, Now: func() time.Time { return fixture.T0 },
		Members: map[string]*orgsync.Member{}, Groups: map[string]*orgsync.Group{}}
	for _, m := range members {
		m := cloneMember(m)
		s.Members[m.ID] = &m
	}
	for _, g := range groups {
		g := cloneGroup(g)
		s.Groups[g.ID] = &g
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

// Observed returns the snapshot of org: empty for an org the store does
// not hold, as the real store's.
func (s *Store) Observed(_ context.Context, org string) (orgsync.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ObserveErr != nil {
		return orgsync.Snapshot{}, s.ObserveErr
	}
	if org != s.Org {
		return orgsync.Snapshot{}, nil
	}
	return s.Snapshot(), nil
}

// Snapshot is the store's content, ordered by ID.
func (s *Store) Snapshot() orgsync.Snapshot {
	var snap orgsync.Snapshot
	for _, id := range sortedKeys(s.Members) {
		snap.Members = append(snap.Members, cloneMember(*s.Members[id]))
	}
	for _, id := range sortedKeys(s.Groups) {
		snap.Groups = append(snap.Groups, cloneGroup(*s.Groups[id]))
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

func (s *Store) RecordRun(_ context.Context, r orgsync.Run) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.RecordErr != nil {
		return 0, s.RecordErr
	}
	s.Runs = append(s.Runs, r)
	return int64(len(s.Runs)), nil
}

// Apply works on a copy and commits it only when every change succeeded.
func (s *Store) Apply(_ context.Context, p orgsync.Plan) (orgsync.Applied, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Applies++
	out := orgsync.Applied{Counts: orgsync.Plan{}.Summary()}
	if s.ApplyErr != nil {
		return out, s.ApplyErr
	}
	if p.Empty() {
		return out, nil
	}
	if p.Org != s.Org {
		return out, fmt.Errorf("memstore: org %q: %w", p.Org, orgsync.ErrNotFound)
	}
	tx := &memTx{Store: s, p: p, out: &out, members: map[string]*orgsync.Member{}, groups: map[string]*orgsync.Group{}}
	for id, m := range s.Members {
		c := cloneMember(*m)
		tx.members[id] = &c
	}
	for id, g := range s.Groups {
		c := cloneGroup(*g)
		tx.groups[id] = &c
	}
	for _, c := range p.Changes {
		if err := tx.apply(c); err != nil {
			return orgsync.Applied{Counts: orgsync.Plan{}.Summary()}, fmt.Errorf("memstore: %s %s%s: %w", c.Action, c.UserName, c.GroupName, err)
		}
	}
	s.Members, s.Groups, s.seq = tx.members, tx.groups, tx.seq
	for _, n := range out.Counts {
		s.writes += int64(n)
	}
	return out, nil
}

// StoreSeq is the number of changes committed so far: like the SQL
// store's last event seq, it moves with every write and only then.
func (s *Store) StoreSeq(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes, nil
}
