package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
)

// membership applies membership operations to one group inside a write
// transaction, collecting their events.
type membership struct {
	s      *Store
	ctx    context.Context
	tx     *gorm.DB
	g      orgsync.Group
	events []eventRow
}

func (m *membership) apply(op orgsync.MembershipOp) (int, error) {
	switch op.Action {
	case orgsync.MembershipAdd:
		return m.add(op.MemberIDs)
	case orgsync.MembershipRemove:
		return m.remove(op.MemberIDs)
	case orgsync.MembershipReplace:
		return m.replace(op.MemberIDs)
	}
	return 0, fmt.Errorf("unknown membership action %q: %w", op.Action, orgsync.ErrInvalid)
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func (m *membership) event(kind, memberID, userName string) {
	info := membershipState{m.g.DisplayName, userName}
	e := eventRow{org: m.g.Org, actor: scimOwner, kind: kind, memberID: memberID, groupID: m.g.ID}
	if kind == orgsync.EventGroupMemberAdded {
		e.after = info
	} else {
		e.before = info
	}
	m.events = append(m.events, e)
}

// add inserts the missing (group, member) rows.
func (m *membership) add(ids []string) (int, error) {
	ids = dedupe(ids)
	if len(ids) == 0 {
		return 0, nil
	}
	names := make(map[string]string, len(ids))
	if err := m.s.eachIn(m.ctx, m.tx, `SELECT id, user_name FROM members WHERE org_id = ? AND owner = ? AND deleted_at IS NULL AND id IN`,
		[]any{m.g.Org, scimOwner}, ids, "", func(scan func(...any) error) error {
			var id, name string
			if err := scan(&id, &name); err != nil {
				return err
			}
			names[id] = name
			return nil
		}); err != nil {
		return 0, err
	}
	for _, id := range ids {
		if _, ok := names[id]; !ok {
			return 0, fmt.Errorf("member %q does not exist: %w", id, orgsync.ErrInvalid)
		}
	}
	have := map[string]bool{}
	if err := m.s.eachIn(m.ctx, m.tx, `SELECT member_id FROM group_members WHERE group_id = ? AND member_id IN`,
		[]any{m.g.ID}, ids, "", func(scan func(...any) error) error {
			var id string
			if err := scan(&id); err != nil {
				return err
			}
			have[id] = true
			return nil
		}); err != nil {
		return 0, err
	}
	now := m.s.Now()
	var rows [][]any
	for _, id := range ids {
		if have[id] {
			continue
		}
		rows = append(rows, []any{m.g.ID, id, m.g.Org, now})
		m.event(orgsync.EventGroupMemberAdded, id, names[id])
	}
	if err := m.s.insert(m.ctx, m.tx, "group_members", []string{"group_id", "member_id", "org_id", "created_at"}, rows,
		" ON CONFLICT DO NOTHING"); err != nil {
		return 0, err
	}
	return len(rows), nil
}

// remove deletes the present (group, member) rows.
func (m *membership) remove(ids []string) (int, error) {
	ids = dedupe(ids)
	if len(ids) == 0 {
		return 0, nil
	}
	var gone []string
	names := map[string]string{}
	if err := m.s.eachIn(m.ctx, m.tx, `SELECT gm.member_id, m.user_name FROM group_members gm JOIN members m ON m.id = gm.member_id
		WHERE gm.group_id = ? AND gm.member_id IN`, []any{m.g.ID}, ids, "", func(scan func(...any) error) error {
		var id, name string
		if err := scan(&id, &name); err != nil {
			return err
		}
		gone = append(gone, id)
		names[id] = name
		return nil
	}); err != nil {
		return 0, err
	}
	for start := 0; start < len(gone); start += chunk {
		part := gone[start:min(start+chunk, len(gone))]
		if _, err := m.s.exec(m.ctx, m.tx, `DELETE FROM group_members WHERE group_id = ? AND member_id IN (`+placeholders(len(part))+`)`,
			append([]any{m.g.ID}, toAny(part)...)...); err != nil {
			return 0, err
		}
	}
	for _, id := range gone {
		m.event(orgsync.EventGroupMemberRemoved, id, names[id])
	}
	return len(gone), nil
}

// replace makes the group's SCIM-visible members exactly ids, by adding
// and removing the difference. Tombstoned members keep their membership.
func (m *membership) replace(ids []string) (int, error) {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	rows, err := m.s.txQuery(m.ctx, m.tx, `SELECT gm.member_id FROM group_members gm JOIN members m ON m.id = gm.member_id
		WHERE gm.group_id = ? AND m.owner = ? AND m.deleted_at IS NULL`, m.g.ID, scimOwner)
	if err != nil {
		return 0, err
	}
	var drop []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		if !want[id] {
			drop = append(drop, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	removed, err := m.remove(drop)
	if err != nil {
		return 0, err
	}
	added, err := m.add(ids)
	return removed + added, err
}
