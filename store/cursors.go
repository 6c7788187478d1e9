package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/statepatch"
)

// Cursor returns the cursor saved by the last applied run of source into
// org; the zero Cursor (Zero() true) when there is none. Its State is
// rebuilt from the stored base and the patches saved since (see
// saveCursor); a State that does not rebuild to the one the cursor names
// is returned nil, with a warning, and the source then reads in full.
//
// held, when not "", is the ID (statepatch.ID.String) of a State the
// reader holds: when the stored State is that one, neither it nor its
// patches are read, and the cursor comes with State nil and StateHeld set
// (a daemon's source keeps its last State: reading back megabytes it
// wrote itself is most of what reading a cursor costs).
func (s *Store) Cursor(ctx context.Context, org, source, held string) (orgsync.Cursor, error) {
	// The cursor and the patches are two statements: a cursor saved in
	// between gives patches that do not end at the State the cursor read
	// names, and the read is tried again.
	for try := 1; ; try++ {
		c, tip, err := s.readCursor(ctx, org, source, held)
		if err == nil && held != "" && tip == held {
			c.State, c.StateHeld = nil, true
			return c, nil
		}
		if err != nil || c.State == nil || tip == "" {
			return c, err
		}
		state, err := s.rebuildState(ctx, org, source, c.State, tip)
		switch {
		case err == nil:
			c.State = state
			return c, nil
		case !errors.Is(err, statepatch.ErrPatch) && !errors.Is(err, statepatch.ErrBase) && !errors.Is(err, errStateMoved):
			return orgsync.Cursor{}, fmt.Errorf("store: read state of %q in org %q: %w", source, org, translate(err))
		case errors.Is(err, statepatch.ErrPatch) || try == 3:
			s.log.Warn().Str("org", org).Str("source", source).Err(err).
				Msg("the stored source state does not rebuild: the source reads in full")
			c.State = nil
			return c, nil
		}
	}
}

// errStateMoved: the patches read do not end at the State the cursor
// names (another run saved in between).
var errStateMoved = errors.New("the stored state moved while it was read")

