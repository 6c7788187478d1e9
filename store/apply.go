package store

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
)

// chunk is how many keys one IN (...) lookup carries.
const chunk = 500

// applyBatch is how many changes of one action are applied, and their
// events written, at a time.
const applyBatch = 2000

// Apply executes a Plan in one transaction: all of it or none of it. Each
// change is applied only if the store is not already as it asks (so a plan
// applied twice changes nothing the second time) and only to members and
// groups Plan.Owner owns; Applied counts what really changed. Members and
// groups created by the same plan are resolved by their ExternalID. Every
// applied change appends an event in the same transaction.
func (s *Store) Apply(ctx context.Context, p orgsync.Plan) (orgsync.Applied, error) {
	applied := orgsync.Applied{Counts: orgsync.Plan{}.Summary()}
	if p.Empty() {
		return applied, nil
	}
	err := s.write(ctx, func(tx *gorm.DB) error {
		var err error
		applied, err = s.applyIn(ctx, tx, p)
		return err
	})
	if err != nil {
		return orgsync.Applied{Counts: orgsync.Plan{}.Summary()}, fmt.Errorf("store: apply plan of %q to org %q: %w", p.Owner, p.Org, err)
	}
	return applied, nil
}

// applyIn applies p in the transaction tx (see Apply).
func (s *Store) applyIn(ctx context.Context, tx *gorm.DB, p orgsync.Plan) (orgsync.Applied, error) {
	a := &applier{s: s, tx: tx, ctx: s.quiet(ctx), plan: p, out: &orgsync.Applied{Counts: orgsync.Plan{}.Summary()},
		events: make([]eventRow, 0, min(len(p.Changes), applyBatch)), ownedGroups: map[string]bool{}, memberKeys: map[string]string{}, created: map[string]bool{}, createdIn: map[memberPair]bool{}, groupKeys: map[string]string{}, members: map[string]*orgsync.Member{}}
	a.now = s.Now()
	a.nowArg = s.stamp(a.now)
	if err := tx.Raw(`SELECT default_role FROM orgs WHERE id = ?`, p.Org).Scan(&a.defaultRole).Error; err != nil {
		return orgsync.Applied{}, err
	}
	if a.defaultRole == "" {
		return orgsync.Applied{}, fmt.Errorf("org %q: %w", p.Org, orgsync.ErrNotFound)
	}
	// Runs of one action are applied a batch at a time, each batch's
	// events written right after it: memory stays bounded however
	// large the plan, and the events keep the plan's order.
	for i := 0; i < len(p.Changes); {
		if err := ctx.Err(); err != nil {
			return orgsync.Applied{}, err
		}
		j := i
		for j < len(p.Changes) && j-i < applyBatch && p.Changes[j].Action == p.Changes[i].Action {
			j++
		}
		if err := a.apply(p.Changes[i].Action, p.Changes[i:j]); err != nil {
			return orgsync.Applied{}, fmt.Errorf("%s: %w", p.Changes[i].Action, err)
		}
		if err := s.appendEvents(a.ctx, tx, a.events); err != nil {
			return orgsync.Applied{}, err
		}
		a.events = a.events[:0]
		i = j
	}
	return *a.out, nil
}

type applier struct {
	s           *Store
	tx          *gorm.DB
	ctx         context.Context
	plan        orgsync.Plan
	now         time.Time
	nowArg      any // now as a statement argument (Store.stamp)
	defaultRole string
	out         *orgsync.Applied
	events      []eventRow
	memberKeys  map[string]string   // owner's ExternalID → member ID
	created     map[string]bool     // IDs of the members this apply provisioned
	createdIn   map[memberPair]bool // their memberships this apply added
	groupKeys   map[string]string   // owner's ExternalID → group ID
	members     map[string]*orgsync.Member
	ownedGroups map[string]bool // group ID → owned by the plan's owner, as checked
}

