package targets

import (
	"context"
	"fmt"
	"sync"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/targets/scim"
)

// remote is the reconciler.Store of one target run: Observed reads the
// target, Apply writes to it, RecordRun records in orgsync's store. It
// keeps what Observed learnt for Apply.
type remote struct {
	t *Target

	mu sync.Mutex
	// rebuilt are links made by matching names, saved when a plan is
	// applied; stale are the remote ids of links whose resource is gone.
	rebuilt      []orgsync.TargetLink
	staleMembers []string
	staleGroups  []string

	// org is orgsync's org, read once for both sides of the run.
	orgOnce sync.Once
	org     orgsync.Snapshot
	orgErr  error
}

// localOrg reads orgsync's org once per run: the desired side and the
// matching of the target's resources both need it. The snapshot is shared
// and must not be modified.
func (r *remote) localOrg(ctx context.Context) (orgsync.Snapshot, error) {
	r.orgOnce.Do(func() { r.org, r.orgErr = r.t.Store.Observed(ctx, r.t.Org) })
	return r.org, r.orgErr
}

// RecordRun records the run in orgsync's store, after saving the links
// the read rebuilt if no apply did (a run planning nothing still keeps
// what it matched).
func (r *remote) RecordRun(ctx context.Context, run orgsync.Run) (int64, error) {
	if err := r.saveLinks(ctx); err != nil {
		return 0, err
	}
	return r.t.Store.RecordRun(ctx, run)
}

// saveLinks saves the rebuilt links and drops the stale ones, once.
func (r *remote) saveLinks(ctx context.Context) error {
	r.mu.Lock()
	rebuilt, staleM, staleG := r.rebuilt, r.staleMembers, r.staleGroups
	r.rebuilt, r.staleMembers, r.staleGroups = nil, nil, nil
	r.mu.Unlock()
	t := r.t
	if err := t.Store.SaveTargetLinks(ctx, rebuilt); err != nil {
		return err
	}
	if err := t.Store.DeleteTargetLinks(ctx, t.Name, orgsync.LinkMember, staleM); err != nil {
		return err
	}
	return t.Store.DeleteTargetLinks(ctx, t.Name, orgsync.LinkGroup, staleG)
}

