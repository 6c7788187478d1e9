package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/yamlconf"
	"github.com/orgsync/orgsync/notify"
	"github.com/orgsync/orgsync/store"
	"github.com/orgsync/orgsync/targets"
)

// Config is the whole orgsync configuration. Each component owns its own
// block (store.Config, ldap.Config, …), which defaults and validates
// itself; this file only assembles them. Decoding is internal/yamlconf's,
// the source types are sourceTypes', and secrets are read by the commands
// that use them (secrets.go).
type Config struct {
	Database store.Config   `yaml:"database"`
	Server   ServerConfig   `yaml:"server"`
	Log      LogConfig      `yaml:"log"`
	Orgs     []OrgConfig    `yaml:"orgs"`
	Sources  []SourceConfig `yaml:"sources"`
	// Targets are the downstream systems (KMS orgs) kept converged with
	// the store; see targets.go.
	Targets []targets.Config `yaml:"targets"`
	// Notifications are the webhooks told of blocked, failed and forced runs.
	Notifications []notify.Config `yaml:"notifications"`
}

// LogConfig sets up zerolog.
type LogConfig struct {
	Level string `yaml:"level"`
	// Format is console, json, or auto (console on a terminal, else json).
	Format string `yaml:"format"`
}

// OrgConfig is one organisation.
type OrgConfig struct {
	ID          string           `yaml:"id"`
	Name        string           `yaml:"name"`
	DefaultRole string           `yaml:"default_role"`
	PurgeAfter  orgsync.Duration `yaml:"purge_after"`
	// PurgeLimit caps how many members one purge may remove without
	// --force (0: reconciler.DefaultPurgeLimit; negative: no limit).
	PurgeLimit int `yaml:"purge_limit"`
}

// Defaults.
const (
	defaultOrg        = "default"
	defaultPurgeAfter = 30 * 24 * time.Hour
)