func (a *applier) apply(action orgsync.Action, cs []orgsync.Change) error {
	switch action {
	case orgsync.ActionProvision:
		return a.provision(cs)
	case orgsync.ActionAdopt, orgsync.ActionUpdate, orgsync.ActionReactivate, orgsync.ActionDeprovision, orgsync.ActionPurge:
		return a.memberChanges(action, cs)
	case orgsync.ActionGroupCreate:
		return a.groupCreate(cs)
	case orgsync.ActionGroupUpdate, orgsync.ActionGroupDelete:
		return a.groupChanges(action, cs)
	case orgsync.ActionMemberAdd:
		return a.memberAdd(cs)
	case orgsync.ActionMemberRemove:
		return a.memberRemove(cs)
	}
	return fmt.Errorf("unknown action %q: %w", action, orgsync.ErrInvalid)
}

func (a *applier) skip(c orgsync.Change, why string) {
	name := c.UserName
	if name == "" {
		name = c.GroupName
	}
	a.out.Skipped = append(a.out.Skipped, fmt.Sprintf("%s %s: %s", c.Action, name, why))
}

func (a *applier) event(kind, memberID, groupID string, before, after any) {
	a.events = append(a.events, eventRow{org: a.plan.Org, actor: a.actor(), kind: kind, memberID: memberID, groupID: groupID, before: before, after: after})
}

// actor is the plan's owner; a plan without one (an operator's, or an old
// purge) is recorded as the purge's.
func (a *applier) actor() string {
	if a.plan.Owner == "" {
		return orgsync.OwnerPurge
	}
	return a.plan.Owner
}

