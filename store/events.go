package store

import (
	"context"
	"fmt"

	"github.com/orgsync/orgsync"
)

// Events returns up to limit events with a sequence number above after,
// oldest first; org "" means every org.
func (s *Store) Events(ctx context.Context, org string, after int64, limit int) ([]orgsync.Event, error) {
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	q, args := `SELECT seq, time, org_id, actor, kind, member_id, group_id, before, after FROM events WHERE seq > ?`, []any{after}
	if org != "" {
		q, args = q+` AND org_id = ?`, append(args, org)
	}
	rows, err := s.db.WithContext(ctx).Raw(q+` ORDER BY seq LIMIT ?`, append(args, limit)...).Rows()
	if err != nil {
		return nil, fmt.Errorf("store: read events: %w", err)
	}
	defer rows.Close()
	out := []orgsync.Event{}
	for rows.Next() {
		var e orgsync.Event
		var before, after string
		if err := rows.Scan(&e.Seq, &e.Time, &e.Org, &e.Actor, &e.Kind, &e.MemberID, &e.GroupID, &before, &after); err != nil {
			return nil, fmt.Errorf("store: read events: %w", err)
		}
		e.Time = e.Time.UTC()
		if before != "" {
			e.Before = []byte(before)
		}
		if after != "" {
			e.After = []byte(after)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
