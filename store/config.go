package store

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/orgsync/orgsync"
)

// Drivers.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Config selects and tunes the database. It is the `database:` block of the
// orgsync config.
type Config struct {
	// Driver is sqlite (default) or postgres.
	Driver string `yaml:"driver"`
	// DSN is a file path for sqlite, a postgres:// URL or key=value string
	// for postgres. A password inside it is redacted when printed; prefer
	// password or password_file.
	DSN     string `yaml:"dsn"`
	DSNFile string `yaml:"dsn_file"`
	// Password is merged into a postgres DSN that has none.
	Password     orgsync.Secret `yaml:"password"`
	PasswordFile string         `yaml:"password_file"`
	// MaxOpenConns caps the pool (postgres); sqlite uses its own settings.
	MaxOpenConns int `yaml:"max_open_conns"`
	// BusyTimeout is how long a write waits for SQLite's write lock held
	// by another writer (a CLI reconcile, another request) before failing
	// as temporarily unavailable (SCIM: 503 with Retry-After). Default
	// DefaultBusyTimeout.
	BusyTimeout orgsync.Duration `yaml:"busy_timeout"`
	// Retention is how long recorded runs and change events are kept.
	Retention Retention `yaml:"retention"`
}

// Retention bounds the history the store keeps: runs and events older than
// these are pruned (serve does it daily). Zero takes the default
// (DefaultRetention); a negative value keeps them forever.
type Retention struct {
	Runs   orgsync.Duration `yaml:"runs"`
	Events orgsync.Duration `yaml:"events"`
}

// DefaultRetention is how long runs and events are kept by default.
const DefaultRetention = 90 * 24 * time.Hour

func (c *Config) busyTimeout() time.Duration {
	if c.BusyTimeout <= 0 {
		return DefaultBusyTimeout
	}
	return c.BusyTimeout.TimeDuration()
}

// SetDefaults fills the embedded SQLite default.
func (c *Config) SetDefaults() {
	if c.Driver == "" {
		c.Driver = DriverSQLite
	}
	if c.DSN == "" && c.DSNFile == "" && c.Driver == DriverSQLite {
		c.DSN = "orgsync.db"
	}
	if c.MaxOpenConns == 0 {
		c.MaxOpenConns = 10
	}
	if c.BusyTimeout == 0 {
		c.BusyTimeout = orgsync.Duration(DefaultBusyTimeout)
	}
	if c.Retention.Runs == 0 {
		c.Retention.Runs = orgsync.Duration(DefaultRetention)
	}
	if c.Retention.Events == 0 {
		c.Retention.Events = orgsync.Duration(DefaultRetention)
	}
}

// Validate lists every problem with the config.
func (c *Config) Validate() error {
	var errs []error
	switch c.Driver {
	case DriverSQLite, DriverPostgres:
	default:
		errs = append(errs, fmt.Errorf("database.driver: %q is not sqlite or postgres", c.Driver))
	}
	if c.DSN == "" && c.DSNFile == "" {
		errs = append(errs, errors.New("database.dsn: required"))
	}
	if c.DSN != "" && c.DSNFile != "" {
		errs = append(errs, errors.New("database.dsn and database.dsn_file: set only one"))
	}
	if c.DSNFile != "" {
		if _, err := os.Stat(c.DSNFile); err != nil {
			errs = append(errs, fmt.Errorf("database.dsn_file: %v", err))
		}
	}
	if _, err := orgsync.ResolveSecret(c.Password, c.PasswordFile); err != nil {
		errs = append(errs, fmt.Errorf("database.password: %v", err))
	}
	if c.Driver == DriverSQLite && c.Password != "" {
		errs = append(errs, errors.New("database.password: sqlite takes no password"))
	}
	if c.MaxOpenConns < 1 {
		errs = append(errs, errors.New("database.max_open_conns: must be at least 1"))
	}
	if c.BusyTimeout < 0 || c.BusyTimeout.TimeDuration() > 10*time.Minute {
		errs = append(errs, errors.New("database.busy_timeout: must be between 0 (the default, 15s) and 10m"))
	}
	for key, d := range map[string]orgsync.Duration{"runs": c.Retention.Runs, "events": c.Retention.Events} {
		if d > 0 && d.TimeDuration() < time.Hour {
			errs = append(errs, fmt.Errorf("database.retention.%s: %s is under an hour (negative: keep forever)", key, d.TimeDuration()))
		}
	}
	return errors.Join(errs...)
}