// lookup runs query (which ends in "IN") over keys in chunks and calls fn
// for every row.
func (a *applier) lookup(query string, args []any, keys []string, fn func(scan func(...any) error) error) error {
	for start := 0; start < len(keys); start += chunk {
		part := keys[start:min(start+chunk, len(keys))]
		all := append(append([]any{}, args...), toAny(part)...)
		q := query + " (" + placeholders(len(part)) + ")"
		if a.s.dialect.postgres {
			q = numbered(q)
		}
		rows, err := a.tx.Statement.ConnPool.QueryContext(a.ctx, q, all...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := fn(rows.Scan); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (a *applier) provision(cs []orgsync.Change) error {
	keys := make([]string, 0, len(cs))
	folds := make([]string, 0, len(cs))
	for _, c := range cs {
		if c.Member == nil || c.MemberKey == "" {
			return fmt.Errorf("provision %q without member or key: %w", c.UserName, orgsync.ErrInvalid)
		}
		keys = append(keys, c.MemberKey)
		folds = append(folds, orgsync.Fold(c.Member.UserName))
	}
	if err := a.lookup(`SELECT external_id, id FROM members WHERE org_id = ? AND owner = ? AND external_id IN`,
		[]any{a.plan.Org, a.plan.Owner}, keys, func(scan func(...any) error) error {
			var k, id string
			if err := scan(&k, &id); err != nil {
				return err
			}
			a.memberKeys[k] = id
			return nil
		}); err != nil {
		return err
	}
	taken := map[string]string{}
	if err := a.lookup(`SELECT user_name_fold, owner FROM members WHERE org_id = ? AND user_name_fold IN`,
		[]any{a.plan.Org}, folds, func(scan func(...any) error) error {
			var f, owner string
			if err := scan(&f, &owner); err != nil {
				return err
			}
			taken[f] = owner
			return nil
		}); err != nil {
		return err
	}
	var memberRows, emailRows [][]any
	for _, c := range cs {
		if _, done := a.memberKeys[c.MemberKey]; done {
			continue // provisioned by an earlier apply of this plan
		}
		if hasNUL(c.Member) {
			a.skip(c, errNUL)
			continue
		}
		fold := orgsync.Fold(c.Member.UserName)
		if owner, ok := taken[fold]; ok {
			a.skip(c, fmt.Sprintf("user name is taken by a member owned by %q", orgsync.OwnerName(owner)))
			continue
		}
		m := *c.Member
		m.ID, m.Org, m.Owner, m.ExternalID = newID(), a.plan.Org, a.plan.Owner, c.MemberKey
		m.Status, m.Version, m.CreatedAt, m.UpdatedAt = orgsync.StatusPendingSetup, 1, a.now, a.now
		m.SetupCompletedAt, m.DeprovisionedAt, m.DeletedAt, m.Groups = nil, nil, nil, nil
		if m.Role == "" {
			m.Role = a.defaultRole
		}
		taken[fold] = a.plan.Owner
		a.memberKeys[c.MemberKey] = m.ID
		a.created[m.ID] = true
		memberRows = append(memberRows, []any{m.ID, m.Org, m.UserName, fold, m.ExternalID, m.Email(), m.GivenName, m.FamilyName,
			m.DisplayName, m.Role, string(m.Status), m.Owner, m.Version, a.nowArg, a.nowArg})
		emailRows = appendEmailRows(emailRows, &m)
		a.out.Counts[orgsync.ActionProvision]++
		a.out.Provisioned = append(a.out.Provisioned, m.UserName)
		a.event(orgsync.EventMemberCreated, m.ID, "", nil, m)
	}
	if err := a.s.insert(a.ctx, a.tx, "members", []string{"id", "org_id", "user_name", "user_name_fold", "external_id", "email",
		"given_name", "family_name", "display_name", "role", "status", "owner", "version", "created_at", "updated_at"}, memberRows, ""); err != nil {
		return err
	}
	return a.s.insert(a.ctx, a.tx, "member_emails", emailCols, emailRows, "")
}

// errNUL is why a change carrying a NUL character is skipped: PostgreSQL
// cannot store one in text, and no directory value legitimately has one.
const errNUL = "a value contains a NUL character"

func hasNUL(m *orgsync.Member) bool {
	for _, v := range []string{m.UserName, m.ExternalID, m.GivenName, m.FamilyName, m.DisplayName, m.Role} {
		if strings.IndexByte(v, 0) >= 0 {
			return true
		}
	}
	for _, e := range m.Emails {
		if strings.IndexByte(e.Value, 0) >= 0 || strings.IndexByte(e.Type, 0) >= 0 {
			return true
		}
	}
	return false
}

var emailCols = []string{"member_id", "pos", "org_id", "value", "value_fold", "type", "is_primary"}

func appendEmailRows(rows [][]any, m *orgsync.Member) [][]any {
	for i, e := range m.Emails {
		rows = append(rows, []any{m.ID, i, m.Org, e.Value, orgsync.Fold(e.Value), e.Type, e.Primary})
	}
	return rows
}

// loadMembers fetches the members the changes address by ID.
func (a *applier) loadMembers(cs []orgsync.Change) error {
	var ids []string
	for _, c := range cs {
		if c.MemberID != "" && a.members[c.MemberID] == nil {
			ids = append(ids, c.MemberID)
		}
	}
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		rows, err := a.tx.Raw(`SELECT `+memberCols+` FROM members WHERE org_id = ? AND id IN ?`, a.plan.Org, part).Rows()
		if err != nil {
			return err
		}
		ms, err := scanMembers(rows)
		if err != nil {
			return err
		}
		if err := a.s.attachEmails(a.ctx, a.tx, a.plan.Org, ms); err != nil {
			return err
		}
		for i := range ms {
			a.members[ms[i].ID] = &ms[i]
		}
	}
	return nil
}

func (a *applier) memberChanges(action orgsync.Action, cs []orgsync.Change) error {
	if err := a.loadMembers(cs); err != nil {
		return err
	}
	for _, c := range cs {
		m := a.members[c.MemberID]
		if m == nil {
			a.skip(c, "member no longer exists")
			continue
		}
		if c.Member != nil && hasNUL(c.Member) {
			a.skip(c, errNUL)
			continue
		}
		if err := orgsync.MayApply(a.plan.Owner, action, m); err != nil {
			a.skip(c, err.Error())
			continue
		}
		var err error
		switch action {
		case orgsync.ActionAdopt:
			err = a.adopt(c, m)
		case orgsync.ActionUpdate:
			err = a.update(c, m)
		case orgsync.ActionReactivate:
			err = a.reactivate(c, m)
		case orgsync.ActionDeprovision:
			err = a.deprovision(c, m)
		case orgsync.ActionPurge:
			err = a.purge(c, m)
		}
		if err != nil {
			return fmt.Errorf("member %q: %w", m.UserName, err)
		}
	}
	return nil
}

// profile copies the attributes a source or IdP sets from src to dst and
// reports whether anything differed.
func profile(dst *orgsync.Member, src *orgsync.Member, defaultRole string) bool {
	role := src.Role
	if role == "" {
		role = defaultRole
	}
	changed := dst.UserName != src.UserName || dst.GivenName != src.GivenName || dst.FamilyName != src.FamilyName ||
		dst.DisplayName != src.DisplayName || dst.Role != role || !sameEmails(dst.Emails, src.Emails)
	dst.UserName, dst.GivenName, dst.FamilyName, dst.DisplayName, dst.Role = src.UserName, src.GivenName, src.FamilyName, src.DisplayName, role
	dst.Emails = append([]orgsync.Email(nil), src.Emails...)
	return changed
}

func sameEmails(a, b []orgsync.Email) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// saveMember writes every mutable column of m and its emails.
func (a *applier) saveMember(m *orgsync.Member) error {
	return a.s.saveMember(a.ctx, a.tx, m)
}

func (s *Store) saveMember(ctx context.Context, tx *gorm.DB, m *orgsync.Member) error {
	n, err := s.exec(ctx, tx, `UPDATE members SET user_name = ?, user_name_fold = ?, external_id = ?, email = ?, given_name = ?,
		family_name = ?, display_name = ?, role = ?, status = ?, owner = ?, setup_completed_at = ?, deprovisioned_at = ?,
		deleted_at = ?, version = ?, updated_at = ? WHERE id = ?`,
		m.UserName, orgsync.Fold(m.UserName), m.ExternalID, m.Email(), m.GivenName, m.FamilyName, m.DisplayName, m.Role,
		string(m.Status), m.Owner, nullTime(m.SetupCompletedAt), nullTime(m.DeprovisionedAt), nullTime(m.DeletedAt),
		m.Version, m.UpdatedAt, m.ID)
	if err != nil {
		return translate(err)
	}
	if n == 0 {
		return fmt.Errorf("member %q: %w", m.ID, orgsync.ErrNotFound)
	}
	if _, err := s.exec(ctx, tx, `DELETE FROM member_emails WHERE member_id = ?`, m.ID); err != nil {
		return err
	}
	return s.insert(ctx, tx, "member_emails", emailCols, appendEmailRows(nil, m), "")
}

func (a *applier) nameTaken(m *orgsync.Member) (string, bool, error) {
	var owner []string
	err := a.tx.Raw(`SELECT owner FROM members WHERE org_id = ? AND user_name_fold = ? AND id <> ?`,
		a.plan.Org, orgsync.Fold(m.UserName), m.ID).Scan(&owner).Error
	if err != nil || len(owner) == 0 {
		return "", false, err
	}
	return owner[0], true, nil
}

func (a *applier) adopt(c orgsync.Change, m *orgsync.Member) error {
	if c.Member == nil || c.MemberKey == "" {
		return fmt.Errorf("adopt without member or key: %w", orgsync.ErrInvalid)
	}
	before := *m
	profile(m, c.Member, a.defaultRole)
	if owner, taken, err := a.nameTaken(m); err != nil {
		return err
	} else if taken {
		*m = before
		a.skip(c, fmt.Sprintf("user name is taken by a member owned by %q", orgsync.OwnerName(owner)))
		return nil
	}
	m.Owner, m.ExternalID, m.Version, m.UpdatedAt = a.plan.Owner, c.MemberKey, m.Version+1, a.now
	if err := a.saveMember(m); err != nil {
		return err
	}
	a.memberKeys[c.MemberKey] = m.ID
	a.out.Counts[orgsync.ActionAdopt]++
	a.event(orgsync.EventMemberAdopted, m.ID, "", before, *m)
	return nil
}

func (a *applier) update(c orgsync.Change, m *orgsync.Member) error {
	if c.Member == nil {
		return fmt.Errorf("update without member: %w", orgsync.ErrInvalid)
	}
	before := *m
	if !profile(m, c.Member, a.defaultRole) {
		return nil // already as desired
	}
	if owner, taken, err := a.nameTaken(m); err != nil {
		return err
	} else if taken {
		*m = before
		a.skip(c, fmt.Sprintf("new user name is taken by a member owned by %q", orgsync.OwnerName(owner)))
		return nil
	}
	m.Version, m.UpdatedAt = m.Version+1, a.now
	if err := a.saveMember(m); err != nil {
		return err
	}
	a.out.Counts[orgsync.ActionUpdate]++
	a.event(orgsync.EventMemberUpdated, m.ID, "", before, *m)
	return nil
}

func (a *applier) reactivate(c orgsync.Change, m *orgsync.Member) error {
	before := *m
	kind := m.Reactivate()
	if kind == "" {
		return nil
	}
	m.Version, m.UpdatedAt = m.Version+1, a.now
	if c.Member != nil {
		profile(m, c.Member, a.defaultRole)
	}
	if err := a.saveMember(m); err != nil {
		return err
	}
	a.out.Counts[orgsync.ActionReactivate]++
	a.event(kind, m.ID, "", before, *m)
	return nil
}

func (a *applier) deprovision(_ orgsync.Change, m *orgsync.Member) error {
	before := *m
	kind := m.Deprovision(a.now)
	if kind == "" {
		return nil
	}
	m.Version, m.UpdatedAt = m.Version+1, a.now
	if err := a.saveMember(m); err != nil {
		return err
	}
	a.out.Counts[orgsync.ActionDeprovision]++
	a.event(kind, m.ID, "", before, *m)
	return nil
}

// purge deletes m, which MayApply let the plan purge.
func (a *applier) purge(_ orgsync.Change, m *orgsync.Member) error {
	if _, err := a.s.exec(a.ctx, a.tx, `DELETE FROM members WHERE id = ?`, m.ID); err != nil {
		return err
	}
	delete(a.members, m.ID)
	a.out.Counts[orgsync.ActionPurge]++
	a.event(orgsync.EventMemberPurged, m.ID, "", *m, nil)
	return nil
}

func (a *applier) groupCreate(cs []orgsync.Change) error {
	keys := make([]string, 0, len(cs))
	for _, c := range cs {
		if c.Group == nil || c.GroupKey == "" {
			return fmt.Errorf("group_create %q without group or key: %w", c.GroupName, orgsync.ErrInvalid)
		}
		keys = append(keys, c.GroupKey)
	}
	if err := a.resolveGroups(keys); err != nil {
		return err
	}
	for _, c := range cs {
		if _, done := a.groupKeys[c.GroupKey]; done {
			continue
		}
		var owner []string
		if err := a.tx.Raw(`SELECT owner FROM org_groups WHERE org_id = ? AND display_name_fold = ?`,
			a.plan.Org, orgsync.Fold(c.Group.DisplayName)).Scan(&owner).Error; err != nil {
			return err
		}
		if len(owner) > 0 {
			a.skip(c, fmt.Sprintf("group name is taken by a group owned by %q", orgsync.OwnerName(owner[0])))
			continue
		}
		g := orgsync.Group{ID: newID(), Org: a.plan.Org, DisplayName: c.Group.DisplayName, ExternalID: c.GroupKey,
			Owner: a.plan.Owner, Version: 1, CreatedAt: a.now, UpdatedAt: a.now}
		a.groupKeys[c.GroupKey] = g.ID
		row := []any{g.ID, g.Org, g.DisplayName, orgsync.Fold(g.DisplayName), g.ExternalID, g.Owner, g.Version, a.nowArg, a.nowArg}
		if err := a.s.insert(a.ctx, a.tx, "org_groups", groupCols, [][]any{row}, ""); err != nil {
			return err
		}
		a.out.Counts[orgsync.ActionGroupCreate]++
		a.event(orgsync.EventGroupCreated, "", g.ID, nil, g)
	}
	return nil
}

var groupCols = []string{"id", "org_id", "display_name", "display_name_fold", "external_id", "owner", "version", "created_at", "updated_at"}

// resolveGroups maps the owner's group keys to IDs.
func (a *applier) resolveGroups(keys []string) error {
	var missing []string
	for _, k := range keys {
		if _, ok := a.groupKeys[k]; !ok {
			missing = append(missing, k)
		}
	}
	return a.lookup(`SELECT external_id, id FROM org_groups WHERE org_id = ? AND owner = ? AND external_id IN`,
		[]any{a.plan.Org, a.plan.Owner}, missing, func(scan func(...any) error) error {
			var k, id string
			if err := scan(&k, &id); err != nil {
				return err
			}
			a.groupKeys[k] = id
			return nil
		})
}

// resolveMembers maps the owner's member keys to IDs.
func (a *applier) resolveMembers(keys []string) error {
	var missing []string
	for _, k := range keys {
		if _, ok := a.memberKeys[k]; !ok {
			missing = append(missing, k)
		}
	}
	return a.lookup(`SELECT external_id, id FROM members WHERE org_id = ? AND owner = ? AND external_id IN`,
		[]any{a.plan.Org, a.plan.Owner}, missing, func(scan func(...any) error) error {
			var k, id string
			if err := scan(&k, &id); err != nil {
				return err
			}
			a.memberKeys[k] = id
			return nil
		})
}

type groupRow struct {
	id, owner, name string
	version         int64
}

func (a *applier) loadGroup(id string) (*groupRow, error) {
	var rows []struct {
		ID, Owner, DisplayName string
		Version                int64
	}
	if err := a.tx.Raw(`SELECT id, owner, display_name, version FROM org_groups WHERE org_id = ? AND id = ?`, a.plan.Org, id).Scan(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &groupRow{id: rows[0].ID, owner: rows[0].Owner, name: rows[0].DisplayName, version: rows[0].Version}, nil
}

func (a *applier) groupChanges(action orgsync.Action, cs []orgsync.Change) error {
	for _, c := range cs {
		id := c.GroupID
		if id == "" && c.GroupKey != "" {
			if err := a.resolveGroups([]string{c.GroupKey}); err != nil {
				return err
			}
			id = a.groupKeys[c.GroupKey]
		}
		g, err := a.loadGroup(id)
		if err != nil {
			return err
		}
		if g == nil {
			if action != orgsync.ActionGroupDelete {
				a.skip(c, "group no longer exists")
			}
			continue
		}
		if err := orgsync.MayChangeGroup(a.plan.Owner, g.owner); err != nil {
			a.skip(c, err.Error())
			continue
		}
		switch action {
		case orgsync.ActionGroupUpdate:
			if c.Group == nil {
				return fmt.Errorf("group_update without group: %w", orgsync.ErrInvalid)
			}
			if g.name == c.Group.DisplayName {
				continue
			}
			var other int64
			if err := a.tx.Raw(`SELECT COUNT(*) FROM org_groups WHERE org_id = ? AND display_name_fold = ? AND id <> ?`,
				a.plan.Org, orgsync.Fold(c.Group.DisplayName), g.id).Scan(&other).Error; err != nil {
				return err
			}
			if other > 0 {
				a.skip(c, "new group name is taken")
				continue
			}
			if _, err := a.s.exec(a.ctx, a.tx, `UPDATE org_groups SET display_name = ?, display_name_fold = ?, version = version + 1, updated_at = ? WHERE id = ?`,
				c.Group.DisplayName, orgsync.Fold(c.Group.DisplayName), a.now, g.id); err != nil {
				return err
			}
			a.out.Counts[action]++
			a.event(orgsync.EventGroupUpdated, "", g.id, map[string]string{"display_name": g.name}, map[string]string{"display_name": c.Group.DisplayName})
		case orgsync.ActionGroupDelete:
			if _, err := a.s.exec(a.ctx, a.tx, `DELETE FROM org_groups WHERE id = ?`, g.id); err != nil {
				return err
			}
			a.out.Counts[action]++
			a.event(orgsync.EventGroupDeleted, "", g.id, map[string]string{"display_name": g.name}, nil)
		}
	}
	return nil
}

func (a *applier) memberAdd(cs []orgsync.Change) error {
	var gkeys, mkeys []string
	for _, c := range cs {
		if c.GroupID == "" {
			gkeys = append(gkeys, c.GroupKey)
		}
		if c.MemberID == "" {
			mkeys = append(mkeys, c.MemberKey)
		}
	}
	if err := a.resolveGroups(gkeys); err != nil {
		return err
	}
	if err := a.resolveMembers(mkeys); err != nil {
		return err
	}
	groupIDs := map[string]bool{}
	for _, c := range cs {
		if id := c.GroupID; id != "" {
			groupIDs[id] = true
		} else if id := a.groupKeys[c.GroupKey]; id != "" {
			groupIDs[id] = true
		}
	}
	var unchecked []string
	for id := range groupIDs {
		if _, ok := a.ownedGroups[id]; !ok {
			unchecked = append(unchecked, id)
			a.ownedGroups[id] = false
		}
	}
	if err := a.lookup(`SELECT id FROM org_groups WHERE org_id = ? AND owner = ? AND id IN`, []any{a.plan.Org, a.plan.Owner}, unchecked,
		func(scan func(...any) error) error {
			var id string
			if err := scan(&id); err != nil {
				return err
			}
			a.ownedGroups[id] = true
			return nil
		}); err != nil {
		return err
	}
	owned := a.ownedGroups
	// The memberships that already exist, looked up by the batch's
	// members (a group may have far more members than a batch names).
	// Members this apply provisioned have none but those it added.
	var mids []string
	for _, c := range cs {
		if mid := cmp.Or(c.MemberID, a.memberKeys[c.MemberKey]); mid != "" && !a.created[mid] {
			mids = append(mids, mid)
		}
	}
	have := map[memberPair]bool{}
	if err := a.lookup(`SELECT group_id, member_id FROM group_members WHERE member_id IN`, nil, mids,
		func(scan func(...any) error) error {
			var p memberPair
			if err := scan(&p.g, &p.m); err != nil {
				return err
			}
			have[p] = true
			return nil
		}); err != nil {
		return err
	}
	var rows [][]any
	for _, c := range cs {
		gid, mid := c.GroupID, c.MemberID
		if gid == "" {
			gid = a.groupKeys[c.GroupKey]
		}
		if mid == "" {
			mid = a.memberKeys[c.MemberKey]
		}
		switch {
		case gid == "" || mid == "":
			a.skip(c, "group or member does not exist")
			continue
		case !owned[gid]:
			a.skip(c, "group is not owned by this source")
			continue
		case have[memberPair{gid, mid}], a.createdIn[memberPair{gid, mid}]:
			continue
		}
		if a.created[mid] {
			a.createdIn[memberPair{gid, mid}] = true
		} else {
			have[memberPair{gid, mid}] = true
		}
		rows = append(rows, []any{gid, mid, a.plan.Org, a.nowArg})
		a.out.Counts[orgsync.ActionMemberAdd]++
		a.event(orgsync.EventGroupMemberAdded, mid, gid, nil, membershipState{c.GroupName, c.UserName})
	}
	err := a.s.insert(a.ctx, a.tx, "group_members", []string{"group_id", "member_id", "org_id", "created_at"}, rows, "")
	if err != nil && strings.Contains(err.Error(), "FOREIGN KEY") {
		return fmt.Errorf("a member or group vanished: %w", orgsync.ErrConflict)
	}
	return err
}

// membershipState is the state a membership event records (the same JSON as a
// map of the two, without building one per event).
type membershipState struct {
	Group    string `json:"group"`
	UserName string `json:"user_name"`
}

// memberPair is a membership: group ID and member ID.
type memberPair struct{ g, m string }

func (a *applier) memberRemove(cs []orgsync.Change) error {
	for _, c := range cs {
		gid := c.GroupID
		if gid == "" {
			if err := a.resolveGroups([]string{c.GroupKey}); err != nil {
				return err
			}
			gid = a.groupKeys[c.GroupKey]
		}
		g, err := a.loadGroup(gid)
		if err != nil {
			return err
		}
		if g == nil {
			continue
		}
		if err := orgsync.MayChangeGroup(a.plan.Owner, g.owner); err != nil {
			a.skip(c, err.Error())
			continue
		}
		n, err := a.s.exec(a.ctx, a.tx, `DELETE FROM group_members WHERE group_id = ? AND member_id = ?`, gid, c.MemberID)
		if err != nil {
			return err
		}
		if n > 0 {
			a.out.Counts[orgsync.ActionMemberRemove]++
			a.event(orgsync.EventGroupMemberRemoved, c.MemberID, gid, membershipState{c.GroupName, c.UserName}, nil)
		}
	}
	return nil
}
