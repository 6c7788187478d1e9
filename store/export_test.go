package store

import (
	"context"

	"github.com/rs/zerolog"
	"gorm.io/gorm"
)

// OpenAt opens a database at an older schema version, for migration tests.
func OpenAt(ctx context.Context, cfg Config, log zerolog.Logger, version int) (*Store, error) {
	return openAt(ctx, cfg, log, version, UpgradeAlways)
}

// DBForTest is the store's gorm handle, for tests that read or corrupt the
// database behind the store's back.
func (s *Store) DBForTest() *gorm.DB { return s.db }

// ApplyBatch is how many changes of one action an apply takes at a time.
const ApplyBatch = applyBatch
