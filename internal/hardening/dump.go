package hardening

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Dump is every row of every table of a database, each table's rows
// rendered and sorted, so that two dumps are equal exactly when the data
// is.
type Dump struct {
	Tables map[string][]string
}

// Rows is the number of rows dumped.
func (d Dump) Rows() int {
	n := 0
	for _, rows := range d.Tables {
		n += len(rows)
	}
	return n
}

// Hash is the SHA-256 of the whole dump.
func (d Dump) Hash() string {
	h := sha256.New()
	for _, t := range sortedKeys(d.Tables) {
		fmt.Fprintf(h, "table %s\n", t)
		for _, r := range d.Tables[t] {
			fmt.Fprintf(h, "%s\n", r)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Diff describes the first differences between two dumps ("" if none).
func (d Dump) Diff(other Dump) string {
	var out []string
	for _, t := range sortedKeys(union(d.Tables, other.Tables)) {
		a, b := set(d.Tables[t]), set(other.Tables[t])
		for r := range a {
			if !b[r] {
				out = append(out, fmt.Sprintf("%s: - %s", t, r))
			}
		}
		for r := range b {
			if !a[r] {
				out = append(out, fmt.Sprintf("%s: + %s", t, r))
			}
		}
	}
	sort.Strings(out)
	if len(out) > 20 {
		out = append(out[:20], fmt.Sprintf("… %d more", len(out)-20))
	}
	return strings.Join(out, "\n")
}

// DumpDB reads every table of db (SQLite when postgres is false, else the
// public schema of PostgreSQL). Columns named in ignore ("table.column")
// are left out: e.g. scim_tokens.last_used_at, which every authenticated
// request may touch.
func DumpDB(ctx context.Context, db *sql.DB, postgres bool, ignore ...string) (Dump, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`
	}
	names, err := strings1(ctx, db, q)
	if err != nil {
		return Dump{}, fmt.Errorf("hardening: list tables: %w", err)
	}
	skip := map[string]bool{}
	for _, c := range ignore {
		skip[c] = true
	}
	d := Dump{Tables: map[string][]string{}}
	for _, t := range names {
		rows, err := db.QueryContext(ctx, `SELECT * FROM "`+strings.ReplaceAll(t, `"`, `""`)+`"`)
		if err != nil {
			return Dump{}, fmt.Errorf("hardening: dump %s: %w", t, err)
		}
		cols, _ := rows.Columns()
		lines := []string{}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return Dump{}, fmt.Errorf("hardening: dump %s: %w", t, err)
			}
			var b strings.Builder
			for i, c := range cols {
				if skip[t+"."+c] {
					continue
				}
				fmt.Fprintf(&b, "%s=%s;", c, render(vals[i]))
			}
			lines = append(lines, b.String())
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return Dump{}, fmt.Errorf("hardening: dump %s: %w", t, err)
		}
		sort.Strings(lines)
		d.Tables[t] = lines
	}
	return d, nil
}

func render(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return fmt.Sprintf("%q", x)
	case string:
		return fmt.Sprintf("%q", x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	default:
		return fmt.Sprint(x)
	}
}

func strings1(ctx context.Context, db *sql.DB, q string) ([]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func sortedKeys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func union(a, b map[string][]string) map[string][]string {
	out := map[string][]string{}
	for k := range a {
		out[k] = nil
	}
	for k := range b {
		out[k] = nil
	}
	return out
}

func set(rows []string) map[string]bool {
	out := make(map[string]bool, len(rows))
	for _, r := range rows {
		out[r] = true
	}
	return out
}
