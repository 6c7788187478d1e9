package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
)

// migration is one step of the schema. Steps are never edited once
// released: a change to the schema is a new step.
type migration struct {
	version int
	name    string
	up      func(tx *gorm.DB, d dialect) error
}

// migrations is the schema history, oldest first.
var migrations = []migration{
	{1, "core tables", migrateV1},
	{2, "member emails", migrateV2},
	{3, "schedule claims", migrateV3},
	{4, "run digests and approvals", migrateV4},
	{5, "target links", migrateV5},
	{6, "source cursors", migrateV6},
	{7, "member documents", migrateMemberDocs},
	{8, "source state patches", migrateV8},
}

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// dialect hides the few DDL differences between SQLite and PostgreSQL.
type dialect struct {
	postgres bool
	icu      bool // PostgreSQL has the ICU root collation (see dialect.lower)
}

func (d dialect) serial() string {
	if d.postgres {
		return "BIGSERIAL PRIMARY KEY"
	}
	// Without AUTOINCREMENT: no sqlite_sequence write per insert. Rows of
	// these tables are never deleted, so ids are never reused.
	return "INTEGER PRIMARY KEY"
}

// clustered makes SQLite store a table in its primary key's B-tree
// (WITHOUT ROWID): one tree less to write per row for tables of small rows
// keyed by text. (Wide rows, like members, scan slower that way.)
func (d dialect) clustered() string {
	if d.postgres {
		return ""
	}
	return " WITHOUT ROWID"
}

// scan tells SQLite to read a whole org by walking the table rather than
// an index on org_id and a lookup per row: an org is most of the table.
func (d dialect) scan() string {
	if d.postgres {
		return ""
	}
	return " NOT INDEXED"
}

// filter is col in a condition that only filters rows another index finds
// (a lookup by primary key): on SQLite the column behind a unary plus,
// which no index serves. With statistics sampled under analysis_limit, an
// org's members seemed a thousand rows, and SQLite walked the org_id index
// through every member of the org instead of looking 500 IDs up.
func (d dialect) filter(col string) string {
	if d.postgres {
		return col
	}
	return "+" + col
}

func execAll(tx *gorm.DB, stmts ...string) error {
	c := dialect{}.on(tx.Statement.Context, tx) // DDL: no placeholders to translate
	for _, s := range stmts {
		if _, err := c.exec(s); err != nil {
			return fmt.Errorf("%s: %w", strings.SplitN(strings.TrimSpace(s), "(", 2)[0], err)
		}
	}
	return nil
}

func migrateV1(tx *gorm.DB, d dialect) error {
	return execAll(tx,
		`CREATE TABLE orgs (
			id TEXT PRIMARY KEY,
			name TEXT NOT NULL,
			default_role TEXT NOT NULL,
			purge_after_seconds BIGINT NOT NULL,
			created_at TIMESTAMP NOT NULL,
			updated_at TIMESTAMP NOT NULL)`,
		`CREATE TABLE members (
			id TEXT PRIMARY KEY,
			org_id TEXT NOT NULL REFERENCES orgs(id),
			user_name TEXT NOT NULL,
			user_name_fold TEXT NOT NULL,
			external_id TEXT NOT NULL DEFAULT '',
			email TEXT NOT NULL DEFAULT '',
			given_name TEXT NOT NULL DEFAULT '',
			family_name TEXT NOT NULL DEFAULT '',
			display_name TEXT NOT NULL DEFAULT '',
			role TEXT NOT NULL,
			status TEXT NOT NULL,
			owner TEXT NOT NULL DEFAULT '',
			setup_completed_at TIMESTAMP NULL,
			deprovisioned_at TIMESTAMP NULL,
			deleted_at TIMESTAMP NULL,
			version BIGINT NOT NULL,
			created_at TIMESTAMP NOT NULL,
			updated_at TIMESTAMP NOT NULL)`,
		`CREATE UNIQUE INDEX members_org_user_name ON members (org_id, user_name_fold)`,
		`CREATE INDEX members_org_owner_external ON members (org_id, owner, external_id)`,
		`CREATE TABLE org_groups (
			id TEXT PRIMARY KEY,
			org_id TEXT NOT NULL REFERENCES orgs(id),
			display_name TEXT NOT NULL,
			display_name_fold TEXT NOT NULL,
			external_id TEXT NOT NULL DEFAULT '',
			owner TEXT NOT NULL DEFAULT '',
			version BIGINT NOT NULL,
			created_at TIMESTAMP NOT NULL,
			updated_at TIMESTAMP NOT NULL)`,
		`CREATE UNIQUE INDEX org_groups_org_name ON org_groups (org_id, display_name_fold)`,
		`CREATE INDEX org_groups_org_owner_external ON org_groups (org_id, owner, external_id)`,
		`CREATE TABLE group_members (
			group_id TEXT NOT NULL REFERENCES org_groups(id) ON DELETE CASCADE,
			member_id TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
			org_id TEXT NOT NULL,
			created_at TIMESTAMP NOT NULL,
			PRIMARY KEY (group_id, member_id))`+d.clustered(),
		`CREATE INDEX group_members_member ON group_members (member_id)`,
		`CREATE TABLE scim_tokens (
			id TEXT PRIMARY KEY,
			org_id TEXT NOT NULL REFERENCES orgs(id),
			hash TEXT NOT NULL,
			description TEXT NOT NULL DEFAULT '',
			created_at TIMESTAMP NOT NULL,
			expires_at TIMESTAMP NULL,
			last_used_at TIMESTAMP NULL,
			revoked_at TIMESTAMP NULL)`,
		`CREATE UNIQUE INDEX scim_tokens_hash ON scim_tokens (hash)`,
		`CREATE TABLE runs (
			id `+d.serial()+`,
			org_id TEXT NOT NULL,
			source TEXT NOT NULL,
			started_at TIMESTAMP NOT NULL,
			finished_at TIMESTAMP NOT NULL,
			result TEXT NOT NULL,
			guard_blocked BOOLEAN NOT NULL,
			guard_reason TEXT NOT NULL DEFAULT '',
			forced BOOLEAN NOT NULL,
			summary TEXT NOT NULL DEFAULT '',
			applied TEXT NOT NULL DEFAULT '',
			plan TEXT NOT NULL DEFAULT '',
			error TEXT NOT NULL DEFAULT '')`,
		`CREATE INDEX runs_source ON runs (source, id)`,
		`CREATE TABLE events (
			seq `+d.serial()+`,
			time TIMESTAMP NOT NULL,
			org_id TEXT NOT NULL,
			actor TEXT NOT NULL,
			kind TEXT NOT NULL,
			member_id TEXT NOT NULL DEFAULT '',
			group_id TEXT NOT NULL DEFAULT '',
			before TEXT NOT NULL DEFAULT '',
			after TEXT NOT NULL DEFAULT '')`,
	)
}

