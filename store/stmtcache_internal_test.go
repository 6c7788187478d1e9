package store

import (
	"context"
	"fmt"
	"testing"

	"gorm.io/gorm"
)

// TestSQLiteWriteKeepsStatements: a SQLite write transaction prepares a
// statement it executes again once, keeps at most maxTxStmts, runs the
// others directly, and what all of them wrote commits (or, on error, rolls
// back).
func TestSQLiteWriteKeepsStatements(t *testing.T) {
	ctx := context.Background()
	s := openInsertStore(t, insertBackends[0].config(t))
	count := func() (n int) {
		t.Helper()
		if _, err := s.pool(ctx).row(`SELECT COUNT(*) FROM orgs WHERE id LIKE 'kept-%'`, nil, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var kept int
	err := s.write(ctx, func(tx *gorm.DB) error {
		st, ok := tx.Statement.ConnPool.(*stmtTx)
		if !ok {
			return fmt.Errorf("the write transaction runs on a %T, not a stmtTx", tx.Statement.ConnPool)
		}
		c := s.in(tx)
		for i := 0; i < 3; i++ { // one text, three runs
			if _, err := c.exec(`INSERT INTO orgs (id, name, default_role, purge_after_seconds, created_at, updated_at) VALUES (?, ?, 'member', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`,
				fmt.Sprint("kept-", i), "Kept"); err != nil {
				return err
			}
		}
		if len(st.stmts) != 1 {
			return fmt.Errorf("one statement run three times: %d kept", len(st.stmts))
		}
		for i := 0; i < maxTxStmts+5; i++ { // distinct texts: past the bound, run directly
			if _, err := c.exec(fmt.Sprintf(`UPDATE orgs SET name = 'Kept %d' WHERE id = ?`, i), "kept-0"); err != nil {
				return err
			}
		}
		kept = len(st.stmts)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if kept != maxTxStmts || count() != 3 {
		t.Fatalf("%d statements kept (want %d), %d rows committed (want 3)", kept, maxTxStmts, count())
	}
	// A failed write rolls back what its kept statements wrote.
	err = s.write(ctx, func(tx *gorm.DB) error {
		if _, err := s.in(tx).exec(`DELETE FROM orgs WHERE id LIKE 'kept-%'`); err != nil {
			return err
		}
		return fmt.Errorf("fail on purpose")
	})
	if err == nil || count() != 3 {
		t.Fatalf("a failed write: err %v, %d rows left (want 3)", err, count())
	}
}
