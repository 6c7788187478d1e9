package reconciler

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/orgsync/orgsync"
)

// Options say whose plan Diff computes.
type Options struct {
	// Org is the org the plan is for.
	Org string
	// Owner is the source name: the owner of everything the plan changes.
	Owner string
	// DefaultRole is the role of a desired member whose Role is "";
	// orgsync.RoleMember when empty.
	DefaultRole string
}

func (o Options) role(r string) string {
	switch {
	case r != "":
		return r
	case o.DefaultRole != "":
		return o.DefaultRole
	}
	return orgsync.RoleMember
}

// Diff returns the Plan that turns observed into desired for the members and
// groups opts.Owner owns.
//
// desired is a source Snapshot: members keyed by ExternalID (Status
// deprovisioned for a user disabled at the source), groups keyed by
// ExternalID with member and subgroup ExternalIDs. observed is the store's
// view of the whole org: every member and group of every owner, group
// members given by member ID.
//
// Diff does no I/O, never modifies its inputs and always returns the same
// Plan for the same inputs: changes are ordered by orgsync.Action.Rank, then
// by group name, user name and keys; conflicts by key and user name.
func Diff(desired, observed orgsync.Snapshot, opts Options) orgsync.Plan {
	d := newDiffer(observed, opts)
	d.plan.Warnings = slices.Clone(desired.Warnings)
	d.diffUsers(desired.Members)
	d.deprovisionMissing()
	d.diffGroups(desired.Groups, observed.Groups)
	sortChanges(d.plan.Changes)
	sortConflicts(d.plan.Conflicts)
	return d.plan
}

// user is the outcome of Diff for one valid desired user.
type user struct {
	src     *orgsync.Member
	enabled bool
	// id is the member that stands for the user after the plan (matched or
	// adopted); key is set instead when the plan provisions it. Both are
	// empty when the user has no member (disabled at the source).
	id, key string
}

type differ struct {
	opts Options
	plan orgsync.Plan

	byID       map[string]*orgsync.Member
	owned      map[string]*orgsync.Member   // opts.Owner's members by ExternalID
	byUserName map[string][]*orgsync.Member // every member by folded user name
	unowned    map[string][]*orgsync.Member // members with no owner by folded email

	users map[string]*user // valid desired users by ExternalID
	// held are desired ExternalIDs in conflict: their owned member (if any)
	// is left untouched, memberships included.
	held map[string]bool
	// adopted are the IDs of unowned members this plan adopts.
	adopted map[string]bool
}

func newDiffer(observed orgsync.Snapshot, opts Options) *differ {
	n := len(observed.Members)
	d := &differ{
		opts:       opts,
		plan:       orgsync.Plan{Org: opts.Org, Owner: opts.Owner, Changes: []orgsync.Change{}},
		byID:       make(map[string]*orgsync.Member, n),
		owned:      make(map[string]*orgsync.Member, n),
		byUserName: make(map[string][]*orgsync.Member, n),
		unowned:    map[string][]*orgsync.Member{},
		held:       map[string]bool{},
		adopted:    map[string]bool{},
	}
	for i := range observed.Members {
		m := &observed.Members[i]
		d.byID[m.ID] = m
		d.byUserName[orgsync.Fold(m.UserName)] = append(d.byUserName[orgsync.Fold(m.UserName)], m)
		switch {
		case m.Owner == opts.Owner && m.ExternalID != "":
			d.owned[m.ExternalID] = m
			if m.Status != orgsync.StatusDeprovisioned && m.DeletedAt == nil {
				d.plan.Owned++
			}
		case m.Owner == "" && m.DeletedAt == nil:
			if e := orgsync.Fold(m.Email()); e != "" {
				d.unowned[e] = append(d.unowned[e], m)
			}
		}
	}
	return d
}

func (d *differ) conflict(m *orgsync.Member, format string, args ...any) {
	d.plan.Conflicts = append(d.plan.Conflicts, orgsync.Conflict{
		UserName: m.UserName, Key: m.ExternalID, Reason: fmt.Sprintf(format, args...),
	})
	if m.ExternalID != "" {
		d.held[m.ExternalID] = true
	}
}

