package targets

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/targets/scim"
)

// linkFlush is how many new links are buffered before they are saved: a
// run killed before a flush loses only links that name matching rebuilds.
const linkFlush = 200

// applier executes one plan against the target.
type applier struct {
	r   *remote
	t   *Target
	mu  sync.Mutex
	out orgsync.Applied
	// members and groups map orgsync ids (MemberKey, GroupKey) to the
	// remote ids this apply created.
	members, groups map[string]string
	pending         []orgsync.TargetLink
	err             error
}

// Apply executes p in action order, the changes of one action with
// bounded concurrency and each group's member changes in one PATCH. It
// stops at the first failed action and returns what was done.
func (r *remote) Apply(ctx context.Context, p orgsync.Plan) (orgsync.Applied, error) {
	t := r.t
	a := &applier{r: r, t: t, out: orgsync.Applied{Counts: orgsync.Plan{}.Summary(), Provisioned: []string{}},
		members: map[string]string{}, groups: map[string]string{}}
	if err := r.saveLinks(ctx); err != nil {
		return a.out, err
	}
	err := a.run(ctx, p.Changes)
	if ferr := a.flush(context.WithoutCancel(ctx), true); ferr != nil {
		err = errors.Join(err, ferr)
	}
	return a.out, err
}

func (a *applier) run(ctx context.Context, changes []orgsync.Change) error {
	for i := 0; i < len(changes); {
		act := changes[i].Action
		j := i
		for j < len(changes) && sameStep(changes[j].Action, act) {
			j++
		}
		var err error
		if act == orgsync.ActionMemberAdd || act == orgsync.ActionMemberRemove {
			err = a.memberships(ctx, changes[i:j])
		} else {
			err = a.each(ctx, changes[i:j], a.one)
		}
		if err != nil {
			return err
		}
		if err := a.flush(ctx, false); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// sameStep groups member adds and removes into one step.
func sameStep(a, b orgsync.Action) bool {
	isM := func(x orgsync.Action) bool { return x == orgsync.ActionMemberAdd || x == orgsync.ActionMemberRemove }
	return a == b || (isM(a) && isM(b))
}

// each runs fn on every item with at most Concurrency at once, and
// returns the first error (the items not yet started are not).
func each[T any](ctx context.Context, a *applier, items []T, fn func(context.Context, T) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, max(1, a.t.Concurrency))
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for _, it := range items {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(ctx, it); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}()
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return first
}

func (a *applier) each(ctx context.Context, cs []orgsync.Change, fn func(context.Context, orgsync.Change) error) error {
	return each(ctx, a, cs, fn)
}

func (a *applier) done(act orgsync.Action, n int, provisioned string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.out.Counts[act] += n
	if provisioned != "" {
		a.out.Provisioned = append(a.out.Provisioned, provisioned)
	}
}

func (a *applier) link(kind, local, remote, name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if kind == orgsync.LinkMember {
		a.members[local] = remote
	} else {
		a.groups[local] = remote
	}
	a.pending = append(a.pending, orgsync.TargetLink{Target: a.t.Name, Org: a.t.Org, Kind: kind, LocalID: local, RemoteID: remote, Name: name})
}

// flush saves the buffered links (all of them when force).
func (a *applier) flush(ctx context.Context, force bool) error {
	a.mu.Lock()
	if len(a.pending) == 0 || (!force && len(a.pending) < linkFlush) {
		a.mu.Unlock()
		return nil
	}
	batch := a.pending
	a.pending = nil
	a.mu.Unlock()
	return a.t.Store.SaveTargetLinks(ctx, batch)
}

// sameUser reports whether the target's user has the attributes orgsync
// sets (the display name only where the target keeps what it is sent).
func sameUser(have, want scim.User) bool {
	return have.Active == want.Active && have.GivenName == want.GivenName && have.FamilyName == want.FamilyName &&
		orgsync.Fold(have.Email) == orgsync.Fold(want.Email) && orgsync.Fold(have.UserName) == orgsync.Fold(want.UserName)
}

func remoteUser(m *orgsync.Member, id string) scim.User {
	return scim.User{ID: id, UserName: m.UserName, ExternalID: m.ExternalID, GivenName: m.GivenName, FamilyName: m.FamilyName,
		DisplayName: m.DisplayName, Email: m.Email(), Active: m.Status != orgsync.StatusDeprovisioned}
}

// one applies one change that is not a membership.
func (a *applier) one(ctx context.Context, c orgsync.Change) error {
	cl := a.t.Client
	var err error
	switch c.Action {
	case orgsync.ActionGroupCreate:
		var g scim.Group
		g, err = cl.CreateGroup(ctx, c.Group.DisplayName, nil)
		if errors.Is(err, orgsync.ErrConflict) {
			g, err = cl.FindGroup(ctx, c.Group.DisplayName)
		}
		if err == nil {
			a.link(orgsync.LinkGroup, c.Group.ExternalID, g.ID, c.Group.DisplayName)
		}
	case orgsync.ActionProvision:
		want := remoteUser(c.Member, "")
		var u scim.User
		u, err = cl.CreateUser(ctx, want)
		if errors.Is(err, orgsync.ErrConflict) {
			// Created since the read (or by a run that died before it could
			// link it): an RFC server refuses the create; take it over.
			u, err = cl.FindUser(ctx, c.Member.UserName)
		}
		if err == nil && !sameUser(u, want) {
			// The KMS answers a create of an existing userName with that
			// membership as it is: set it as planned.
			want.ID = u.ID
			err = cl.ReplaceUser(ctx, want)
		}
		if err == nil {
			a.link(orgsync.LinkMember, c.Member.ExternalID, u.ID, c.Member.UserName)
			a.done(c.Action, 1, c.Member.UserName)
			return nil
		}
	case orgsync.ActionUpdate, orgsync.ActionAdopt:
		err = cl.ReplaceUser(ctx, remoteUser(c.Member, c.MemberID))
	case orgsync.ActionReactivate:
		if len(c.Fields) > 0 {
			err = cl.ReplaceUser(ctx, remoteUser(c.Member, c.MemberID))
		} else {
			err = cl.SetActive(ctx, c.MemberID, true)
		}
	case orgsync.ActionDeprovision:
		err = cl.SetActive(ctx, c.MemberID, false)
	case orgsync.ActionPurge:
		if err = cl.DeleteUser(ctx, c.MemberID); err == nil {
			err = a.t.Store.DeleteTargetLinks(ctx, a.t.Name, orgsync.LinkMember, []string{c.MemberID})
		}
	case orgsync.ActionGroupUpdate:
		err = cl.PatchGroup(ctx, c.GroupID, c.Group.DisplayName, nil, nil)
	case orgsync.ActionGroupDelete:
		if err = cl.DeleteGroup(ctx, c.GroupID); err == nil {
			err = a.t.Store.DeleteTargetLinks(ctx, a.t.Name, orgsync.LinkGroup, []string{c.GroupID})
		}
	default:
		return fmt.Errorf("target %s: %s is not an action a target applies: %w", a.t.Name, c.Action, orgsync.ErrInvalid)
	}
	if err != nil {
		return fmt.Errorf("target %s: %s %s: %w", a.t.Name, c.Action, name(c), err)
	}
	a.done(c.Action, 1, "")
	return nil
}

func name(c orgsync.Change) string {
	if c.UserName != "" {
		return c.UserName
	}
	return c.GroupName
}

// memberships sends each group's member adds and removes in one PATCH, the
// groups with bounded concurrency (never two PATCHes of one group at once:
// the KMS would keep only the last).
func (a *applier) memberships(ctx context.Context, cs []orgsync.Change) error {
	type patch struct {
		id, name    string
		add, remove []scim.Ref
		adds, rems  int
	}
	byGroup := map[string]*patch{}
	var order []*patch
	for _, c := range cs {
		gid := c.GroupID
		if gid == "" {
			gid = a.groups[c.GroupKey]
		}
		mid := c.MemberID
		if mid == "" {
			mid = a.members[c.MemberKey]
		}
		if gid == "" || mid == "" {
			return fmt.Errorf("target %s: %s %s in %s: the member or group was not created: %w", a.t.Name, c.Action, c.UserName, c.GroupName, orgsync.ErrConflict)
		}
		p := byGroup[gid]
		if p == nil {
			p = &patch{id: gid, name: c.GroupName}
			byGroup[gid] = p
			order = append(order, p)
		}
		ref := scim.Ref{Value: mid, Display: c.UserName}
		if c.Action == orgsync.ActionMemberAdd {
			p.add, p.adds = append(p.add, ref), p.adds+1
		} else {
			p.remove, p.rems = append(p.remove, ref), p.rems+1
		}
	}
	return each(ctx, a, order, func(ctx context.Context, p *patch) error {
		if err := a.t.Client.PatchGroup(ctx, p.id, "", p.add, p.remove); err != nil {
			return fmt.Errorf("target %s: members of group %s: %w", a.t.Name, p.name, err)
		}
		a.done(orgsync.ActionMemberAdd, p.adds, "")
		a.done(orgsync.ActionMemberRemove, p.rems, "")
		return nil
	})
}
