package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
)

// RekeyMember gives the member id of org, owned by owner, the external key
// newKey: the directory entry it stands for was deleted and created again
// (a new entryUUID or objectGUID, the same person), and an operator said
// so. Another member of owner holding newKey is ErrConflict; a member of
// another owner ErrConflict too; an unknown one ErrNotFound. The change is
// recorded as a member.updated event, actor "cli".
func (s *Store) RekeyMember(ctx context.Context, org, id, owner, newKey string) (orgsync.Member, error) {
	if newKey == "" || owner == "" {
		return orgsync.Member{}, fmt.Errorf("store: rekey: an owner and a new key are required: %w", orgsync.ErrInvalid)
	}
	var out orgsync.Member
	err := s.write(ctx, func(tx *gorm.DB) error {
		m, err := s.member(s.on(ctx, tx), org, id)
		if err != nil {
			return err
		}
		if m.Owner != owner {
			return fmt.Errorf("member %q is owned by %s, not by %q: %w", m.UserName, orgsync.OwnerName(m.Owner), owner, orgsync.ErrConflict)
		}
		if m.ExternalID == newKey {
			out = m
			return nil
		}
		var taken int
		c := s.in(tx)
		if _, err := c.row(`SELECT COUNT(*) FROM members WHERE org_id = ? AND owner = ? AND external_id = ?`, []any{org, owner, newKey}, &taken); err != nil {
			return err
		}
		if taken > 0 {
			return fmt.Errorf("another member of %q already has the key %q: %w", owner, newKey, orgsync.ErrConflict)
		}
		if _, err := c.exec(`UPDATE members SET external_id = ?, version = version + 1, updated_at = ? WHERE id = ?`,
			newKey, s.Now(), m.ID); err != nil {
			return err
		}
		before := m.ExternalID
		m.ExternalID, m.Version = newKey, m.Version+1
		out = m
		return s.appendEvents(ctx, tx, []eventRow{{org: org, actor: "cli", kind: orgsync.EventMemberUpdated, memberID: m.ID,
			before: map[string]any{"id": m.ID, "external_id": before}, after: map[string]any{"id": m.ID, "external_id": newKey}}})
	})
	if err != nil {
		return orgsync.Member{}, fmt.Errorf("store: rekey member %q: %w", id, err)
	}
	return out, nil
}

// rekey applies a rekey change: the plan's owner moves its member m to the
// new key of its re-created source entry (reconciler.RecreatedEntries). It
// is skipped when m's key is no longer the one planned from, or another
// member of the owner holds the new key. Recorded as member.updated, the
// actor being the source.
func (a *applier) rekey(c orgsync.Change, m *orgsync.Member) error {
	if c.MemberKey == "" {
		return fmt.Errorf("rekey without a new key: %w", orgsync.ErrInvalid)
	}
	if m.ExternalID == c.MemberKey {
		return nil // already
	}
	if f, ok := c.Fields["external_id"]; ok && f.From != m.ExternalID {
		a.skip(c, fmt.Sprintf("the member's key changed since the plan (now %q)", m.ExternalID))
		return nil
	}
	var taken int
	if _, err := a.c.row(`SELECT COUNT(*) FROM members WHERE org_id = ? AND owner = ? AND external_id = ?`,
		[]any{a.plan.Org, a.plan.Owner, c.MemberKey}, &taken); err != nil {
		return err
	}
	if taken > 0 {
		a.skip(c, fmt.Sprintf("another member already has the key %q", c.MemberKey))
		return nil
	}
	before := *m
	m.ExternalID, m.Version, m.UpdatedAt = c.MemberKey, m.Version+1, a.now
	if err := a.saveMember(m, &before); err != nil {
		return err
	}
	a.memberKeys[c.MemberKey] = m.ID
	a.out.Counts[orgsync.ActionRekey]++
	a.event(orgsync.EventMemberUpdated, m.ID, "", before, *m)
	return nil
}
