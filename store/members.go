package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/orgsync/orgsync"
)

const memberCols = `id, org_id, user_name, external_id, given_name, family_name, display_name,
	role, status, owner, setup_completed_at, deprovisioned_at, deleted_at, version, created_at, updated_at`

// scanMembers reads rows of memberCols.
func scanMembers(rows *sql.Rows) ([]orgsync.Member, error) { return scanMembersN(rows, 0) }

// scanMembersN reads rows of memberCols into a slice sized for n.
func scanMembersN(rows *sql.Rows, n int) ([]orgsync.Member, error) {
	return scanMembersSum(rows, n, false)
}

// scanMembersSum reads rows of memberCols, followed by doc_sum (into
// AttributesDigest) when sum is set, into a slice sized for n.
func scanMembersSum(rows *sql.Rows, n int, sum bool) ([]orgsync.Member, error) {
	defer rows.Close()
	out := make([]orgsync.Member, 0, n)
	for rows.Next() {
		var (
			m                        orgsync.Member
			status                   string
			setup, deprov, deletedAt sql.NullTime
		)
		dest := []any{&m.ID, &m.Org, &m.UserName, &m.ExternalID, &m.GivenName, &m.FamilyName,
			&m.DisplayName, &m.Role, &status, &m.Owner, &setup, &deprov, &deletedAt, &m.Version,
			&m.CreatedAt, &m.UpdatedAt}
		if sum {
			dest = append(dest, &m.AttributesDigest)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		m.Status = orgsync.Status(status)
		m.SetupCompletedAt = timePtr(setup)
		m.DeprovisionedAt = timePtr(deprov)
		m.DeletedAt = timePtr(deletedAt)
		m.CreatedAt = m.CreatedAt.UTC()
		m.UpdatedAt = m.UpdatedAt.UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

// observedCols are the columns the reconciler compares: Observed leaves out
// the bookkeeping timestamps (CreatedAt, UpdatedAt), whose parsing was a
// third of reading a large org.
var observedFields = []string{"id", "user_name", "external_id", "given_name", "family_name", "display_name",
	"role", "status", "owner", "setup_completed_at", "deprovisioned_at", "deleted_at", "version", "doc_sum"}

var observedCols = strings.Join(observedFields, ", ")

func scanObserved(rows *sql.Rows, org string, size int) ([]orgsync.Member, error) {
	defer rows.Close()
	out := make([]orgsync.Member, 0, size)
	for rows.Next() {
		var (
			m                        orgsync.Member
			status                   string
			setup, deprov, deletedAt sql.NullTime
		)
		if err := rows.Scan(&m.ID, &m.UserName, &m.ExternalID, &m.GivenName, &m.FamilyName, &m.DisplayName,
			&m.Role, &status, &m.Owner, &setup, &deprov, &deletedAt, &m.Version, &m.AttributesDigest); err != nil {
			return nil, err
		}
		m.Org, m.Status = org, orgsync.Status(status)
		m.SetupCompletedAt, m.DeprovisionedAt, m.DeletedAt = timePtr(setup), timePtr(deprov), timePtr(deletedAt)
		out = append(out, m)
	}
	return out, rows.Err()
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

// attachEmails loads the emails of members, a part of org, by their IDs
// (through the primary key), in their stored order.
func (s *Store) attachEmails(c conn, org string, members []orgsync.Member) error {
	if len(members) == 0 {
		return nil
	}
	ids := make([]string, len(members))
	for i := range members {
		ids[i] = members[i].ID
	}
	return s.placeEmails(c, members, func(fn func(scan func(...any) error) error) error {
		return c.eachIn(`SELECT member_id, pos, value, type, is_primary FROM member_emails WHERE member_id IN`, nil, ids, "", fn)
	})
}

// attachOrgEmails loads the emails of members, all or most of org's, by
// one scan of the org's emails. No ORDER BY: walking the primary key index
// costs more than putting the few emails of each member in place here.
func (s *Store) attachOrgEmails(c conn, org string, members []orgsync.Member) error {
	if len(members) == 0 {
		return nil
	}
	return s.placeEmails(c, members, func(fn func(scan func(...any) error) error) error {
		return c.each(`SELECT member_id, pos, value, type, is_primary FROM member_emails`+s.dialect.scan()+` WHERE org_id = ?`, []any{org}, fn)
	})
}

// placeEmails appends to members the email rows (member_id, pos, value,
// type, is_primary) that read yields, ignoring those of other members,
// and puts them in their stored order.
func (s *Store) placeEmails(c conn, members []orgsync.Member, read func(fn func(scan func(...any) error) error) error) error {
	idx := make(map[string]int, len(members))
	for i := range members {
		idx[members[i].ID] = i
	}
	unsorted := false
	err := read(func(scan func(...any) error) error {
		var id string
		var p int
		var e orgsync.Email
		if err := scan(&id, &p, &e.Value, &e.Type, &e.Primary); err != nil {
			return err
		}
		i, ok := idx[id]
		if !ok {
			return nil
		}
		m := &members[i]
		m.Emails = append(m.Emails, e)
		unsorted = unsorted || p != len(m.Emails)-1
		return nil
	})
	if err != nil {
		return err
	}
	if unsorted {
		return s.sortEmails(c, members)
	}
	return nil
}

// sortEmails reloads, in order, the emails of members whose rows came back
// out of position (rare: only members with several emails).
func (s *Store) sortEmails(c conn, members []orgsync.Member) error {
	for i := range members {
		m := &members[i]
		if len(m.Emails) < 2 {
			continue
		}
		m.Emails = m.Emails[:0]
		err := c.each(`SELECT value, type, is_primary FROM member_emails WHERE member_id = ? ORDER BY pos`, []any{m.ID}, func(scan func(...any) error) error {
			var e orgsync.Email
			if err := scan(&e.Value, &e.Type, &e.Primary); err != nil {
				return err
			}
			m.Emails = append(m.Emails, e)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// MemberFilter narrows Members.
type MemberFilter struct {
	Status orgsync.Status // "" for all
}

// Members lists the org's members with their group names, ordered by user
// name. SCIM-deleted members (tombstones, DeletedAt set) are listed too,
// as the deprovisioned members they are until the purge removes them: the
// lifecycle contract says so, and an operator must be able to see what the
// purge will remove. Unknown org: ErrNotFound.
func (s *Store) Members(ctx context.Context, org string, f MemberFilter) ([]orgsync.Member, error) {
	if _, err := s.Org(ctx, org); err != nil {
		return nil, err
	}
	ctx = s.quiet(ctx) // a large org: no goroutine per row (see quiet)
	q := `SELECT ` + memberCols + ` FROM members` + s.dialect.scan() + ` WHERE org_id = ?`
	args := []any{org}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, string(f.Status))
	}
	c := s.pool(ctx)
	var n int
	if _, err := c.row(`SELECT COUNT(*) FROM members WHERE org_id = ?`, []any{org}, &n); err != nil {
		return nil, fmt.Errorf("store: list members: %w", err)
	}
	rows, err := c.query(q+` ORDER BY user_name_fold`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list members: %w", err)
	}
	members, err := scanMembersN(rows, n)
	if err != nil {
		return nil, fmt.Errorf("store: list members: %w", err)
	}
	if err := s.attachOrgEmails(c, org, members); err != nil {
		return nil, fmt.Errorf("store: list members: %w", err)
	}
	if err := s.attachGroupNames(c, org, members); err != nil {
		return nil, fmt.Errorf("store: list members: %w", err)
	}
	return members, nil
}

func (s *Store) attachGroupNames(c conn, org string, members []orgsync.Member) error {
	if len(members) == 0 {
		return nil
	}
	idx := make(map[string]int, len(members))
	for i := range members {
		idx[members[i].ID] = i
	}
	rows, err := c.query(`SELECT gm.member_id, g.display_name FROM group_members gm
		JOIN org_groups g ON g.id = gm.group_id WHERE gm.org_id = ?`, org)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var mid, name string
		if err := rows.Scan(&mid, &name); err != nil {
			return err
		}
		if i, ok := idx[mid]; ok {
			members[i].Groups = append(members[i].Groups, name)
		}
	}
	for i := range members {
		sort.Strings(members[i].Groups)
	}
	return rows.Err()
}

// Member finds a member of org by id or user name (case-insensitive).
// SCIM-deleted tombstones are found too; callers that must hide them check
// DeletedAt. Unknown: ErrNotFound.
func (s *Store) Member(ctx context.Context, org, idOrUserName string) (orgsync.Member, error) {
	return s.member(s.pool(ctx), org, idOrUserName)
}

func (s *Store) member(c conn, org, key string) (orgsync.Member, error) {
	rows, err := c.query(`SELECT `+memberCols+` FROM members WHERE org_id = ? AND (id = ? OR user_name_fold = ?)`,
		org, key, orgsync.Fold(key))
	if err != nil {
		return orgsync.Member{}, fmt.Errorf("store: member %q: %w", key, err)
	}
	ms, err := scanMembers(rows)
	if err != nil {
		return orgsync.Member{}, fmt.Errorf("store: member %q: %w", key, err)
	}
	if len(ms) == 0 {
		return orgsync.Member{}, fmt.Errorf("member %q in org %q: %w", key, org, orgsync.ErrNotFound)
	}
	m := ms[0]
	for _, c := range ms { // an exact id match wins over a user name
		if c.ID == key {
			m = c
		}
	}
	one := []orgsync.Member{m}
	if err := s.attachEmails(c, org, one); err != nil {
		return orgsync.Member{}, err
	}
	return one[0], nil
}

// CompleteSetup records that the member created their master key
// (orgsync.Member.CompleteSetup): pending_setup becomes active. Completing an
// active member again changes nothing. A deprovisioned or deleted member is
// ErrInvalid (access was revoked: setup cannot complete), an unknown one
// ErrNotFound.
func (s *Store) CompleteSetup(ctx context.Context, org, idOrUserName, actor string) (orgsync.Member, error) {
	var out orgsync.Member
	err := s.write(ctx, func(tx *gorm.DB) error {
		m, err := s.member(s.on(ctx, tx), org, idOrUserName)
		if err != nil {
			return err
		}
		before := m
		now := s.Now()
		kind, err := m.CompleteSetup(now)
		if err != nil {
			return err
		}
		if kind == "" {
			out = m
			return nil
		}
		m.Version, m.UpdatedAt = m.Version+1, now
		if _, err := s.on(ctx, tx).exec(`UPDATE members SET status = ?, setup_completed_at = ?, version = ?, updated_at = ? WHERE id = ?`,
			string(m.Status), now, m.Version, now, m.ID); err != nil {
			return err
		}
		out = m
		return s.appendEvents(ctx, tx, []eventRow{{org: org, actor: actor, kind: kind,
			memberID: m.ID, before: before, after: m}})
	})
	return out, err
}

// StatusCounts returns, per org, how many live (not SCIM-deleted) members
// are in each status.
func (s *Store) StatusCounts(ctx context.Context) (map[string]map[orgsync.Status]int, error) {
	rows, err := s.pool(ctx).query(`SELECT org_id, status, COUNT(*) FROM members WHERE deleted_at IS NULL GROUP BY org_id, status`)
	if err != nil {
		return nil, fmt.Errorf("store: count members: %w", err)
	}
	defer rows.Close()
	out := map[string]map[orgsync.Status]int{}
	for rows.Next() {
		var org, status string
		var n int
		if err := rows.Scan(&org, &status, &n); err != nil {
			return nil, err
		}
		if out[org] == nil {
			out[org] = map[orgsync.Status]int{}
		}
		out[org][orgsync.Status(status)] = n
	}
	return out, rows.Err()
}

// Orgs lists the org IDs in the store.
func (s *Store) Orgs(ctx context.Context) ([]string, error) {
	var ids []string
	err := s.pool(ctx).each(`SELECT id FROM orgs ORDER BY id`, nil, func(scan func(...any) error) error {
		var id string
		if err := scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
		return nil
	})
	return ids, err
}
