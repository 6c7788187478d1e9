package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
)

const (
	groupFields = `SELECT g.id, g.org_id, g.display_name, g.external_id, g.owner, g.version, g.created_at, g.updated_at`
	groupSelect = groupFields + ` FROM org_groups g`
)

func scanGroups(rows *sql.Rows) ([]orgsync.Group, error) {
	defer rows.Close()
	var out []orgsync.Group
	for rows.Next() {
		var g orgsync.Group
		if err := rows.Scan(&g.ID, &g.Org, &g.DisplayName, &g.ExternalID, &g.Owner, &g.Version, &g.CreatedAt, &g.UpdatedAt); err != nil {
			return nil, err
		}
		g.CreatedAt, g.UpdatedAt = g.CreatedAt.UTC(), g.UpdatedAt.UTC()
		out = append(out, g)
	}
	return out, rows.Err()
}

// SCIMGroup returns a SCIM-owned group by ID. With members, Group.Members
// holds the IDs of its live SCIM-visible members (ordered by userName) and
// the map describes each of them (ID, UserName, DisplayName, Status).
// Unknown or owned by someone else: ErrNotFound.
func (s *Store) SCIMGroup(ctx context.Context, org, id string, members bool) (orgsync.Group, map[string]orgsync.Member, error) {
	rows, err := s.query(ctx, groupSelect+` WHERE g.org_id = ? AND g.id = ? AND g.owner = ?`, org, id, scimOwner)
	if err != nil {
		return orgsync.Group{}, nil, fmt.Errorf("store: group %q: %w", id, err)
	}
	gs, err := scanGroups(rows)
	if err != nil {
		return orgsync.Group{}, nil, fmt.Errorf("store: group %q: %w", id, err)
	}
	if len(gs) == 0 {
		return orgsync.Group{}, nil, fmt.Errorf("group %q: %w", id, orgsync.ErrNotFound)
	}
	var briefs map[string]orgsync.Member
	if members {
		if briefs, err = s.attachGroupMembers(ctx, gs); err != nil {
			return orgsync.Group{}, nil, fmt.Errorf("store: group %q members: %w", id, err)
		}
	}
	return gs[0], briefs, nil
}

// SCIMGroups lists one page of the SCIM-owned groups matching q.Filter,
// ordered by folded displayName (unique), with the total number of matches;
// members as in SCIMGroup.
func (s *Store) SCIMGroups(ctx context.Context, org string, q orgsync.Query, members bool) ([]orgsync.Group, map[string]orgsync.Member, int, error) {
	where, fargs, err := s.dialect.translateFilter(org, groupSchema, q.Filter)
	if err != nil {
		return nil, nil, 0, err
	}
	from := ` FROM org_groups g WHERE ` + s.dialect.scope("g", q.Filter)
	args := []any{org, scimOwner}
	if where != "" {
		from += " AND " + where
		args = append(args, fargs...)
	}
	start := max(q.StartIndex, 1)
	var (
		groups []orgsync.Group
		briefs map[string]orgsync.Member
	)
	if q.Count > 0 {
		rows, err := s.query(ctx, groupFields+from+` ORDER BY g.display_name_fold LIMIT ? OFFSET ?`, append(args, q.Count, start-1)...)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("store: list groups: %w", err)
		}
		if groups, err = scanGroups(rows); err != nil {
			return nil, nil, 0, fmt.Errorf("store: list groups: %w", err)
		}
		if members {
			if briefs, err = s.attachGroupMembers(ctx, groups); err != nil {
				return nil, nil, 0, fmt.Errorf("store: list groups: %w", err)
			}
		}
	}
	total, err := s.total(ctx, q, start, len(groups), from, args)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("store: count groups: %w", err)
	}
	return groups, briefs, total, nil
}

