package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
)

// Cursor returns the cursor saved by the last applied run of source into
// org; the zero Cursor (Zero() true) when there is none.
func (s *Store) Cursor(ctx context.Context, org, source string) (orgsync.Cursor, error) {
	c := orgsync.Cursor{Org: org, Source: source}
	var fullAt, until sql.NullTime
	var settled string
	found, err := s.pool(ctx).row(`SELECT c.position, c.server, c.config, c.full_at, s.state, c.until_at, c.settled, c.saved_at
		FROM source_cursors c LEFT JOIN source_states s ON s.org_id = c.org_id AND s.source = c.source
		WHERE c.org_id = ? AND c.source = ?`, []any{org, source},
		&c.Position, &c.Server, &c.Config, &fullAt, &c.State, &until, &settled, &c.SavedAt)
	switch {
	case err == nil && !found:
		return orgsync.Cursor{Org: org, Source: source}, nil
	case err != nil:
		return orgsync.Cursor{}, fmt.Errorf("store: read cursor of %q in org %q: %w", source, org, translate(err))
	}
	if fullAt.Valid {
		c.FullAt = fullAt.Time.UTC()
	}
	if until.Valid {
		c.Until = until.Time.UTC()
	}
	if settled != "" {
		c.Settled = &orgsync.Settled{}
		if err := json.Unmarshal([]byte(settled), c.Settled); err != nil {
			c.Settled = nil
		}
	}
	c.SavedAt = c.SavedAt.UTC()
	return c, nil
}

// StoreSeq returns the Seq of the last event in the store (0 when none):
// every write to members and groups appends one.
func (s *Store) StoreSeq(ctx context.Context) (int64, error) {
	var seq int64
	if _, err := s.pool(ctx).row(`SELECT COALESCE(MAX(seq), 0) FROM events`, nil, &seq); err != nil {
		return 0, fmt.Errorf("store: read the last event seq: %w", translate(err))
	}
	return seq, nil
}

// ApplyCursor applies p like Apply and, in the same transaction, saves c
// as the cursor of p.Owner in p.Org (c.State nil keeps the stored state;
// c.Settled.StoreSeq is set to the last event's Seq after the apply, its
// counts, when Counted, are advanced by what the apply changed, and
// c.Settled is dropped when the apply skipped a change).
// An empty plan still saves the cursor. On error nothing is written: the
// stored cursor stays where it was.
func (s *Store) ApplyCursor(ctx context.Context, p orgsync.Plan, c orgsync.Cursor) (orgsync.Applied, error) {
	applied := orgsync.Applied{Counts: orgsync.Plan{}.Summary()}
	err := s.write(ctx, func(tx *gorm.DB) error {
		var delta ownedDelta
		if !p.Empty() {
			var err error
			if applied, delta, err = s.applyIn(ctx, tx, p); err != nil {
				return err
			}
		}
		switch {
		case len(applied.Skipped) > 0:
			c.Settled = nil // the plan left something undone: not settled
		case c.Settled != nil && c.Settled.Counted:
			st := *c.Settled
			st.Owned += delta.members
			st.OwnedMemberships += delta.memberships
			c.Settled = &st
		}
		return s.saveCursor(s.in(tx), p.Org, p.Owner, c)
	})
	if err != nil {
		return orgsync.Applied{Counts: orgsync.Plan{}.Summary()}, fmt.Errorf("store: apply plan of %q to org %q: %w", p.Owner, p.Org, err)
	}
	return applied, nil
}

// saveCursor writes c as the cursor of source in org.
func (s *Store) saveCursor(tx conn, org, source string, c orgsync.Cursor) error {
	var fullAt any
	if !c.FullAt.IsZero() {
		fullAt = s.stamp(c.FullAt.UTC())
	}
	var until any
	if c.State != nil {
		if _, err := tx.exec(`INSERT INTO source_states (org_id, source, state) VALUES (?, ?, ?)
			ON CONFLICT (org_id, source) DO UPDATE SET state = excluded.state`, org, source, c.State); err != nil {
			return err
		}
	}
	if !c.Until.IsZero() {
		until = s.stamp(c.Until.UTC())
	}
	settled := ""
	if c.Settled != nil {
		st := *c.Settled
		if _, err := tx.row(`SELECT COALESCE(MAX(seq), 0) FROM events`, nil, &st.StoreSeq); err != nil {
			return err
		}
		b, _ := json.Marshal(st)
		settled = string(b)
	}
	_, err := tx.exec(`INSERT INTO source_cursors (org_id, source, position, server, config, full_at, until_at, settled, saved_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id, source) DO UPDATE SET position = excluded.position, server = excluded.server,
			config = excluded.config, full_at = excluded.full_at, until_at = excluded.until_at,
			settled = excluded.settled, saved_at = excluded.saved_at`,
		org, source, c.Position, c.Server, c.Config, fullAt, until, settled, s.stamp(s.Now().UTC()))
	return err
}

// migrateV6 keeps one cursor per source (where its last applied read left
// off, for incremental reads) and says in each run how it read its source.
func migrateV6(tx *gorm.DB, d dialect) error {
	blob := "BLOB"
	if d.postgres {
		blob = "BYTEA"
	}
	return execAll(tx,
		`CREATE TABLE source_cursors (
			org_id TEXT NOT NULL,
			source TEXT NOT NULL,
			position TEXT NOT NULL DEFAULT '',
			server TEXT NOT NULL DEFAULT '',
			config TEXT NOT NULL DEFAULT '',
			full_at TIMESTAMP NULL,
			until_at TIMESTAMP NULL,
			settled TEXT NOT NULL DEFAULT '',
			saved_at TIMESTAMP NOT NULL,
			PRIMARY KEY (org_id, source))`,
		// Apart, so that saving a position does not rewrite the state.
		`CREATE TABLE source_states (
			org_id TEXT NOT NULL,
			source TEXT NOT NULL,
			state `+blob+` NOT NULL,
			PRIMARY KEY (org_id, source))`,
		`ALTER TABLE runs ADD COLUMN read_kind TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE runs ADD COLUMN read_reason TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE runs ADD COLUMN read_changed INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE runs ADD COLUMN read_listed INTEGER NOT NULL DEFAULT 0`,
	)
}
