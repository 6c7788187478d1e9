package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
)

// MemberWithGroups is Member with the display names of the member's groups
// (sorted) in Groups.
func (s *Store) MemberWithGroups(ctx context.Context, org, idOrUserName string) (orgsync.Member, error) {
	m, err := s.Member(ctx, org, idOrUserName)
	if err != nil {
		return m, err
	}
	rows, err := s.pool(ctx).query(`SELECT g.display_name FROM group_members gm
		JOIN org_groups g ON g.id = gm.group_id WHERE gm.org_id = ? AND gm.member_id = ?`, org, m.ID)
	if err != nil {
		return m, fmt.Errorf("store: groups of member %q: %w", m.ID, err)
	}
	defer rows.Close()
	m.Groups = []string{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return m, fmt.Errorf("store: groups of member %q: %w", m.ID, err)
		}
		m.Groups = append(m.Groups, name)
	}
	sort.Strings(m.Groups)
	return m, rows.Err()
}

// TailStart is the sequence number to read events after so that the last
// n events (of org, or of every org when org is "") come next: 0 when there
// are no more than n.
func (s *Store) TailStart(ctx context.Context, org string, n int) (int64, error) {
	if n <= 0 {
		return 0, fmt.Errorf("store: tail start: n must be positive: %w", orgsync.ErrInvalid)
	}
	q, args := `SELECT seq FROM events`, []any{}
	if org != "" {
		q, args = q+` WHERE org_id = ?`, append(args, org)
	}
	var seq int64
	found, err := s.pool(ctx).row(q+` ORDER BY seq DESC LIMIT 1 OFFSET ?`, append(args, n-1), &seq)
	if err != nil {
		return 0, fmt.Errorf("store: tail start: %w", err)
	}
	if !found {
		return 0, nil
	}
	return seq - 1, nil
}

// LastSuccess is, per source, when its last applied run finished.
func (s *Store) LastSuccess(ctx context.Context) (map[string]time.Time, error) {
	// The newest applied run of each source, by id: MAX(finished_at) would
	// lose the column's type on SQLite.
	rows, err := s.pool(ctx).query(`SELECT source, finished_at FROM runs
		WHERE id IN (SELECT MAX(id) FROM runs WHERE result = ? GROUP BY source)`, string(orgsync.RunApplied))
	if err != nil {
		return nil, fmt.Errorf("store: last successful runs: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var src string
		var at time.Time
		if err := rows.Scan(&src, &at); err != nil {
			return nil, fmt.Errorf("store: last successful runs: %w", err)
		}
		out[src] = at.UTC()
	}
	return out, rows.Err()
}

// Pruned counts what Prune deleted.
type Pruned struct{ Runs, Events int64 }

// Prune deletes the runs that finished and the events that happened before
// the given times (a zero time keeps them all). The change feed's sequence
// numbers are not reused: a reader resuming after a pruned event gets the
// events that are left.
func (s *Store) Prune(ctx context.Context, runsBefore, eventsBefore time.Time) (Pruned, error) {
	var p Pruned
	err := s.write(ctx, func(tx *gorm.DB) error {
		c := s.in(tx)
		var err error
		if !runsBefore.IsZero() {
			if p.Runs, err = c.exec(`DELETE FROM runs WHERE finished_at < ?`, runsBefore.UTC()); err != nil {
				return err
			}
		}
		if !eventsBefore.IsZero() {
			if p.Events, err = c.exec(`DELETE FROM events WHERE time < ?`, eventsBefore.UTC()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Pruned{}, fmt.Errorf("store: prune: %w", err)
	}
	return p, nil
}