// SCIMGroupsMembers returns the members of the leading groups of groupIDs
// (SCIM-owned groups of org, in the caller's order) while their members
// together fit budget: the first group whose members would not fit, and
// every group after it, is left out of the map, so that a caller listing
// groups carries whole groups only and holds at most about budget members.
// Members are as SCIMGroup attaches them (live, SCIM-visible, ordered by
// userName; ID, UserName, DisplayName, Status). An ID that is not a
// SCIM-owned group of org is skipped. Two queries, whatever the number of
// groups: one counts, one reads.
func (s *Store) SCIMGroupsMembers(ctx context.Context, org string, groupIDs []string, budget int) (map[string][]orgsync.Member, error) {
	out := map[string][]orgsync.Member{}
	if len(groupIDs) == 0 {
		return out, nil
	}
	ids := toAny(groupIDs)
	rows, err := s.query(ctx, `SELECT g.id, COUNT(m.id) FROM org_groups g
		LEFT JOIN group_members gm ON gm.group_id = g.id
		LEFT JOIN members m ON m.id = gm.member_id AND m.owner = ? AND m.deleted_at IS NULL
		WHERE g.id IN (`+placeholders(len(ids))+`) AND g.org_id = ? AND g.owner = ?
		GROUP BY g.id`, append(append([]any{scimOwner}, ids...), org, scimOwner)...)
	if err != nil {
		return nil, fmt.Errorf("store: count group members: %w", translate(err))
	}
	counts := map[string]int{} // only the groups of org owned by "scim"
	for rows.Next() {
		var gid string
		var n int
		if err := rows.Scan(&gid, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: count group members: %w", err)
		}
		counts[gid] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: count group members: %w", translate(err))
	}
	var take []string
	left := budget
	for _, id := range groupIDs {
		n, ok := counts[id]
		if !ok {
			continue // not a SCIM group of org: it has no members here
		}
		if n > left {
			break
		}
		left -= n
		take = append(take, id)
		out[id] = nil
	}
	if len(take) == 0 {
		return out, nil
	}
	groups := make([]orgsync.Group, len(take))
	for i, id := range take {
		groups[i].ID = id
	}
	briefs, err := s.attachGroupMembers(ctx, groups)
	if err != nil {
		return nil, fmt.Errorf("store: group members: %w", translate(err))
	}
	for _, g := range groups {
		ms := make([]orgsync.Member, len(g.Members))
		for i, id := range g.Members {
			ms[i] = briefs[id]
		}
		out[g.ID] = ms
	}
	return out, nil
}

// attachGroupMembers fills Members of groups with their visible members.
func (s *Store) attachGroupMembers(ctx context.Context, groups []orgsync.Group) (map[string]orgsync.Member, error) {
	briefs := map[string]orgsync.Member{}
	if len(groups) == 0 {
		return briefs, nil
	}
	idx := make(map[string]int, len(groups))
	ids := make([]any, 0, len(groups))
	for i := range groups {
		idx[groups[i].ID] = i
		ids = append(ids, groups[i].ID)
	}
	rows, err := s.query(ctx, `SELECT gm.group_id, m.id, m.user_name, m.display_name, m.status FROM group_members gm
		JOIN members m ON m.id = gm.member_id
		WHERE gm.group_id IN (`+placeholders(len(ids))+`) AND m.owner = ? AND m.deleted_at IS NULL
		ORDER BY gm.group_id, m.user_name_fold`, append(ids, scimOwner)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var gid, status string
		var m orgsync.Member
		if err := rows.Scan(&gid, &m.ID, &m.UserName, &m.DisplayName, &status); err != nil {
			return nil, err
		}
		m.Status = orgsync.Status(status)
		briefs[m.ID] = m
		if i, ok := idx[gid]; ok {
			groups[i].Members = append(groups[i].Members, m.ID)
		}
	}
	return briefs, rows.Err()
}

func (s *Store) loadSCIMGroup(ctx context.Context, tx *gorm.DB, org, id string) (orgsync.Group, error) {
	rows, err := s.txQuery(ctx, tx, groupSelect+` WHERE g.org_id = ? AND g.id = ? AND g.owner = ?`, org, id, scimOwner)
	if err != nil {
		return orgsync.Group{}, err
	}
	gs, err := scanGroups(rows)
	if err != nil {
		return orgsync.Group{}, err
	}
	if len(gs) == 0 {
		return orgsync.Group{}, fmt.Errorf("group %q: %w", id, orgsync.ErrNotFound)
	}
	return gs[0], nil
}

// groupNameFree fails with ErrConflict when another group of org holds
// name (case-insensitively), naming its owner when that is not "scim".
func (s *Store) groupNameFree(ctx context.Context, tx *gorm.DB, org, name, except string) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("displayName is required: %w", orgsync.ErrInvalid)
	}
	rows, err := s.txQuery(ctx, tx, `SELECT owner FROM org_groups WHERE org_id = ? AND display_name_fold = ? AND id <> ?`,
		org, orgsync.Fold(name), except)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var owner string
		if err := rows.Scan(&owner); err != nil {
			return err
		}
		if owner == scimOwner {
			return fmt.Errorf("group displayName %q already exists: %w", name, orgsync.ErrConflict)
		}
		return fmt.Errorf("group displayName %q belongs to a group owned by %q: %w", name, orgsync.OwnerName(owner), orgsync.ErrConflict)
	}
	return rows.Err()
}

