package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
)

// migrateV5 adds the links between orgsync's members and groups and the
// resources of targets (a KMS org's memberships and groups), and the
// target a run was for.
func migrateV5(tx *gorm.DB, d dialect) error {
	return execAll(tx,
		`CREATE TABLE target_links (
			target TEXT NOT NULL,
			kind TEXT NOT NULL,
			local_id TEXT NOT NULL,
			remote_id TEXT NOT NULL,
			org_id TEXT NOT NULL,
			name TEXT NOT NULL DEFAULT '',
			created_at TIMESTAMP NOT NULL,
			PRIMARY KEY (target, kind, local_id))`+d.clustered(),
		`CREATE UNIQUE INDEX target_links_remote ON target_links (target, kind, remote_id)`,
		`ALTER TABLE runs ADD COLUMN target TEXT NOT NULL DEFAULT ''`,
	)
}

// TargetLinks returns every link of target.
func (s *Store) TargetLinks(ctx context.Context, target string) ([]orgsync.TargetLink, error) {
	rows, err := s.db.WithContext(ctx).Raw(`SELECT target, org_id, kind, local_id, remote_id, name FROM target_links WHERE target = ?`, target).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: target links of %q: %w", target, err)
	}
	defer rows.Close()
	out := []orgsync.TargetLink{}
	for rows.Next() {
		var l orgsync.TargetLink
		if err := rows.Scan(&l.Target, &l.Org, &l.Kind, &l.LocalID, &l.RemoteID, &l.Name); err != nil {
			return nil, fmt.Errorf("store: target links of %q: %w", target, err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// SaveTargetLinks records links, replacing any link of the same local or
// remote resource (a re-created KMS membership has a new id).
func (s *Store) SaveTargetLinks(ctx context.Context, links []orgsync.TargetLink) error {
	if len(links) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *gorm.DB) error {
		rows := make([][]any, 0, len(links))
		now := s.Now().UTC()
		for _, l := range links {
			if _, err := s.exec(ctx, tx, `DELETE FROM target_links WHERE target = ? AND kind = ? AND (local_id = ? OR remote_id = ?)`,
				l.Target, l.Kind, l.LocalID, l.RemoteID); err != nil {
				return err
			}
			rows = append(rows, []any{l.Target, l.Kind, l.LocalID, l.RemoteID, l.Org, l.Name, now})
		}
		return s.insert(ctx, tx, "target_links", []string{"target", "kind", "local_id", "remote_id", "org_id", "name", "created_at"}, rows, "")
	})
	if err != nil {
		return fmt.Errorf("store: save target links: %w", err)
	}
	return nil
}

// DeleteTargetLinks removes the links of target's remote resources
// remoteIDs of kind (deleted in the target, or found gone from it).
func (s *Store) DeleteTargetLinks(ctx context.Context, target, kind string, remoteIDs []string) error {
	if len(remoteIDs) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *gorm.DB) error {
		for _, id := range remoteIDs {
			if _, err := s.exec(ctx, tx, `DELETE FROM target_links WHERE target = ? AND kind = ? AND remote_id = ?`, target, kind, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: delete target links: %w", err)
	}
	return nil
}
