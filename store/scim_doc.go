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

// A member's document (orgsync.Member.Attributes) is one column,
// member_docs.doc: TEXT holding JSON on SQLite, JSONB on PostgreSQL, one
// row per member that has one (purged with the member). It lives beside
// members, not in it, so that a scan of the members table (the snapshot)
// reads no document bytes: members.doc_sum holds its digest
// (orgsync.AttributesDigestOf, "" for none), which is what the snapshot
// and Apply compare. Only the SCIM reads return the document.

// maxDocBytes bounds a stored document (the receiver refuses larger ones
// first, with its own answer).
const maxDocBytes = 64 << 10

// migrateMemberDocs (schema 7) adds the members' documents and their
// digests.
func migrateMemberDocs(tx *gorm.DB, d dialect) error {
	typ := "TEXT"
	if d.postgres {
		typ = "JSONB"
	}
	return execAll(tx,
		`CREATE TABLE member_docs (
			member_id TEXT NOT NULL PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,
			doc `+typ+` NOT NULL)`+d.clustered(),
		`ALTER TABLE members ADD COLUMN doc_sum TEXT NOT NULL DEFAULT ''`)
}

// docOf is the SQL expression of the document of the member aliased m
// (NULL for none).
const docOf = "(SELECT d.doc FROM member_docs d WHERE d.member_id = m.id)"

// docParam is the placeholder of a document argument.
func (d dialect) docParam() string {
	if d.postgres {
		return "CAST(? AS JSONB)"
	}
	return "?"
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

// writeDoc sets the document of member id and its digest.
func (s *Store) writeDoc(ctx context.Context, tx *gorm.DB, id string, doc json.RawMessage) error {
	if _, err := s.on(ctx, tx).exec(`UPDATE members SET doc_sum = ? WHERE id = ?`, orgsync.AttributesDigestOf(doc), id); err != nil {
		return err
	}
	return s.putDoc(ctx, tx, id, doc)
}

// putDoc replaces the member_docs row of member id (none for an empty
// document).
func (s *Store) putDoc(ctx context.Context, tx *gorm.DB, id string, doc json.RawMessage) error {
	if _, err := s.on(ctx, tx).exec(`DELETE FROM member_docs WHERE member_id = ?`, id); err != nil {
		return err
	}
	if len(doc) == 0 {
		return nil
	}
	_, err := s.on(ctx, tx).exec(`INSERT INTO member_docs (member_id, doc) VALUES (?, `+s.dialect.docParam()+`)`, id, string(doc))
	return err
}

// updateDoc sets the document of member id unless its digest says it
// already holds it, and reports whether it changed.
func (s *Store) updateDoc(ctx context.Context, tx *gorm.DB, id string, doc json.RawMessage) (bool, error) {
	sum := orgsync.AttributesDigestOf(doc)
	n, err := s.on(ctx, tx).exec(`UPDATE members SET doc_sum = ? WHERE id = ? AND doc_sum <> ?`, sum, id, sum)
	if err != nil || n == 0 {
		return false, err
	}
	return true, s.putDoc(ctx, tx, id, doc)
}

// memberDocCols are memberCols and the document, selected FROM members m.
const memberDocCols = memberCols + `, ` + docOf

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