// SCIMCreateGroup creates a group owned by "scim" with g's DisplayName,
// ExternalID and Members (member IDs, which must be live SCIM members:
// otherwise ErrInvalid). A taken displayName is ErrConflict.
func (s *Store) SCIMCreateGroup(ctx context.Context, org string, g orgsync.Group) (orgsync.Group, error) {
	var out orgsync.Group
	err := s.write(ctx, func(tx *gorm.DB) error {
		if err := s.groupNameFree(ctx, tx, org, g.DisplayName, ""); err != nil {
			return err
		}
		now := s.Now()
		out = orgsync.Group{ID: newID(), Org: org, DisplayName: g.DisplayName, ExternalID: g.ExternalID, Owner: scimOwner,
			Version: 1, CreatedAt: now, UpdatedAt: now}
		if err := s.insert(ctx, tx, "org_groups", groupCols, [][]any{{out.ID, org, out.DisplayName, orgsync.Fold(out.DisplayName),
			out.ExternalID, out.Owner, out.Version, now, now}}, ""); err != nil {
			return translate(err)
		}
		evs := []eventRow{{org: org, actor: scimOwner, kind: orgsync.EventGroupCreated, groupID: out.ID, after: out}}
		m := &membership{s: s, ctx: ctx, tx: tx, g: out}
		if _, err := m.add(g.Members); err != nil {
			return err
		}
		return s.appendEvents(ctx, tx, append(evs, m.events...))
	})
	if err != nil {
		return orgsync.Group{}, scimFailed("create group", g.DisplayName, err)
	}
	return out, nil
}

// SCIMUpdateGroup applies p to a SCIM-owned group in one transaction:
// rename, external ID, then each membership operation in order, each one
// incremental (rows are inserted or deleted per member; the member list is
// never rewritten). Members added must be live SCIM members (ErrInvalid).
// Adding a present member or removing an absent one changes nothing; a
// patch that changes nothing keeps the version. Returns the group without
// members.
func (s *Store) SCIMUpdateGroup(ctx context.Context, org, id string, ifVersion int64, p orgsync.GroupPatch) (orgsync.Group, error) {
	var out orgsync.Group
	err := s.write(ctx, func(tx *gorm.DB) error {
		g, err := s.loadSCIMGroup(ctx, tx, org, id)
		if err != nil {
			return err
		}
		if err := checkVersion("group", id, g.Version, ifVersion); err != nil {
			return err
		}
		before := g
		var evs []eventRow
		changed := false
		if p.DisplayName != nil && *p.DisplayName != g.DisplayName {
			if err := s.groupNameFree(ctx, tx, org, *p.DisplayName, id); err != nil {
				return err
			}
			g.DisplayName, changed = *p.DisplayName, true
		}
		if p.ExternalID != nil && *p.ExternalID != g.ExternalID {
			g.ExternalID, changed = *p.ExternalID, true
		}
		if changed {
			evs = append(evs, eventRow{org: org, actor: scimOwner, kind: orgsync.EventGroupUpdated, groupID: id,
				before: map[string]string{"display_name": before.DisplayName, "external_id": before.ExternalID},
				after:  map[string]string{"display_name": g.DisplayName, "external_id": g.ExternalID}})
		}
		m := &membership{s: s, ctx: ctx, tx: tx, g: g}
		for _, op := range p.Membership {
			n, err := m.apply(op)
			if err != nil {
				return err
			}
			changed = changed || n > 0
		}
		out = g
		if !changed {
			return nil
		}
		now := s.Now()
		out.Version, out.UpdatedAt = g.Version+1, now
		if _, err := s.exec(ctx, tx, `UPDATE org_groups SET display_name = ?, display_name_fold = ?, external_id = ?, version = ?, updated_at = ? WHERE id = ?`,
			out.DisplayName, orgsync.Fold(out.DisplayName), out.ExternalID, out.Version, now, id); err != nil {
			return translate(err)
		}
		return s.appendEvents(ctx, tx, append(evs, m.events...))
	})
	if err != nil {
		return orgsync.Group{}, scimFailed("update group", id, err)
	}
	return out, nil
}

// SCIMDeleteGroup deletes a SCIM-owned group and its memberships (the
// members themselves stay).
func (s *Store) SCIMDeleteGroup(ctx context.Context, org, id string, ifVersion int64) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		g, err := s.loadSCIMGroup(ctx, tx, org, id)
		if err != nil {
			return err
		}
		if err := checkVersion("group", id, g.Version, ifVersion); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM group_members WHERE group_id = ?`, id); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM org_groups WHERE id = ?`, id); err != nil {
			return err
		}
		return s.appendEvents(ctx, tx, []eventRow{{org: org, actor: scimOwner, kind: orgsync.EventGroupDeleted, groupID: id,
			before: map[string]string{"display_name": g.DisplayName}}})
	})
	if err != nil {
		return scimFailed("delete group", id, err)
	}
	return nil
}
