package store

import (
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/orgsync/orgsync"
)

// Reading a whole org from SQLite is bound by the cgo driver's cost per
// column (three C calls and an allocation each), not by SQLite. So the
// snapshot's large reads ask SQLite to join each row's columns into one
// text value, separated by NUL, and split it here: one column per row,
// and the fields share the row's one allocation. No stored value holds a
// NUL (writes refuse them, and PostgreSQL could not store one); should one
// ever appear, the row splits into the wrong number of fields and the read
// is done again column by column.

var errUnjoinable = errors.New("a row does not split into its fields")

// joinSQL is the expression joining cols with NUL; nullable columns read
// as "".
func joinSQL(cols ...string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = "ifnull(" + c + ", '')"
	}
	return strings.Join(parts, " || char(0) || ")
}

// splitJoined splits row into exactly len(f) fields.
func splitJoined(row string, f []string) bool {
	last := len(f) - 1
	for i := 0; i < last; i++ {
		var ok bool
		if f[i], row, ok = strings.Cut(row, "\x00"); !ok {
			return false
		}
	}
	if strings.IndexByte(row, 0) >= 0 {
		return false
	}
	f[last] = row
	return true
}

// eachJoined scans rows of one joined column and calls fn with the fields
// of each, in order. Splitting and fn run on a second goroutine, a batch of
// rows behind the scan: the scan is the cgo driver's work, the rest is Go's,
// and the two overlap.
func eachJoined(rows *sql.Rows, n int, fn func(f []string) error) error {
	defer rows.Close()
	const batchRows = 512
	batches := make(chan []string, 4)
	stop := make(chan struct{}) // closed when fn or a split fails
	done := make(chan error, 1)
	go func() {
		f := make([]string, n)
		var err error
		for b := range batches {
			for _, row := range b {
				if err != nil {
					break
				}
				if !splitJoined(row, f) {
					err = errUnjoinable
				} else {
					err = fn(f)
				}
				if err != nil {
					close(stop)
				}
			}
		}
		done <- err
	}()
	send := func(b []string) bool {
		select {
		case batches <- b:
			return true
		case <-stop:
			return false
		}
	}
	batch := make([]string, 0, batchRows)
	var scanErr error
	for rows.Next() {
		var row string
		if scanErr = rows.Scan(&row); scanErr != nil {
			break
		}
		if batch = append(batch, row); len(batch) == batchRows {
			if !send(batch) {
				break
			}
			batch = make([]string, 0, batchRows)
		}
	}
	if scanErr == nil {
		scanErr = rows.Err()
	}
	if len(batch) > 0 {
		send(batch)
	}
	close(batches)
	if err := <-done; err != nil {
		return err
	}
	return scanErr
}

// parseStamp reads a time as the driver wrote it ("" is NULL), trying the
// driver's layouts in its order.
func parseStamp(s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	s = strings.TrimSuffix(s, "Z")
	for _, layout := range sqlite3.SQLiteTimestampFormats {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, errUnjoinable
}

var observedJoined = joinSQL(observedFields...)

// joinedMembers reads the org's members with their emails (Observed's
// columns) from SQLite; errUnjoinable when a row cannot be split.
func (s *Store) joinedMembers(c conn, org string, size int) ([]orgsync.Member, error) {
	rows, err := c.query(`SELECT `+observedJoined+` FROM members NOT INDEXED WHERE org_id = ?`, org)
	if err != nil {
		return nil, err
	}
	out := make([]orgsync.Member, 0, size)
	idx := make(map[string]int, size)
	err = eachJoined(rows, len(observedFields), func(f []string) error {
		m := orgsync.Member{ID: f[0], Org: org, UserName: f[1], ExternalID: f[2], GivenName: f[3], FamilyName: f[4],
			DisplayName: f[5], Role: f[6], Status: orgsync.Status(f[7]), Owner: f[8]}
		var err error
		if m.SetupCompletedAt, err = parseStamp(f[9]); err != nil {
			return err
		}
		if m.DeprovisionedAt, err = parseStamp(f[10]); err != nil {
			return err
		}
		if m.DeletedAt, err = parseStamp(f[11]); err != nil {
			return err
		}
		if m.Version, err = strconv.ParseInt(f[12], 10, 64); err != nil {
			return errUnjoinable
		}
		m.AttributesDigest = f[13]
		idx[m.ID] = len(out)
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	rows, err = c.query(`SELECT `+joinSQL("member_id", "pos", "value", "type", "is_primary")+
		` FROM member_emails NOT INDEXED WHERE org_id = ?`, org)
	if err != nil {
		return nil, err
	}
	unsorted := false
	err = eachJoined(rows, 5, func(f []string) error {
		i, ok := idx[f[0]]
		if !ok {
			return nil
		}
		var primary bool
		switch f[4] {
		case "1":
			primary = true
		case "0":
		default:
			return errUnjoinable
		}
		m := &out[i]
		m.Emails = append(m.Emails, orgsync.Email{Value: f[2], Type: f[3], Primary: primary})
		unsorted = unsorted || f[1] != strconv.Itoa(len(m.Emails)-1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if unsorted {
		return out, s.sortEmails(c, out)
	}
	return out, nil
}

// joinedMemberships calls add with each membership of the org's groups.
func joinedMemberships(c conn, org string, add func(gid, mid string)) error {
	rows, err := c.query(`SELECT `+joinSQL("group_id", "member_id")+` FROM group_members WHERE org_id = ?`, org)
	if err != nil {
		return err
	}
	return eachJoined(rows, 2, func(f []string) error {
		add(f[0], f[1])
		return nil
	})
}
