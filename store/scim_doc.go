package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
)

// A SCIM member's document (orgsync.Member.Attributes) is one column,
// members.doc: TEXT holding JSON on SQLite, JSONB on PostgreSQL, NULL for
// none. Only the SCIM reads and writes touch it; Observed, Members, Apply
// and the reconciler neither read nor write it, so a source's run never
// parses or loses a document.

// maxDocBytes bounds a stored document (the receiver refuses larger ones
// first, with its own answer).
const maxDocBytes = 64 << 10

// migrateV4 adds the document column of members.
func migrateV4(tx *gorm.DB, d dialect) error {
	typ := "TEXT"
	if d.postgres {
		typ = "JSONB"
	}
	return execAll(tx, `ALTER TABLE members ADD COLUMN doc `+typ,
		`ALTER TABLE members ADD COLUMN doc_sum TEXT NOT NULL DEFAULT ''`)
}

// docParam is the placeholder of a document argument.
func (d dialect) docParam() string {
	if d.postgres {
		return "CAST(? AS JSONB)"
	}
	return "?"
}

// docArg is the statement argument of a document: NULL for none.
func docArg(doc json.RawMessage) any {
	if len(doc) == 0 {
		return nil
	}
	return string(doc)
}

// checkDoc refuses a document that is not one JSON object of at most
// maxDocBytes.
func checkDoc(doc json.RawMessage) error {
	if len(doc) == 0 {
		return nil
	}
	if len(doc) > maxDocBytes {
		return fmt.Errorf("the member's attributes take %d bytes, more than %d: %w", len(doc), maxDocBytes, orgsync.ErrInvalid)
	}
	if t := bytes.TrimSpace(doc); len(t) == 0 || t[0] != '{' || !json.Valid(t) {
		return fmt.Errorf("the member's attributes must be one JSON object: %w", orgsync.ErrInvalid)
	}
	if bytes.Contains(doc, []byte(`\u0000`)) { // PostgreSQL's JSONB cannot hold it
		return fmt.Errorf("the member's attributes must not contain NUL: %w", orgsync.ErrInvalid)
	}
	return nil
}

// sameDoc reports whether two documents hold the same JSON (PostgreSQL
// returns JSONB in its own key order and spacing).
func sameDoc(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	var av, bv any
	if json.Unmarshal(a, &av) != nil || json.Unmarshal(b, &bv) != nil {
		return false
	}
	ab, _ := json.Marshal(av)
	bb, _ := json.Marshal(bv)
	return bytes.Equal(ab, bb)
}

// writeDoc sets the document of member id (and its digest, doc_sum,
// which the snapshot reads instead of the document).
func (s *Store) writeDoc(ctx context.Context, tx *gorm.DB, id string, doc json.RawMessage) error {
	_, err := s.exec(ctx, tx, `UPDATE members SET doc = `+s.dialect.docParam()+`, doc_sum = ? WHERE id = ?`,
		docArg(doc), orgsync.AttributesDigestOf(doc), id)
	return err
}

// updateDoc sets the document of member id unless it already holds it,
// and reports whether it changed.
func (s *Store) updateDoc(ctx context.Context, tx *gorm.DB, id string, doc json.RawMessage) (bool, error) {
	sum := orgsync.AttributesDigestOf(doc)
	n, err := s.exec(ctx, tx, `UPDATE members SET doc = `+s.dialect.docParam()+`, doc_sum = ? WHERE id = ? AND doc_sum <> ?`,
		docArg(doc), sum, id, sum)
	return n > 0, err
}

// memberDocCols are memberCols and the document.
const memberDocCols = memberCols + `, doc`

// scanMembersDoc reads rows of memberDocCols.
func scanMembersDoc(rows *sql.Rows) ([]orgsync.Member, error) {
	defer rows.Close()
	var out []orgsync.Member
	for rows.Next() {
		var (
			m                        orgsync.Member
			status                   string
			setup, deprov, deletedAt sql.NullTime
			doc                      []byte
		)
		if err := rows.Scan(&m.ID, &m.Org, &m.UserName, &m.ExternalID, &m.GivenName, &m.FamilyName,
			&m.DisplayName, &m.Role, &status, &m.Owner, &setup, &deprov, &deletedAt, &m.Version,
			&m.CreatedAt, &m.UpdatedAt, &doc); err != nil {
			return nil, err
		}
		m.Status = orgsync.Status(status)
		m.SetupCompletedAt, m.DeprovisionedAt, m.DeletedAt = timePtr(setup), timePtr(deprov), timePtr(deletedAt)
		m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), m.UpdatedAt.UTC()
		if len(doc) > 0 {
			m.Attributes = json.RawMessage(doc)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
