package reconcilertest_test

import (
	"testing"

	"github.com/orgsync/orgsync/reconciler"
	"github.com/orgsync/orgsync/reconciler/reconcilertest"
	"github.com/orgsync/orgsync/store/storetest"
)

var _ reconciler.Store = (*reconcilertest.Store)(nil)

// TestConformance holds the in-memory fake to the real store's semantics:
// the store conformance suite's subtests over what the reconciler needs
// (Observed, Apply, RecordRun) run against it as against SQLite and
// PostgreSQL. It has one org and none of the other views, so the subtests
// that need them skip, saying which.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		Open: func(*testing.T) storetest.Store { return reconcilertest.NewStore(nil, nil) },
	})
}