// diffUsers plans provision, adopt, update and reactivate and deprovision of
// the users the source lists.
func (d *differ) diffUsers(desired []orgsync.Member) {
	keys := make(map[string]int, len(desired))
	names := make(map[string]int, len(desired))
	emails := make(map[string]int, len(desired))
	for i := range desired {
		m := &desired[i]
		keys[m.ExternalID]++
		names[orgsync.Fold(m.UserName)]++
		if e := orgsync.Fold(m.Email()); e != "" {
			emails[e]++
		}
	}
	d.users = make(map[string]*user, len(desired))
	for i := range desired {
		m := &desired[i]
		switch {
		case m.ExternalID == "":
			d.conflict(m, "no external id")
		case m.UserName == "":
			d.conflict(m, "no user name")
		case keys[m.ExternalID] > 1:
			d.conflict(m, "external id appears %d times in the source", keys[m.ExternalID])
		case names[orgsync.Fold(m.UserName)] > 1:
			d.conflict(m, "user name appears %d times in the source", names[orgsync.Fold(m.UserName)])
		case emails[orgsync.Fold(m.Email())] > 1:
			d.conflict(m, "email %q appears %d times in the source", m.Email(), emails[orgsync.Fold(m.Email())])
		default:
			d.diffUser(m)
		}
	}
}

func (d *differ) diffUser(src *orgsync.Member) {
	u := &user{src: src, enabled: src.Status != orgsync.StatusDeprovisioned}
	if have := d.owned[src.ExternalID]; have != nil {
		if h := d.nameHolder(src.UserName, have); h != nil {
			d.conflict(src, "user name %q belongs to another member (%s)", src.UserName, describeOwner(h.Owner))
			return
		}
		u.id = have.ID
		d.users[src.ExternalID] = u
		d.diffOwned(u, have)
		return
	}
	if !u.enabled {
		// Disabled at the source and never provisioned: nothing to do.
		d.users[src.ExternalID] = u
		return
	}
	var adoptee *orgsync.Member
	if e := orgsync.Fold(src.Email()); e != "" {
		switch c := d.unowned[e]; len(c) {
		case 0:
		case 1:
			adoptee = c[0]
		default:
			d.conflict(src, "email %q matches %d members with no owner", src.Email(), len(c))
			return
		}
	}
	if h := d.nameHolder(src.UserName, adoptee); h != nil {
		if h.Owner == "" {
			d.conflict(src, "user name %q belongs to a member with no owner and another email", src.UserName)
		} else {
			d.conflict(src, "user name %q belongs to a member owned by %q", src.UserName, h.Owner)
		}
		return
	}
	d.users[src.ExternalID] = u
	if adoptee != nil {
		d.adopt(u, adoptee)
		return
	}
	u.key = src.ExternalID
	want := d.want(src, "", orgsync.StatusPendingSetup)
	d.plan.Changes = append(d.plan.Changes, orgsync.Change{
		Action: orgsync.ActionProvision, UserName: src.UserName, MemberKey: src.ExternalID, Member: want,
	})
}

// nameHolder returns a member other than self that holds userName.
func (d *differ) nameHolder(userName string, self *orgsync.Member) *orgsync.Member {
	for _, m := range d.byUserName[orgsync.Fold(userName)] {
		if m != self {
			return m
		}
	}
	return nil
}

func describeOwner(owner string) string {
	if owner == "" {
		return "no owner"
	}
	return fmt.Sprintf("owned by %q", owner)
}

// adopt takes over an unowned member with the same email; the store sets
// its profile, owner and key, and a deprovisioned adoptee is reactivated in
// the same plan.
func (d *differ) adopt(u *user, have *orgsync.Member) {
	u.id = have.ID
	d.adopted[have.ID] = true
	d.plan.Changes = append(d.plan.Changes, orgsync.Change{
		Action: orgsync.ActionAdopt, UserName: u.src.UserName, MemberID: have.ID, MemberKey: u.src.ExternalID,
		Fields: d.fields(have, u.src), Member: d.want(u.src, have.ID, have.Status),
		Reason: fmt.Sprintf("no owner, same email %q", u.src.Email()),
	})
	if have.Status == orgsync.StatusDeprovisioned {
		d.plan.Changes = append(d.plan.Changes, orgsync.Change{
			Action: orgsync.ActionReactivate, UserName: u.src.UserName, MemberID: have.ID,
			Member: d.want(u.src, have.ID, have.ReactivatedStatus()),
		})
	}
}