// readCursor reads the cursor row and its base State (none when held names
// the State the cursor does: see Cursor), and the ID of that State.
func (s *Store) readCursor(ctx context.Context, org, source, held string) (orgsync.Cursor, string, error) {
	c := orgsync.Cursor{Org: org, Source: source}
	var fullAt, until sql.NullTime
	var settled, tip string
	found, err := s.pool(ctx).row(`SELECT c.position, c.server, c.config, c.full_at,
			CASE WHEN c.state_id <> '' AND c.state_id = ? THEN NULL ELSE s.state END, c.state_id, c.until_at, c.settled, c.saved_at
		FROM source_cursors c LEFT JOIN source_states s ON s.org_id = c.org_id AND s.source = c.source
		WHERE c.org_id = ? AND c.source = ?`, []any{held, org, source},
		&c.Position, &c.Server, &c.Config, &fullAt, &c.State, &tip, &until, &settled, &c.SavedAt)
	switch {
	case err == nil && !found:
		return orgsync.Cursor{Org: org, Source: source}, "", nil
	case err != nil:
		return orgsync.Cursor{}, "", fmt.Errorf("store: read cursor of %q in org %q: %w", source, org, translate(err))
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
	return c, tip, nil
}

// rebuildState applies the stored patches of source to base and checks
// that the result is the State tip names.
func (s *Store) rebuildState(ctx context.Context, org, source string, base []byte, tip string) ([]byte, error) {
	var patches [][]byte
	err := s.pool(ctx).each(`SELECT patch FROM source_state_patches WHERE org_id = ? AND source = ? ORDER BY seq`,
		[]any{org, source}, func(scan func(...any) error) error {
			var p []byte
			if err := scan(&p); err != nil {
				return err
			}
			patches = append(patches, p)
			return nil
		})
	if err != nil {
		return nil, err
	}
	state, err := statepatch.ApplyChain(base, patches)
	if err != nil {
		return nil, err
	}
	if statepatch.IDOf(state).String() != tip {
		return nil, errStateMoved
	}
	return state, nil
}

// State patches kept before the next State is written whole: at most so
// many, and at most a quarter of the State in all, so that rebuilding
// costs little more than reading the State itself.
const (
	maxStatePatches = 8
	statePatchShare = 4
)

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

// saveCursor writes c as the cursor of source in org. A State that comes
// with a patch against the stored one is kept as that patch, appended to
// the patches since the last whole State, while they stay few and small
// (maxStatePatches, statePatchShare): SQLite rewrites every page of a
// blob it updates, and the State is megabytes where a run changes a few
// records. Otherwise the State is written whole and the patches dropped.
func (s *Store) saveCursor(tx conn, org, source string, c orgsync.Cursor) error {
	var fullAt any
	if !c.FullAt.IsZero() {
		fullAt = s.stamp(c.FullAt.UTC())
	}
	var until any
	tip := "" // the State the cursor names after the save; "": as it was
	if c.State != nil {
		var err error
		if tip, err = s.saveState(tx, org, source, c.State, c.StatePatch); err != nil {
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
	_, err := tx.exec(`INSERT INTO source_cursors (org_id, source, position, server, config, full_at, until_at, settled, saved_at, state_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id, source) DO UPDATE SET position = excluded.position, server = excluded.server,
			config = excluded.config, full_at = excluded.full_at, until_at = excluded.until_at,
			settled = excluded.settled, saved_at = excluded.saved_at,
			state_id = CASE WHEN excluded.state_id = '' THEN source_cursors.state_id ELSE excluded.state_id END`,
		org, source, c.Position, c.Server, c.Config, fullAt, until, settled, s.stamp(s.Now().UTC()), tip)
	return err
}

// saveState saves state as the State of source in org, as patch when it
// may (see saveCursor), and returns its ID.
func (s *Store) saveState(tx conn, org, source string, state, patch []byte) (string, error) {
	id := statepatch.IDOf(state)
	if patch != nil {
		base, res, err := statepatch.Header(patch)
		if err != nil || res != id {
			s.log.Warn().Str("org", org).Str("source", source).
				Msg("a source state patch does not name its state: the state is written whole")
		} else {
			var tip string
			var n, size, last int64
			if _, err := tx.row(`SELECT c.state_id, COUNT(p.seq), COALESCE(SUM(LENGTH(p.patch)), 0), COALESCE(MAX(p.seq), 0)
				FROM source_cursors c LEFT JOIN source_state_patches p ON p.org_id = c.org_id AND p.source = c.source
				WHERE c.org_id = ? AND c.source = ? GROUP BY c.state_id`, []any{org, source}, &tip, &n, &size, &last); err != nil {
				return "", err
			}
			if tip != "" && tip == base.String() && n < maxStatePatches && size+int64(len(patch)) <= int64(len(state)/statePatchShare) {
				if _, err := tx.exec(`INSERT INTO source_state_patches (org_id, source, seq, patch) VALUES (?, ?, ?, ?)`,
					org, source, last+1, patch); err != nil {
					return "", err
				}
				return id.String(), nil
			}
		}
	}
	if _, err := tx.exec(`INSERT INTO source_states (org_id, source, state) VALUES (?, ?, ?)
		ON CONFLICT (org_id, source) DO UPDATE SET state = excluded.state`, org, source, state); err != nil {
		return "", err
	}
	if _, err := tx.exec(`DELETE FROM source_state_patches WHERE org_id = ? AND source = ?`, org, source); err != nil {
		return "", err
	}
	return id.String(), nil
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

// migrateV8 keeps a source's State as a base and the patches saved since
// (source_state_patches), and names in the cursor the State they give
// (state_id: statepatch.ID.String of it, empty for a State saved before).
func migrateV8(tx *gorm.DB, d dialect) error {
	blob, seq := "BLOB", "INTEGER"
	if d.postgres {
		blob, seq = "BYTEA", "BIGINT"
	}
	steps := []string{
		`ALTER TABLE source_cursors ADD COLUMN state_id TEXT NOT NULL DEFAULT ''`,
		`CREATE TABLE source_state_patches (
			org_id TEXT NOT NULL,
			source TEXT NOT NULL,
			seq ` + seq + ` NOT NULL,
			patch ` + blob + ` NOT NULL,
			PRIMARY KEY (org_id, source, seq))`,
	}
	if d.postgres {
		// Kept out of line uncompressed: pglz took 110 of the 145 ms a
		// 6.7 MB state's write cost, for a blob read and written whole.
		steps = append(steps,
			`ALTER TABLE source_states ALTER COLUMN state SET STORAGE EXTERNAL`,
			`ALTER TABLE source_state_patches ALTER COLUMN patch SET STORAGE EXTERNAL`)
	}
	return execAll(tx, steps...)
}