// SetDefaults fills every unset value with the built-in default.
func (c *Config) SetDefaults() {
	c.Database.SetDefaults()
	c.Server.setDefaults()
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "auto"
	}
	if len(c.Orgs) == 0 {
		c.Orgs = []OrgConfig{{ID: defaultOrg}}
	}
	for i := range c.Orgs {
		o := &c.Orgs[i]
		if o.Name == "" {
			o.Name = o.ID
		}
		if o.DefaultRole == "" {
			o.DefaultRole = orgsync.RoleMember
		}
		setDuration(&o.PurgeAfter, defaultPurgeAfter)
	}
	for i := range c.Notifications {
		c.Notifications[i].SetDefaults()
	}
	c.setTargetDefaults()
	for i := range c.Sources {
		c.Sources[i].setDefaults()
	}
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// Validate lists every problem in the config. Secrets are not read: see
// checkSecrets.
func (c *Config) Validate() error {
	var errs []error
	errs = append(errs, flatten(c.Database.Validate())...)
	errs = append(errs, flatten(c.Server.validate())...)
	switch c.Log.Level {
	case "trace", "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level: %q is not trace, debug, info, warn or error", c.Log.Level))
	}
	switch c.Log.Format {
	case "auto", "console", "json":
	default:
		errs = append(errs, fmt.Errorf("log.format: %q is not auto, console or json", c.Log.Format))
	}
	orgs := map[string]bool{}
	for i, o := range c.Orgs {
		p := fmt.Sprintf("orgs[%d]: ", i)
		switch {
		case !idPattern.MatchString(o.ID):
			errs = append(errs, fmt.Errorf("%sid: %q must be lower-case letters, digits, '.', '_' or '-'", p, o.ID))
		case orgs[o.ID]:
			errs = append(errs, fmt.Errorf("%sid: %q is listed twice", p, o.ID))
		}
		orgs[o.ID] = true
		if o.PurgeAfter < 0 {
			errs = append(errs, fmt.Errorf("%spurge_after: must not be negative", p))
		}
	}
	errs = append(errs, validateNotifications(c.Notifications, orgs)...)
	errs = append(errs, validateSources(c.Sources, orgs)...)
	errs = append(errs, c.validateTargets(orgs)...)
	if err := c.checkPool(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// checkPool makes sure scheduled jobs cannot starve the PostgreSQL pool: a
// running job holds a connection for its replica lock the whole run and
// needs one more at a time for its work, and the SCIM and admin APIs need
// one of their own. With fewer, jobs firing together could each hold a
// lock connection and wait for a free one until their timeout.
func (c *Config) checkPool() error {
	if c.Database.Driver != store.DriverPostgres {
		return nil
	}
	jobs := c.scheduledTargetJobs()
	for _, s := range c.Sources {
		if s.Schedule != "" {
			jobs++
		}
	}
	for _, o := range c.Orgs {
		if o.PurgeAfter > 0 {
			jobs++ // the org's scheduled purge
		}
	}
	if need := jobs + 2; jobs > 0 && c.Database.MaxOpenConns < need {
		return fmt.Errorf("database.max_open_conns: %d is too few for %d scheduled jobs (sources and purges): each running job holds a connection for its replica lock and needs another for its work, and the SCIM and admin APIs need one; set at least %d",
			c.Database.MaxOpenConns, jobs, need)
	}
	return nil
}

// flatten splits a joined error into its parts.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// Loaded is a config with where it came from and what to warn about.
type Loaded struct {
	Config
	Path     string // "" for built-in defaults
	Warnings []string
	// unset are the secrets whose ${VAR} is not set: an error only for
	// the commands that use them (see requireSecrets).
	unset []yamlconf.Unset
}

// LoadConfig loads the config at path as serve and `config validate` do:
// every secret is read and checked too (see loadConfig).
func LoadConfig(path string, explicit bool) (*Loaded, error) {
	return loadConfig(path, explicit, true)
}

// loadConfig reads path (the built-in defaults when path is "", or when it
// does not exist and was not named explicitly; see discoverConfig), decodes
// it strictly with ${VAR} expanded (internal/yamlconf), fills defaults and
// validates. With allSecrets every secret is read and checked as well;
// else each command reads those it uses. The error lists every problem.
func loadConfig(path string, explicit, allSecrets bool) (*Loaded, error) {
	l := &Loaded{}
	var data []byte
	err := fs.ErrNotExist
	if path != "" {
		data, err = os.ReadFile(path)
	}
	switch {
	case err == nil:
		l.Path = path
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		l.SetDefaults()
		if l.Server.AdminToken == "" {
			// The built-in defaults take the admin token from where a
			// config file would name it.
			l.Server.AdminToken = orgsync.Secret(os.Getenv("ORGSYNC_ADMIN_TOKEN"))
		}
		if err := l.check(nil, allSecrets); err != nil {
			return nil, err
		}
		return l, nil
	default:
		return nil, fmt.Errorf("config: %w", err)
	}
	res, err := yamlconf.Decode(data, &l.Config)
	var decodeErrs []error
	if err != nil {
		var ye *yamlconf.Error
		if !errors.As(err, &ye) {
			return nil, fmt.Errorf("config: %w", err)
		}
		// Keep going, so that every problem of the file is listed at once.
		for _, p := range ye.Problems {
			decodeErrs = append(decodeErrs, fmt.Errorf("config: %s", p))
		}
	}
	l.unset = res.Unset
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o004 != 0 {
		for _, s := range res.Inline {
			l.Warnings = append(l.Warnings, fmt.Sprintf("%s holds the secret %s inline (%s, line %d) and is readable by every user: use ${VAR} or %s_file, or chmod o-r",
				path, s.Key, s.Path, s.Line, s.Key))
		}
	}
	l.SetDefaults()
	if err := l.check(decodeErrs, allSecrets); err != nil {
		return nil, err
	}
	return l, nil
}

// check joins the decoding problems, the validation's and, with
// allSecrets, the secrets'.
func (l *Loaded) check(decodeErrs []error, allSecrets bool) error {
	errs := append(decodeErrs, flatten(l.Validate())...)
	if allSecrets {
		errs = append(errs, flatten(l.checkSecrets())...)
	}
	return errors.Join(errs...)
}

// Redacted renders the config as YAML with every secret hidden.
func (c *Config) Redacted() ([]byte, error) {
	cp := *c
	cp.Database = c.Database.Redacted()
	return yaml.Marshal(&cp)
}

// Org returns the org with id.
func (c *Config) Org(id string) (OrgConfig, bool) {
	for _, o := range c.Orgs {
		if o.ID == id {
			return o, true
		}
	}
	return OrgConfig{}, false
}

func (c *Config) domainOrgs() []orgsync.Org {
	out := make([]orgsync.Org, 0, len(c.Orgs))
	for _, o := range c.Orgs {
		out = append(out, orgsync.Org{ID: o.ID, Name: o.Name, DefaultRole: o.DefaultRole, PurgeAfter: o.PurgeAfter.TimeDuration()})
	}
	return out
}