// diffOwned plans the changes of a desired user that has an owned member.
// A reactivation carries the profile changes too (the store applies both at
// once); otherwise they are an update.
func (d *differ) diffOwned(u *user, have *orgsync.Member) {
	f := d.fields(have, u.src)
	switch {
	case u.enabled && have.Status == orgsync.StatusDeprovisioned:
		d.plan.Changes = append(d.plan.Changes, orgsync.Change{
			Action: orgsync.ActionReactivate, UserName: u.src.UserName, MemberID: have.ID, Fields: f,
			Member: d.want(u.src, have.ID, have.ReactivatedStatus()),
		})
		return
	case !u.enabled && have.Status != orgsync.StatusDeprovisioned:
		d.plan.Changes = append(d.plan.Changes, orgsync.Change{
			Action: orgsync.ActionDeprovision, UserName: u.src.UserName, MemberID: have.ID,
			Reason: "disabled at the source",
		})
	}
	if f != nil {
		d.plan.Changes = append(d.plan.Changes, orgsync.Change{
			Action: orgsync.ActionUpdate, UserName: u.src.UserName, MemberID: have.ID, Fields: f,
			Member: d.want(u.src, have.ID, have.Status),
		})
	}
}

// deprovisionMissing suspends owned members the source no longer lists.
func (d *differ) deprovisionMissing() {
	for key, m := range d.owned {
		if d.users[key] != nil || d.held[key] || m.Status == orgsync.StatusDeprovisioned {
			continue
		}
		d.plan.Changes = append(d.plan.Changes, orgsync.Change{
			Action: orgsync.ActionDeprovision, UserName: m.UserName, MemberID: m.ID,
			Reason: "gone from the source",
		})
	}
}

// want is the member a change sets: the source's attributes with the role
// resolved. Status is the status after the change.
func (d *differ) want(src *orgsync.Member, id string, status orgsync.Status) *orgsync.Member {
	return &orgsync.Member{
		ID: id, Org: d.opts.Org, UserName: src.UserName, ExternalID: src.ExternalID,
		Emails:    slices.Clone(src.Emails),
		GivenName: src.GivenName, FamilyName: src.FamilyName, DisplayName: src.DisplayName,
		Role: d.opts.role(src.Role), Status: status, Owner: d.opts.Owner,
	}
}

// fields names the attributes of have that differ from the source's, or nil.
func (d *differ) fields(have, src *orgsync.Member) map[string]orgsync.FieldChange {
	var f map[string]orgsync.FieldChange
	set := func(name, from, to string) {
		if from == to {
			return
		}
		if f == nil {
			f = map[string]orgsync.FieldChange{}
		}
		f[name] = orgsync.FieldChange{From: from, To: to}
	}
	set("user_name", have.UserName, src.UserName)
	if set("email", have.Email(), src.Email()); f["email"] == (orgsync.FieldChange{}) && !slices.Equal(have.Emails, src.Emails) {
		set("emails", emailList(have.Emails), emailList(src.Emails))
	}
	set("given_name", have.GivenName, src.GivenName)
	set("family_name", have.FamilyName, src.FamilyName)
	set("display_name", have.DisplayName, src.DisplayName)
	set("role", have.Role, d.opts.role(src.Role))
	return f
}

// emailList is the text of all addresses, the primary one marked.
func emailList(es []orgsync.Email) string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.Value)
		if e.Type != "" {
			b.WriteString(" (" + e.Type + ")")
		}
		if e.Primary {
			b.WriteString(" *")
		}
	}
	return b.String()
}

// sortChanges orders changes in apply order, then by names and keys, so
// that plans and their renderings are stable.
func sortChanges(cs []orgsync.Change) {
	slices.SortFunc(cs, func(a, b orgsync.Change) int {
		return cmp.Or(
			cmp.Compare(a.Action.Rank(), b.Action.Rank()),
			cmp.Compare(orgsync.Fold(a.GroupName), orgsync.Fold(b.GroupName)),
			cmp.Compare(orgsync.Fold(a.UserName), orgsync.Fold(b.UserName)),
			cmp.Compare(a.GroupName, b.GroupName),
			cmp.Compare(a.UserName, b.UserName),
			cmp.Compare(a.MemberID, b.MemberID),
			cmp.Compare(a.MemberKey, b.MemberKey),
			cmp.Compare(a.GroupID, b.GroupID),
			cmp.Compare(a.GroupKey, b.GroupKey),
		)
	})
}

func sortConflicts(cs []orgsync.Conflict) {
	slices.SortFunc(cs, func(a, b orgsync.Conflict) int {
		return cmp.Or(cmp.Compare(a.Key, b.Key), cmp.Compare(a.UserName, b.UserName), cmp.Compare(a.Reason, b.Reason))
	})
}
