package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
)

// TestTryLock: a key is held by one holder at a time until released
// (PostgreSQL: a session advisory lock; SQLite: an in-process lock).
func TestTryLock(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := openSCIM(t, b)
			release, ok, err := s.TryLock(ctx, "source/corp")
			if err != nil || !ok {
				t.Fatalf("first TryLock = %v, %v", ok, err)
			}
			if _, ok2, err := s.TryLock(ctx, "source/corp"); err != nil || ok2 {
				t.Fatalf("second TryLock while held = %v, %v", ok2, err)
			}
			if r, ok3, err := s.TryLock(ctx, "source/other"); err != nil || !ok3 {
				t.Fatalf("other key = %v, %v", ok3, err)
			} else {
				r()
			}
			release()
			r, ok4, err := s.TryLock(ctx, "source/corp")
			if err != nil || !ok4 {
				t.Fatalf("TryLock after release = %v, %v", ok4, err)
			}
			r()
		})
	}
}

// TestTokenStorage: the store keeps only a token's hash, and a token past
// its expiry no longer authenticates.
func TestTokenStorage(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := openSCIM(t, b)
			tok, _, err := s.CreateToken(ctx, "acme", "jumpcloud", 0)
			if err != nil {
				t.Fatal(err)
			}
			var rows []map[string]any
			if err := s.DBForTest().Raw(`SELECT * FROM scim_tokens`).Scan(&rows).Error; err != nil || len(rows) != 1 {
				t.Fatalf("scim_tokens: %d rows, %v", len(rows), err)
			}
			for col, v := range rows[0] {
				if str, ok := v.(string); ok && str == tok {
					t.Fatalf("column %s holds the token in clear", col)
				}
			}
			short, _, err := s.CreateToken(ctx, "acme", "short", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Authenticate(ctx, short); err != nil {
				t.Fatalf("fresh token: %v", err)
			}
			now := s.Now
			s.Now = func() time.Time { return now().Add(2 * time.Minute) }
			defer func() { s.Now = now }()
			if _, err := s.Authenticate(ctx, short); !errors.Is(err, orgsync.ErrUnauthorized) {
				t.Fatalf("expired token: %v", err)
			}
		})
	}
}
