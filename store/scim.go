package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/orgsync/orgsync"
)

// The SCIM receiver's view of the store.
//
// The receiver sees and changes only what owner "scim" owns: members and
// groups of other owners (pull sources) are invisible to it (404), and a
// create that would take over one of them is ErrConflict naming its owner.
// SCIM-deleted members (tombstones) are invisible too, except that a create
// with the same userName and the same externalId revives them under the
// same ID (see SCIMCreateMember: another externalId is another person, who
// gets a new member). Every write runs
// in one serialised transaction with its events (actor "scim"), so
// concurrent PATCHes of one group never lose an update.
//
// ifVersion arguments carry an ETag: 0 means no check, any other value
// must equal the current Version or the write is ErrPrecondition.

const scimOwner = orgsync.OwnerSCIM

func checkVersion(kind, id string, current, want int64) error {
	if want != 0 && current != want {
		return fmt.Errorf("%s %q is at version %d, not %d: %w", kind, id, current, want, orgsync.ErrPrecondition)
	}
	return nil
}

// SCIMMember returns a live SCIM-owned member by ID. Unknown, deleted or
// owned by someone else: ErrNotFound.
func (s *Store) SCIMMember(ctx context.Context, org, id string) (orgsync.Member, error) {
	rows, err := s.pool(ctx).query(`SELECT `+memberDocCols+` FROM members m WHERE org_id = ? AND id = ? AND owner = ? AND deleted_at IS NULL`, org, id, scimOwner)
	if err != nil {
		return orgsync.Member{}, fmt.Errorf("store: member %q: %w", id, err)
	}
	ms, err := scanMembersDoc(rows)
	if err != nil {
		return orgsync.Member{}, fmt.Errorf("store: member %q: %w", id, err)
	}
	if len(ms) == 0 {
		return orgsync.Member{}, fmt.Errorf("member %q: %w", id, orgsync.ErrNotFound)
	}
	if err := s.readEmails(ctx, ms); err != nil {
		return orgsync.Member{}, fmt.Errorf("store: member %q: %w", id, err)
	}
	return ms[0], nil
}

// readEmails loads the emails of a page of members with one plain query
// (the SCIM read path is hot; attachEmails goes through gorm).
func (s *Store) readEmails(ctx context.Context, members []orgsync.Member) error {
	if len(members) == 0 {
		return nil
	}
	idx := make(map[string]int, len(members))
	ids := make([]any, len(members))
	for i := range members {
		idx[members[i].ID] = i
		ids[i] = members[i].ID
	}
	rows, err := s.pool(ctx).query(`SELECT member_id, value, type, is_primary FROM member_emails WHERE member_id IN (`+placeholders(len(ids))+`) ORDER BY member_id, pos`, ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var e orgsync.Email
		if err := rows.Scan(&id, &e.Value, &e.Type, &e.Primary); err != nil {
			return err
		}
		if i, ok := idx[id]; ok {
			members[i].Emails = append(members[i].Emails, e)
		}
	}
	return rows.Err()
}

// SCIMMembers lists one page of the live SCIM-owned members matching
// q.Filter in a stable order (folded userName without a filter, id with
// one: both unique), and the total number of
// matches. A filter the store cannot translate exactly is ErrInvalid.
func (s *Store) SCIMMembers(ctx context.Context, org string, q orgsync.Query) ([]orgsync.Member, int, error) {
	where, fargs, err := s.dialect.translateFilter(org, memberSchema, q.Filter)
	if err != nil {
		return nil, 0, err
	}
	from := ` FROM members m WHERE ` + s.dialect.scope("m", q.Filter) + ` AND m.deleted_at IS NULL`
	args := []any{org, scimOwner}
	if where != "" {
		from += " AND " + where
		args = append(args, fargs...)
	}
	start := max(q.StartIndex, 1)
	var members []orgsync.Member
	if q.Count > 0 {
		// One query for the page and its emails: the SCIM lookup is hot.
		// Unfiltered pages (IdP imports) follow the userName index; filtered
		// ones go by id, so that SQLite, which has no statistics here, uses
		// the filter's index (externalId, emails) rather than walking the
		// userName index to avoid a sort.
		order := "m.user_name_fold"
		if q.Filter != nil {
			order = "m.id"
		}
		rows, err := s.pool(ctx).query(`SELECT `+memberColsM+`, `+docOf+`, e.value, e.type, e.is_primary FROM (SELECT m.*`+from+
			` ORDER BY `+order+` LIMIT ? OFFSET ?) m LEFT JOIN member_emails e ON e.member_id = m.id ORDER BY `+order+`, e.pos`,
			append(args, q.Count, start-1)...)
		if err != nil {
			return nil, 0, fmt.Errorf("store: list members: %w", err)
		}
		if members, err = scanMembersEmails(rows); err != nil {
			return nil, 0, fmt.Errorf("store: list members: %w", err)
		}
	}
	total, err := s.total(ctx, q, start, len(members), from, args)
	if err != nil {
		return nil, 0, fmt.Errorf("store: count members: %w", err)
	}
	return members, total, nil
}

// memberColsM is memberCols qualified with the alias m.
var memberColsM = func() string {
	cols := strings.Split(memberCols, ",")
	for i, c := range cols {
		cols[i] = "m." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}()

// scanMembersEmails reads rows of memberColsM plus one email (value, type,
// is_primary; NULL for none) per row, ordered by member.
func scanMembersEmails(rows *sql.Rows) ([]orgsync.Member, error) {
	defer rows.Close()
	var out []orgsync.Member
	for rows.Next() {
		var (
			m                        orgsync.Member
			status                   string
			setup, deprov, deletedAt sql.NullTime
			value, typ               sql.NullString
			primary                  sql.NullBool
			doc                      []byte
		)
		if err := rows.Scan(&m.ID, &m.Org, &m.UserName, &m.ExternalID, &m.GivenName, &m.FamilyName,
			&m.DisplayName, &m.Role, &status, &m.Owner, &setup, &deprov, &deletedAt, &m.Version,
			&m.CreatedAt, &m.UpdatedAt, &doc, &value, &typ, &primary); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].ID != m.ID {
			m.Status = orgsync.Status(status)
			m.SetupCompletedAt, m.DeprovisionedAt, m.DeletedAt = timePtr(setup), timePtr(deprov), timePtr(deletedAt)
			m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), m.UpdatedAt.UTC()
			if len(doc) > 0 {
				m.Attributes = json.RawMessage(doc)
			}
			out = append(out, m)
		}
		if value.Valid {
			last := &out[len(out)-1]
			last.Emails = append(last.Emails, orgsync.Email{Value: value.String, Type: typ.String, Primary: primary.Bool})
		}
	}
	return out, rows.Err()
}

// total counts the matches, unless the first page already holds them all.
func (s *Store) total(ctx context.Context, q orgsync.Query, start, got int, from string, args []any) (int, error) {
	if q.Count > 0 && start == 1 && got < q.Count {
		return got, nil
	}
	var n int
	rows, err := s.pool(ctx).query(`SELECT COUNT(*)`+from, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	return n, rows.Err()
}