// dsn returns the DSN to open, with secrets resolved.
func (c *Config) dsn() (string, error) {
	dsn := c.DSN
	if c.DSNFile != "" {
		b, err := os.ReadFile(c.DSNFile)
		if err != nil {
			return "", fmt.Errorf("database.dsn_file: %w", err)
		}
		dsn = strings.TrimSpace(string(b))
	}
	pw, err := orgsync.ResolveSecret(c.Password, c.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("database.password: %w", err)
	}
	if pw == "" || c.Driver != DriverPostgres {
		return dsn, nil
	}
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		name := ""
		if u.User != nil {
			name = u.User.Username()
		}
		u.User = url.UserPassword(name, pw.Reveal())
		return u.String(), nil
	}
	return dsn + " password='" + strings.ReplaceAll(pw.Reveal(), "'", `\'`) + "'", nil
}

// Redacted returns a copy safe to print: passwords inside the DSN hidden.
func (c Config) Redacted() Config {
	c.DSN = RedactDSN(c.DSN)
	return c
}

// RedactDSN hides the passwords of a postgres URL (user info, and
// password or sslpassword query parameters) or key=value DSN (password=x,
// password = x, password='x y', with \' escapes). A DSN it cannot read is
// shown only up to its first "password".
func RedactDSN(dsn string) string {
	lower := strings.ToLower(dsn)
	if strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://") {
		return redactURL(dsn)
	}
	out, ok := redactKeyValues(dsn)
	if !ok {
		return cutAtPassword(dsn)
	}
	return out
}

func isPasswordKey(k string) bool {
	k = strings.ToLower(k)
	return k == "password" || k == "sslpassword"
}

func redactURL(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		// Unparsable (e.g. a bad escape in the password): show the scheme
		// and what follows the user info, nothing of the user info.
		scheme, rest, _ := strings.Cut(dsn, "://")
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			rest = rest[at+1:]
		}
		return cutAtPassword(scheme + "://" + orgsync.Redacted + "@" + rest)
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return cutAtPassword(u.String())
		}
		for k := range q {
			if isPasswordKey(k) {
				q[k] = []string{"xxxxx"}
			}
		}
		u.RawQuery = q.Encode()
	}
	return strings.ReplaceAll(u.String(), "xxxxx", orgsync.Redacted)
}

// redactKeyValues rewrites a libpq key=value DSN with password values
// replaced; ok is false when dsn is not one.
func redactKeyValues(dsn string) (string, bool) {
	var b strings.Builder
	i, n := 0, len(dsn)
	space := func() {
		for i < n && (dsn[i] == ' ' || dsn[i] == '\t' || dsn[i] == '\n' || dsn[i] == '\r') {
			i++
		}
	}
	for {
		space()
		if i >= n {
			return strings.TrimSuffix(b.String(), " "), true
		}
		ks := i
		for i < n && dsn[i] != '=' && dsn[i] != ' ' && dsn[i] != '\t' {
			i++
		}
		key := dsn[ks:i]
		space()
		if key == "" || i >= n || dsn[i] != '=' {
			return "", false
		}
		i++ // '='
		space()
		vs := i
		if i < n && dsn[i] == '\'' {
			i++
			for i < n && dsn[i] != '\'' {
				if dsn[i] == '\\' {
					i++
				}
				i++
			}
			if i >= n {
				return "", false // unterminated quote
			}
			i++
		} else {
			for i < n && dsn[i] != ' ' && dsn[i] != '\t' && dsn[i] != '\n' && dsn[i] != '\r' {
				if dsn[i] == '\\' {
					i++
				}
				i++
			}
			i = min(i, n)
		}
		val := dsn[vs:i]
		if isPasswordKey(key) {
			val = orgsync.Redacted
		}
		b.WriteString(key + "=" + val + " ")
	}
}

// cutAtPassword keeps dsn up to its first "password" (any case).
func cutAtPassword(dsn string) string {
	if i := strings.Index(strings.ToLower(dsn), "password"); i >= 0 {
		return dsn[:i] + "password=" + orgsync.Redacted + " (rest hidden: unreadable DSN)"
	}
	return dsn
}

// sqlitePath is the file behind a sqlite DSN, "" for memory databases.
func sqlitePath(dsn string) string {
	p := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if p == "" || p == ":memory:" || strings.Contains(dsn, "mode=memory") {
		return ""
	}
	return filepath.Clean(p)
}

// SQLiteFile is the database file the config names: "" for PostgreSQL and
// for in-memory SQLite.
func (c Config) SQLiteFile() string {
	if c.Driver != DriverSQLite {
		return ""
	}
	return sqlitePath(c.DSN)
}
