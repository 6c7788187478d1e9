package store

import (
	"context"

	"github.com/rs/zerolog"
)

// OpenAt opens a database at an older schema version, for migration tests.
func OpenAt(ctx context.Context, cfg Config, log zerolog.Logger, version int) (*Store, error) {
	return openAt(ctx, cfg, log, version, UpgradeAlways)
}