// Observed reads the target's users and groups (whole), the target's links
// and orgsync's org, and returns the target as a Snapshot: a linked (or
// name-matched) user is owned by the target with orgsync's member id as its
// ExternalID and the remote id as its ID; others are left to an owner no
// plan touches.
func (r *remote) Observed(ctx context.Context, org string) (orgsync.Snapshot, error) {
	t := r.t
	var (
		users  []scim.User
		groups []scim.Group
		gErr   error
		wg     sync.WaitGroup
	)
	if !t.SkipGroups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			groups, gErr = t.Client.Groups(ctx)
		}()
	}
	users, uErr := t.Client.Users(ctx)
	wg.Wait()
	if uErr != nil {
		return orgsync.Snapshot{}, fmt.Errorf("target %s: read users: %w", t.Name, uErr)
	}
	if gErr != nil {
		return orgsync.Snapshot{}, fmt.Errorf("target %s: read groups: %w", t.Name, gErr)
	}
	links, err := t.Store.TargetLinks(ctx, t.Name)
	if err != nil {
		return orgsync.Snapshot{}, err
	}
	local, err := r.localOrg(ctx)
	if err != nil {
		return orgsync.Snapshot{}, err
	}
	memberLinks := 0
	for _, l := range links {
		if l.Kind == orgsync.LinkMember {
			memberLinks++
		}
	}
	if len(users) == 0 && memberLinks > 0 && !t.Guard.AllowEmpty {
		return orgsync.Snapshot{}, fmt.Errorf("target %s: %w: the target listed 0 users while orgsync links %d members to it (a wrong token or org reads the same); set guard.allow_empty: true (or --allow-empty) if it was emptied on purpose",
			t.Name, orgsync.ErrGuard, memberLinks)
	}

	out := orgsync.Snapshot{Members: make([]orgsync.Member, 0, len(users)), Groups: make([]orgsync.Group, 0, len(groups))}
	mm := newMatcher(t, orgsync.LinkMember, links)
	pending := map[string]bool{}
	for i := range local.Members {
		mm.local(local.Members[i].ID, local.Members[i].UserName)
		if local.Members[i].Status == orgsync.StatusPendingSetup {
			pending[local.Members[i].ID] = true
		}
	}
	for _, u := range users {
		mm.list(u.ID)
	}
	for _, u := range users {
		m := t.normal(orgsync.Member{
			ID: u.ID, Org: org, UserName: u.UserName, GivenName: u.GivenName, FamilyName: u.FamilyName,
			DisplayName: u.DisplayName, Emails: []orgsync.Email{{Value: u.Email}}, Status: orgsync.StatusActive,
		})
		m.Role = orgsync.RoleMember
		if !u.Active {
			m.Status = orgsync.StatusDeprovisioned
		}
		m.Owner, m.ExternalID = mm.match(u.ID, u.UserName)
		if u.Active && pending[m.ExternalID] {
			// So the report lists who still awaits master-key creation.
			m.Status = orgsync.StatusPendingSetup
		}
		out.Members = append(out.Members, m)
	}
	gm := newMatcher(t, orgsync.LinkGroup, links)
	for _, g := range local.Groups {
		gm.local(g.ID, g.DisplayName)
	}
	for _, g := range groups {
		gm.list(g.ID)
	}
	for _, g := range groups {
		og := orgsync.Group{ID: g.ID, Org: org, DisplayName: g.DisplayName, Members: g.Members}
		og.Owner, og.ExternalID = gm.match(g.ID, g.DisplayName)
		out.Groups = append(out.Groups, og)
	}
	r.mu.Lock()
	r.rebuilt = append(mm.rebuilt, gm.rebuilt...)
	r.staleMembers, r.staleGroups = mm.stale(), gm.stale()
	r.mu.Unlock()
	return out, nil
}

// matcher pairs the target's resources of one kind with orgsync's: by link
// first, then by folded name.
type matcher struct {
	t        *Target
	kind     string
	byRemote map[string]string // remote id → local id (links)
	linked   map[string]bool   // local ids with a listed resource
	listed   map[string]bool   // remote ids listed
	byName   map[string]string // folded name → local id
	rebuilt  []orgsync.TargetLink
}

func newMatcher(t *Target, kind string, links []orgsync.TargetLink) *matcher {
	m := &matcher{t: t, kind: kind, byRemote: map[string]string{}, linked: map[string]bool{}, listed: map[string]bool{}, byName: map[string]string{}}
	for _, l := range links {
		if l.Kind == kind {
			m.byRemote[l.RemoteID] = l.LocalID
		}
	}
	return m
}

func (m *matcher) local(id, name string) {
	if k := orgsync.Fold(name); k != "" {
		m.byName[k] = id
	}
}

// list records that the target lists remote resource id; every resource
// is listed before any is matched, so that a link is honoured before a
// name.
func (m *matcher) list(id string) {
	m.listed[id] = true
	if l, ok := m.byRemote[id]; ok {
		m.linked[l] = true
	}
}

// match returns the owner and ExternalID of remote resource id named name.
// A resource matching the name of a member (group) linked to another listed
// resource is a duplicate, not orgsync's.
func (m *matcher) match(id, name string) (owner, local string) {
	if l, ok := m.byRemote[id]; ok {
		return m.t.Name, l
	}
	l, ok := m.byName[orgsync.Fold(name)]
	if !ok || m.linked[l] {
		return unmanaged, ""
	}
	m.linked[l] = true
	m.rebuilt = append(m.rebuilt, orgsync.TargetLink{Target: m.t.Name, Org: m.t.Org, Kind: m.kind, LocalID: l, RemoteID: id, Name: name})
	return m.t.Name, l
}

// stale lists the remote ids of links whose resource the target no longer
// lists.
func (m *matcher) stale() []string {
	var out []string
	for rid := range m.byRemote {
		if !m.listed[rid] {
			out = append(out, rid)
		}
	}
	return out
}
