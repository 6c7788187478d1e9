package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
)

// TokenPrefix starts every SCIM token, so secret scanners can spot a
// leaked one.
const TokenPrefix = "osk_"

// hashToken is how a token is kept: its SHA-256. Tokens carry 256 random
// bits, so a fast hash is enough; no salt is needed for random secrets.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateToken mints a SCIM bearer token for org. The token is returned once
// and only its hash is stored. ttl 0 means it never expires.
func (s *Store) CreateToken(ctx context.Context, org, description string, ttl time.Duration) (string, orgsync.Token, error) {
	if _, err := s.Org(ctx, org); err != nil {
		return "", orgsync.Token{}, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", orgsync.Token{}, fmt.Errorf("store: token randomness: %w", err)
	}
	token := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	t := orgsync.Token{ID: newID(), Org: org, Description: description, CreatedAt: s.Now()}
	if ttl > 0 {
		exp := t.CreatedAt.Add(ttl)
		t.ExpiresAt = &exp
	}
	err := s.write(ctx, func(tx *gorm.DB) error {
		_, err := s.in(tx).exec(`INSERT INTO scim_tokens (id, org_id, hash, description, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			t.ID, t.Org, hashToken(token), t.Description, t.CreatedAt, nullTime(t.ExpiresAt))
		return err
	})
	if err != nil {
		return "", orgsync.Token{}, fmt.Errorf("store: create token: %w", err)
	}
	return token, t, nil
}

const tokenCols = `id, org_id, description, created_at, expires_at, last_used_at, revoked_at`

func scanTokens(rows *sql.Rows) ([]orgsync.Token, error) {
	defer rows.Close()
	var out []orgsync.Token
	for rows.Next() {
		var t orgsync.Token
		var exp, used, revoked sql.NullTime
		if err := rows.Scan(&t.ID, &t.Org, &t.Description, &t.CreatedAt, &exp, &used, &revoked); err != nil {
			return nil, err
		}
		t.CreatedAt = t.CreatedAt.UTC()
		t.ExpiresAt, t.LastUsedAt, t.RevokedAt = timePtr(exp), timePtr(used), timePtr(revoked)
		out = append(out, t)
	}
	return out, rows.Err()
}

// Tokens lists the tokens of org, or of every org when org is "".
func (s *Store) Tokens(ctx context.Context, org string) ([]orgsync.Token, error) {
	q, args := `SELECT `+tokenCols+` FROM scim_tokens`, []any{}
	if org != "" {
		q, args = q+` WHERE org_id = ?`, append(args, org)
	}
	rows, err := s.pool(ctx).query(q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list tokens: %w", err)
	}
	ts, err := scanTokens(rows)
	for i := range ts {
		// A use this process noted but has not written yet.
		if t, ok := s.uses.latest(ts[i].ID); ok && (ts[i].LastUsedAt == nil || t.After(*ts[i].LastUsedAt)) {
			ts[i].LastUsedAt = &t
		}
	}
	return ts, err
}

// RevokeToken revokes a token by ID; it fails at once from then on.
// Revoking a revoked token changes nothing. Unknown ID: ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, id string) (orgsync.Token, error) {
	var out orgsync.Token
	err := s.write(ctx, func(tx *gorm.DB) error {
		c := s.in(tx)
		if _, err := c.exec(`UPDATE scim_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, s.Now(), id); err != nil {
			return err
		}
		rows, err := c.query(`SELECT `+tokenCols+` FROM scim_tokens WHERE id = ?`, id)
		if err != nil {
			return err
		}
		ts, err := scanTokens(rows)
		if err != nil {
			return err
		}
		if len(ts) == 0 {
			return fmt.Errorf("token %q: %w", id, orgsync.ErrNotFound)
		}
		out = ts[0]
		return nil
	})
	return out, err
}

// Authenticate returns the token record a bearer token belongs to, and
// notes its use, which is written to last_used_at within seconds, off the
// request path: Authenticate only reads, so it never waits for a writer. Unknown, malformed, expired and revoked tokens are all
// ErrUnauthorized with a reason that never repeats the token.
func (s *Store) Authenticate(ctx context.Context, token string) (orgsync.Token, error) {
	if !strings.HasPrefix(token, TokenPrefix) || len(token) > 256 {
		return orgsync.Token{}, fmt.Errorf("malformed token: %w", orgsync.ErrUnauthorized)
	}
	h := hashToken(token)
	var row struct {
		Hash string
	}
	rows, err := s.pool(ctx).query(`SELECT `+tokenCols+`, hash FROM scim_tokens WHERE hash = ?`, h)
	if err != nil {
		return orgsync.Token{}, fmt.Errorf("store: authenticate: %w", err)
	}
	var t orgsync.Token
	found := false
	for rows.Next() {
		var exp, used, revoked sql.NullTime
		if err := rows.Scan(&t.ID, &t.Org, &t.Description, &t.CreatedAt, &exp, &used, &revoked, &row.Hash); err != nil {
			rows.Close()
			return orgsync.Token{}, err
		}
		t.ExpiresAt, t.LastUsedAt, t.RevokedAt = timePtr(exp), timePtr(used), timePtr(revoked)
		found = true
	}
	rows.Close()
	// The lookup is by hash; compare again in constant time so that no
	// index or collation quirk can ever match a different token.
	if !found || subtle.ConstantTimeCompare([]byte(row.Hash), []byte(h)) != 1 {
		return orgsync.Token{}, fmt.Errorf("unknown token: %w", orgsync.ErrUnauthorized)
	}
	now := s.Now()
	switch {
	case t.RevokedAt != nil:
		return orgsync.Token{}, fmt.Errorf("token %s was revoked: %w", t.ID, orgsync.ErrUnauthorized)
	case t.ExpiresAt != nil && !now.Before(*t.ExpiresAt):
		return orgsync.Token{}, fmt.Errorf("token %s expired: %w", t.ID, orgsync.ErrUnauthorized)
	}
	// Note the use for the background writer (tokenuse.go): never a
	// write on the request path. The stored time is kept to the minute.
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
		s.uses.note(t.ID, now)
		t.LastUsedAt = &now
	}
	return t, nil
}
