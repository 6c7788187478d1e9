package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
)

// ReadScope calls fn with a read-only view of org in one read transaction:
// the parts of the org a scoped plan needs, each read by index, so that a
// run with few changes reads few rows whatever the org's size.
func (s *Store) ReadScope(ctx context.Context, org string, fn func(orgsync.ScopeTx) error) error {
	qctx := s.quiet(ctx)
	err := s.readTx(qctx, func(tx *gorm.DB) error {
		return fn(scopeTx{s: s, c: s.on(qctx, tx), org: org})
	})
	if err != nil {
		return fmt.Errorf("store: read part of org %q: %w", org, err)
	}
	return nil
}

type scopeTx struct {
	s   *Store
	c   conn
	org string
}

// Members reads the members by each index in turn (owner + external ID,
// folded user name, then by primary key those of the folded emails and
// of ids not found yet): every member row is read once.
func (t scopeTx) Members(owner string, keys, folded, ids []string) ([]orgsync.Member, error) {
	found := map[string]bool{}
	var out []orgsync.Member
	add := func(head string, args []any, list []string) error {
		for start := 0; start < len(list); start += chunk {
			part := list[start:min(start+chunk, len(list))]
			rows, err := t.c.query(head+" ("+placeholders(len(part))+")", append(append([]any{}, args...), toAny(part)...)...)
			if err != nil {
				return err
			}
			ms, err := scanObserved(rows, t.org, len(part))
			if err != nil {
				return err
			}
			for _, m := range ms {
				if !found[m.ID] {
					found[m.ID] = true
					out = append(out, m)
				}
			}
		}
		return nil
	}
	q := `SELECT ` + observedCols + ` FROM members WHERE org_id = ?`
	if err := add(q+` AND owner = ? AND external_id IN`, []any{t.org, owner}, keys); err != nil {
		return nil, err
	}
	// A folded user name is one member's at most (a unique index): one
	// found by key needs no other lookup.
	held := make(map[string]bool, len(out))
	for i := range out {
		held[orgsync.Fold(out[i].UserName)] = true
	}
	names := make([]string, 0, len(folded))
	for _, f := range folded {
		if !held[f] {
			names = append(names, f)
		}
	}
	if err := add(q+` AND user_name_fold IN`, []any{t.org}, names); err != nil {
		return nil, err
	}
	// The holders of the emails first, apart: as a subquery of the member
	// lookup, a planner without statistics scanned every member of the org.
	byID := map[string]bool{}
	var rest []string
	want := func(id string) {
		if !found[id] && !byID[id] {
			byID[id] = true
			rest = append(rest, id)
		}
	}
	err := t.c.eachIn(`SELECT member_id FROM member_emails WHERE org_id = ? AND value_fold IN`, []any{t.org}, folded, "", func(scan func(...any) error) error {
		var id string
		if err := scan(&id); err != nil {
			return err
		}
		want(id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		want(id)
	}
	byPK := `SELECT ` + observedCols + ` FROM members WHERE ` + t.s.dialect.filter("org_id") + ` = ? AND id IN`
	if err := add(byPK, []any{t.org}, rest); err != nil {
		return nil, err
	}
	return out, t.s.attachEmails(t.c, t.org, out)
}

// Groups reads the org's groups, without members.
func (t scopeTx) Groups() ([]orgsync.Group, error) {
	var out []orgsync.Group
	err := t.c.each(`SELECT id, org_id, display_name, external_id, owner, version, created_at, updated_at FROM org_groups WHERE org_id = ? ORDER BY id`,
		[]any{t.org}, func(scan func(...any) error) error {
			var g orgsync.Group
			if err := scan(&g.ID, &g.Org, &g.DisplayName, &g.ExternalID, &g.Owner, &g.Version, &g.CreatedAt, &g.UpdatedAt); err != nil {
				return err
			}
			g.CreatedAt, g.UpdatedAt = g.CreatedAt.UTC(), g.UpdatedAt.UTC()
			out = append(out, g)
			return nil
		})
	return out, err
}

// Memberships reads the members of groupIDs and the groups of memberIDs.
func (t scopeTx) Memberships(groupIDs, memberIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	seen := map[[2]string]bool{}
	row := func(scan func(...any) error) error {
		var gid, mid string
		if err := scan(&gid, &mid); err != nil {
			return err
		}
		if k := [2]string{gid, mid}; !seen[k] {
			seen[k] = true
			out[gid] = append(out[gid], mid)
		}
		return nil
	}
	if err := t.c.eachIn(`SELECT group_id, member_id FROM group_members WHERE org_id = ? AND group_id IN`, []any{t.org}, groupIDs, "", row); err != nil {
		return nil, err
	}
	// By member ID alone: the index on member_id holds the primary key
	// (group_id, member_id), so it answers without reading the rows,
	// which an org_id test would read one by one (twice the pages at 1k
	// members). A member ID is one member's, of one org: these are org's.
	if err := t.c.eachIn(`SELECT group_id, member_id FROM group_members WHERE member_id IN`, nil, memberIDs, "", row); err != nil {
		return nil, err
	}
	return out, nil
}

// Owned counts owner's active members and the memberships of its groups.
func (t scopeTx) Owned(owner string) (members, memberships int, err error) {
	if _, err = t.c.row(`SELECT COUNT(*) FROM members WHERE org_id = ? AND owner = ? AND external_id <> '' AND status <> ? AND deleted_at IS NULL`,
		[]any{t.org, owner, string(orgsync.StatusDeprovisioned)}, &members); err != nil {
		return 0, 0, err
	}
	_, err = t.c.row(`SELECT COUNT(*) FROM group_members gm JOIN org_groups g ON g.id = gm.group_id WHERE g.org_id = ? AND g.owner = ? AND g.external_id <> ''`,
		[]any{t.org, owner}, &memberships)
	return members, memberships, err
}
