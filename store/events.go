package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"

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
	// Up to 10,000 rows: no goroutine per row (see quiet).
	rows, err := s.pool(s.quiet(ctx)).query(q+` ORDER BY seq LIMIT ?`, append(args, limit)...)
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

// memberImage is a member as the event log records it: the member's state
// in the fields and names of Member, without the bookkeeping timestamps
// (the event's time is the change's). A third smaller than the whole
// Member, which matters when one run provisions 100k members.
type memberImage struct {
	ID               string          `json:"id"`
	Org              string          `json:"org"`
	UserName         string          `json:"user_name"`
	ExternalID       string          `json:"external_id,omitempty"`
	Emails           []orgsync.Email `json:"emails,omitempty"`
	GivenName        string          `json:"given_name,omitempty"`
	FamilyName       string          `json:"family_name,omitempty"`
	DisplayName      string          `json:"display_name,omitempty"`
	Attributes       json.RawMessage `json:"attributes,omitempty"`
	Role             string          `json:"role"`
	Status           orgsync.Status  `json:"status"`
	Owner            string          `json:"owner,omitempty"`
	SetupCompletedAt *time.Time      `json:"setup_completed_at,omitempty"`
	DeprovisionedAt  *time.Time      `json:"deprovisioned_at,omitempty"`
	DeletedAt        *time.Time      `json:"deleted_at,omitempty"`
	Version          int64           `json:"version"`
}

func imageOf(m *orgsync.Member) memberImage {
	return memberImage{ID: m.ID, Org: m.Org, UserName: m.UserName, ExternalID: m.ExternalID, Emails: m.Emails, GivenName: m.GivenName,
		FamilyName: m.FamilyName, DisplayName: m.DisplayName, Attributes: m.Attributes, Role: m.Role, Status: m.Status, Owner: m.Owner,
		SetupCompletedAt: m.SetupCompletedAt, DeprovisionedAt: m.DeprovisionedAt, DeletedAt: m.DeletedAt, Version: m.Version}
}

// eventRow is one event about to be appended.
type eventRow struct {
	org, actor, kind, memberID, groupID string
	before, after                       any
}

// appendEvents appends events in one statement.
func (s *Store) appendEvents(ctx context.Context, tx *gorm.DB, evs []eventRow) error {
	if len(evs) == 0 {
		return nil
	}
	now := s.stamp(s.Now())
	rows := make([][]any, 0, len(evs))
	for _, e := range evs {
		rows = append(rows, []any{now, e.org, e.actor, e.kind, e.memberID, e.groupID, jsonText(e.before), jsonText(e.after)})
	}
	return s.on(ctx, tx).insert("events", []string{"time", "org_id", "actor", "kind", "member_id", "group_id", "before", "after"}, rows, "")
}

// stamp is t as a statement argument. SQLite keeps times as text in the
// driver's layout: formatting once for a batch of rows, rather than in the
// driver for every row, writes the same text for less.
func (s *Store) stamp(t time.Time) any {
	if s.dialect.postgres {
		return t
	}
	return t.Format(sqlite3.SQLiteTimestampFormats[0])
}

func jsonText(v any) string {
	switch m := v.(type) {
	case nil:
		return ""
	case *orgsync.Member:
		if m == nil {
			return ""
		}
		v = imageOf(m)
	case orgsync.Member:
		v = imageOf(&m)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}
