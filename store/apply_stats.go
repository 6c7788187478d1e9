package store

import "github.com/orgsync/orgsync"

// PostgreSQL plans a lookup by what its statistics say of a table, and a
// table filled by the transaction itself has none that tell the truth: a
// first apply finds members empty (never analysed), and the planner,
// guessing that org_id = ? keeps a few rows of it, then reads every member
// of the org through the org_id prefix of an index for each batch of 500
// keys, a longer read every batch: 225 s of a 100k-member apply went to
// that. So once an apply has provisioned a tenth as many members as the
// table's statistics count (and at least a batch of them), it analyses
// members, in the transaction: ANALYZE samples the transaction's own rows,
// the statements planned before are planned again, and from then on they
// use the key's index. Once is enough: the planner scales the row count
// with the table's size, and the org's share of the rows only grows.

// memberStats is the applier's record of the members table's statistics.
type memberStats struct {
	// analyzeAt is how many provisioned members call for ANALYZE; 0 until
	// the first provision batch reads the table's row estimate.
	analyzeAt int
	done      bool
}

// provisioned is called after each provision batch.
func (a *applier) provisioned() error {
	st := &a.stats
	if !a.s.dialect.postgres || st.done {
		return nil
	}
	n := a.out.Counts[orgsync.ActionProvision]
	if st.analyzeAt == 0 {
		var rows float64 // -1: never analysed
		if _, err := a.c.row(`SELECT reltuples FROM pg_class WHERE oid = CAST('members' AS regclass)`, nil, &rows); err != nil {
			return err
		}
		st.analyzeAt = max(applyBatch, int(rows/10))
	}
	if n < st.analyzeAt {
		return nil
	}
	st.done = true
	_, err := a.c.exec(`ANALYZE members`)
	return err
}
