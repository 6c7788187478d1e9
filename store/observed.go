package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
)

// Observed returns the whole org as the reconciler sees it: every member of
// every owner (SCIM tombstones included) and every group, whose Members are
// member IDs. It reads the org in four queries, whatever its size.
func (s *Store) Observed(ctx context.Context, org string) (orgsync.Snapshot, error) {
	var snap orgsync.Snapshot
	qctx := s.quiet(ctx)
	err := s.readTx(qctx, func(tx *gorm.DB) error {
		// Sized up front: growing a slice of 100k members by appending
		// cost as much as reading them.
		c := s.on(qctx, tx)
		var n int
		if _, err := c.row(`SELECT COUNT(*) FROM members WHERE org_id = ?`, []any{org}, &n); err != nil {
			return err
		}
		var err error
		if snap.Members, err = s.orgMembers(c, org, n); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		snap.Groups, err = s.groups(c, org, "", false)
		if errors.Is(err, errUnjoinable) {
			snap.Groups, err = s.groups(c, org, "", true)
		}
		if err != nil {
			return err
		}
		return ctx.Err()
	})
	if err != nil {
		return orgsync.Snapshot{}, fmt.Errorf("store: read org %q: %w", org, err)
	}
	return snap, nil
}

// orgMembers reads every member of the org, with emails, in Observed's
// columns.
func (s *Store) orgMembers(c conn, org string, size int) ([]orgsync.Member, error) {
	if !s.dialect.postgres {
		ms, err := s.joinedMembers(c, org, size)
		if !errors.Is(err, errUnjoinable) {
			return ms, err
		}
		s.log.Warn().Str("org", org).Msg("a member row did not split into its fields; reading the org column by column")
	}
	rows, err := c.query(`SELECT `+observedCols+` FROM members`+s.dialect.scan()+` WHERE org_id = ?`, org)
	if err != nil {
		return nil, err
	}
	ms, err := scanObserved(rows, org, size)
	if err != nil {
		return nil, err
	}
	return ms, s.attachOrgEmails(c, org, ms)
}

// groups reads the org's groups (one group when id is set) with member IDs.
// columnwise turns off the joined reads of SQLite.
func (s *Store) groups(c conn, org, id string, columnwise bool) ([]orgsync.Group, error) {
	q := `SELECT id, org_id, display_name, external_id, owner, version, created_at, updated_at FROM org_groups WHERE org_id = ?`
	args := []any{org}
	if id != "" {
		q += ` AND id = ?`
		args = append(args, id)
	}
	rows, err := c.query(q+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	var groups []orgsync.Group
	idx := map[string]int{}
	for rows.Next() {
		var g orgsync.Group
		if err := rows.Scan(&g.ID, &g.Org, &g.DisplayName, &g.ExternalID, &g.Owner, &g.Version, &g.CreatedAt, &g.UpdatedAt); err != nil {
			rows.Close()
			return nil, err
		}
		g.CreatedAt, g.UpdatedAt = g.CreatedAt.UTC(), g.UpdatedAt.UTC()
		idx[g.ID] = len(groups)
		groups = append(groups, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(groups) == 0 {
		return nil, nil
	}
	add := func(gid, mid string) {
		if i, ok := idx[gid]; ok {
			groups[i].Members = append(groups[i].Members, mid)
		}
	}
	if id == "" && !s.dialect.postgres && !columnwise {
		return groups, joinedMemberships(c, org, add)
	}
	mq := `SELECT group_id, member_id FROM group_members WHERE org_id = ?`
	margs := []any{org}
	if id != "" {
		mq += ` AND group_id = ?`
		margs = append(margs, id)
	}
	mrows, err := c.query(mq, margs...)
	if err != nil {
		return nil, err
	}
	defer mrows.Close()
	for mrows.Next() {
		var gid, mid string
		if err := mrows.Scan(&gid, &mid); err != nil {
			return nil, err
		}
		add(gid, mid)
	}
	return groups, mrows.Err()
}
