package store

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
)

// RecordRun stores the record of a reconcile run and returns its ID.
func (s *Store) RecordRun(ctx context.Context, r orgsync.Run) (int64, error) {
	summary, _ := json.Marshal(r.Summary)
	var applied, plan []byte
	if r.Applied != nil {
		applied, _ = json.Marshal(r.Applied)
	}
	if r.Plan != nil {
		plan, _ = json.Marshal(recordedPlan(r.Plan))
	}
	var id int64
	err := s.write(ctx, func(tx *gorm.DB) error {
		var rd orgsync.Read
		if r.Read != nil {
			rd = *r.Read
		}
		q := `INSERT INTO runs (org_id, source, started_at, finished_at, result, guard_blocked, guard_reason, forced, summary, applied, plan, error,
			digest, approves, actor, target, read_kind, read_reason, read_changed, read_listed)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
		args := []any{r.Org, r.Source, r.StartedAt.UTC(), r.FinishedAt.UTC(), string(r.Result), r.Guard.Blocked, r.Guard.Reason,
			r.Guard.Forced, string(summary), string(applied), string(plan), r.Error, digestColumn(r.Digest), r.Approves, r.Actor, r.Target,
			rd.Kind, rd.Reason, rd.Changed, rd.Listed}
		c := s.in(tx)
		if s.dialect.postgres {
			_, err := c.row(q+` RETURNING id`, args, &id)
			return err
		}
		if _, err := c.exec(q, args...); err != nil {
			return err
		}
		_, err := c.row(`SELECT last_insert_rowid()`, nil, &id)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: record run: %w", err)
	}
	return id, nil
}

// maxRecordedChanges caps the plan kept with a run: a first provisioning of
// 100k members plans some 300k changes (about 50 MB of JSON), and every
// applied change is in the event log already.
const maxRecordedChanges = 10000

func recordedPlan(p *orgsync.Plan) *orgsync.Plan {
	if len(p.Changes) <= maxRecordedChanges {
		return p
	}
	cp := *p
	cp.Changes = p.Changes[:maxRecordedChanges]
	cp.Warnings = append(append([]string(nil), p.Warnings...), fmt.Sprintf(
		"recorded plan truncated to its first %d of %d changes; the event log holds every applied change", maxRecordedChanges, len(p.Changes)))
	return &cp
}

// RunFilter narrows Runs.
type RunFilter struct {
	// ID selects one run; 0 lists them all.
	ID     int64
	Source string
	Limit  int
	// WithPlan includes each run's full plan.
	WithPlan bool
}

// Runs lists recorded runs, newest first.
func (s *Store) Runs(ctx context.Context, f RunFilter) ([]orgsync.Run, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	cols := `id, org_id, source, started_at, finished_at, result, guard_blocked, guard_reason, forced, summary, applied, error, digest, approves, actor, target,
		read_kind, read_reason, read_changed, read_listed`
	if f.WithPlan {
		cols += `, plan`
	}
	q, args, where := `SELECT `+cols+` FROM runs`, []any{}, " WHERE "
	if f.ID != 0 {
		q, args, where = q+where+`id = ?`, append(args, f.ID), " AND "
	}
	if f.Source != "" {
		q, args = q+where+`source = ?`, append(args, f.Source)
	}
	rows, err := s.pool(ctx).query(q+` ORDER BY id DESC LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: list runs: %w", err)
	}
	defer rows.Close()
	out := []orgsync.Run{}
	for rows.Next() {
		var r orgsync.Run
		var result, summary, applied, plan, digest string
		var rd orgsync.Read
		dest := []any{&r.ID, &r.Org, &r.Source, &r.StartedAt, &r.FinishedAt, &result, &r.Guard.Blocked, &r.Guard.Reason,
			&r.Guard.Forced, &summary, &applied, &r.Error, &digest, &r.Approves, &r.Actor, &r.Target, &rd.Kind, &rd.Reason, &rd.Changed, &rd.Listed}
		if f.WithPlan {
			dest = append(dest, &plan)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("store: list runs: %w", err)
		}
		r.Result, r.Digest = orgsync.RunResult(result), scanDigest(digest)
		if rd.Kind != "" {
			r.Read = &rd
		}
		r.StartedAt, r.FinishedAt = r.StartedAt.UTC(), r.FinishedAt.UTC()
		if summary != "" {
			_ = json.Unmarshal([]byte(summary), &r.Summary)
		}
		if applied != "" {
			r.Applied = &orgsync.Applied{}
			_ = json.Unmarshal([]byte(applied), r.Applied)
		}
		if plan != "" {
			r.Plan = &orgsync.Plan{}
			_ = json.Unmarshal([]byte(plan), r.Plan)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