// migrateV2 gives members several typed emails (SCIM emails[type eq
// "work"]) and moves each member's single v1 address into the new table.
func migrateV2(tx *gorm.DB, d dialect) error {
	return execAll(tx,
		`CREATE TABLE member_emails (
			member_id TEXT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
			pos INTEGER NOT NULL,
			org_id TEXT NOT NULL,
			value TEXT NOT NULL,
			value_fold TEXT NOT NULL,
			type TEXT NOT NULL DEFAULT '',
			is_primary BOOLEAN NOT NULL,
			PRIMARY KEY (member_id, pos))`+d.clustered(),
		`CREATE INDEX member_emails_org_value ON member_emails (org_id, value_fold)`,
		`INSERT INTO member_emails (member_id, pos, org_id, value, value_fold, type, is_primary)
			SELECT id, 0, org_id, email, LOWER(email), 'work', TRUE FROM members WHERE email <> ''`,
	)
}

// migrateV3 records which scheduled occurrence of a job a replica took, so
// that of several replicas exactly one runs it.
func migrateV3(tx *gorm.DB, _ dialect) error {
	return execAll(tx,
		`CREATE TABLE schedule_claims (
			job TEXT NOT NULL,
			slot TIMESTAMP NOT NULL,
			claimed_at TIMESTAMP NOT NULL,
			PRIMARY KEY (job, slot))`,
	)
}

// migrate brings the schema to target, one transaction per step.
func migrate(ctx context.Context, db *gorm.DB, d dialect, target int, up Upgrade) error {
	db = db.WithContext(ctx)
	if _, err := d.on(ctx, db).exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)`); err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	var current int
	if _, err := d.on(ctx, db).row(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`, nil, &current); err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if current > SchemaVersion() {
		return fmt.Errorf("store: database schema version %d is newer than this build's %d: upgrade orgsync", current, SchemaVersion())
	}
	switch {
	case current >= target:
	case up == UpgradeNever:
		return fmt.Errorf("store: database schema version %d, this build needs %d: run `orgsync migrate` first (serve --no-migrate does not upgrade it): %w",
			current, target, orgsync.ErrPrecondition)
	case up == UpgradeNew && current > 0:
		return fmt.Errorf("store: database schema version %d, this build needs %d: run `orgsync migrate` (or start serve) to upgrade it; read-only commands never do: %w",
			current, target, orgsync.ErrPrecondition)
	}
	for _, m := range migrations {
		if m.version <= current || m.version > target {
			continue
		}
		// Processes opening the database together migrate one at a time:
		// PostgreSQL takes an advisory lock; SQLite's transaction takes the
		// write lock at BEGIN (BEGIN IMMEDIATE: _txlock in sqliteDSN) and
		// waits up to the busy timeout for it.
		err := db.Transaction(func(tx *gorm.DB) error {
			c := d.on(ctx, tx)
			if d.postgres {
				if _, err := c.exec(`SELECT pg_advisory_xact_lock(?)`, migrateLockKey); err != nil {
					return err
				}
			}
			// current was read before the lock: another process may have
			// applied this step since.
			var done int
			if _, err := c.row(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, []any{m.version}, &done); err != nil || done > 0 {
				return err
			}
			if err := m.up(tx, d); err != nil {
				return err
			}
			_, err := c.exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, time.Now().UTC())
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migrate to version %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}
