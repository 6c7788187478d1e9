package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
)

// Cursor returns the cursor saved by the last applied run of source into
// org; the zero Cursor (Zero() true) when there is none.
func (s *Store) Cursor(ctx context.Context, org, source string) (orgsync.Cursor, error) {
	c := orgsync.Cursor{Org: org, Source: source}
	var fullAt sql.NullTime
	row := s.db.WithContext(ctx).Raw(`SELECT position, server, config, full_at, state, saved_at FROM source_cursors
		WHERE org_id = ? AND source = ?`, org, source).Row()
	err := row.Scan(&c.Position, &c.Server, &c.Config, &fullAt, &c.State, &c.SavedAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return orgsync.Cursor{Org: org, Source: source}, nil
	case err != nil:
		return orgsync.Cursor{}, fmt.Errorf("store: read cursor of %q in org %q: %w", source, org, translate(err))
	}
	if fullAt.Valid {
		c.FullAt = fullAt.Time.UTC()
	}
	c.SavedAt = c.SavedAt.UTC()
	return c, nil
}

// ApplyCursor applies p like Apply and, in the same transaction, saves c
// as the cursor of p.Owner in p.Org (c.State nil keeps the stored state).
// An empty plan still saves the cursor. On error nothing is written: the
// stored cursor stays where it was.
func (s *Store) ApplyCursor(ctx context.Context, p orgsync.Plan, c orgsync.Cursor) (orgsync.Applied, error) {
	applied := orgsync.Applied{Counts: orgsync.Plan{}.Summary()}
	err := s.write(ctx, func(tx *gorm.DB) error {
		if !p.Empty() {
			var err error
			if applied, err = s.applyIn(ctx, tx, p); err != nil {
				return err
			}
		}
		return s.saveCursor(tx, p.Org, p.Owner, c)
	})
	if err != nil {
		return orgsync.Applied{Counts: orgsync.Plan{}.Summary()}, fmt.Errorf("store: apply plan of %q to org %q: %w", p.Owner, p.Org, err)
	}
	return applied, nil
}

// saveCursor writes c as the cursor of source in org.
func (s *Store) saveCursor(tx *gorm.DB, org, source string, c orgsync.Cursor) error {
	var fullAt any
	if !c.FullAt.IsZero() {
		fullAt = s.stamp(c.FullAt.UTC())
	}
	var state any
	if c.State != nil {
		state = c.State
	}
	return tx.Exec(`INSERT INTO source_cursors (org_id, source, position, server, config, full_at, state, saved_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id, source) DO UPDATE SET position = excluded.position, server = excluded.server,
			config = excluded.config, full_at = excluded.full_at,
			state = COALESCE(excluded.state, source_cursors.state), saved_at = excluded.saved_at`,
		org, source, c.Position, c.Server, c.Config, fullAt, state, s.stamp(s.Now().UTC())).Error
}

// DeleteCursor forgets the cursor of source in org: its next run reads in
// full. Deleting a cursor that does not exist is not an error.
func (s *Store) DeleteCursor(ctx context.Context, org, source string) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		return tx.Exec(`DELETE FROM source_cursors WHERE org_id = ? AND source = ?`, org, source).Error
	})
	if err != nil {
		return fmt.Errorf("store: delete cursor of %q in org %q: %w", source, org, err)
	}
	return nil
}
