package store

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
)

// migrateV4 keeps with each run the digest of what its plan was computed
// from, and for an approval the run it approved and who approved it.
func migrateV4(tx *gorm.DB, _ dialect) error {
	return execAll(tx,
		`ALTER TABLE runs ADD COLUMN digest TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE runs ADD COLUMN approves BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE runs ADD COLUMN actor TEXT NOT NULL DEFAULT ''`,
		`CREATE INDEX runs_approves ON runs (approves)`,
	)
}

func digestColumn(d *orgsync.Digest) string {
	if d == nil || d.IsZero() {
		return ""
	}
	b, _ := json.Marshal(d)
	return string(b)
}

func scanDigest(s string) *orgsync.Digest {
	if s == "" {
		return nil
	}
	var d orgsync.Digest
	if json.Unmarshal([]byte(s), &d) != nil || d.IsZero() {
		return nil
	}
	return &d
}

// ApprovalOf returns the id of the applied run that approved run id, 0
// when none did (an approval a guard still refused, or that failed, does
// not count: it may be tried again).
func (s *Store) ApprovalOf(ctx context.Context, id int64) (int64, error) {
	var ids []int64
	if err := s.db.WithContext(ctx).Raw(`SELECT id FROM runs WHERE approves = ? AND result = ? ORDER BY id LIMIT 1`, id, string(orgsync.RunApplied)).Scan(&ids).Error; err != nil {
		return 0, fmt.Errorf("store: approval of run %d: %w", id, err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return ids[0], nil
}
