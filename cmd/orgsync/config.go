package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/notify"
	"github.com/orgsync/orgsync/reconciler"
	"github.com/orgsync/orgsync/sources/ldap"
	"github.com/orgsync/orgsync/sources/scim"
	"github.com/orgsync/orgsync/store"
)

// Config is the whole orgsync configuration. Each component owns its own
// block (store.Config, ldap.Config, …); this file only assembles them.
type Config struct {
	Database store.Config   `yaml:"database"`
	Server   ServerConfig   `yaml:"server"`
	Log      LogConfig      `yaml:"log"`
	Orgs     []OrgConfig    `yaml:"orgs"`
	Sources  []SourceConfig `yaml:"sources"`
	// Notifications are the webhooks told of blocked, failed and forced runs.
	Notifications []notify.Config `yaml:"notifications"`
}

// ServerConfig is the HTTP side of serve: SCIM, admin API, metrics.
type ServerConfig struct {
	Listen    string `yaml:"listen"`
	PublicURL string `yaml:"public_url"`
	// AdminToken guards /api/v1 (not SCIM, which takes per-org tokens).
	AdminToken     orgsync.Secret `yaml:"admin_token"`
	AdminTokenFile string         `yaml:"admin_token_file"`
	// TrustedProxies are the reverse proxies (addresses or CIDRs) whose
	// X-Forwarded-For names the client, for the failed-auth limit.
	TrustedProxies []string `yaml:"trusted_proxies"`
	TLSCertFile    string   `yaml:"tls_cert_file"`
	TLSKeyFile     string   `yaml:"tls_key_file"`
	// Timeouts and limits that keep slow or huge requests from tying the
	// server up.
	ReadHeaderTimeout orgsync.Duration `yaml:"read_header_timeout"`
	ReadTimeout       orgsync.Duration `yaml:"read_timeout"`
	WriteTimeout      orgsync.Duration `yaml:"write_timeout"`
	IdleTimeout       orgsync.Duration `yaml:"idle_timeout"`
	ShutdownTimeout   orgsync.Duration `yaml:"shutdown_timeout"`
	MaxBodyBytes      int64            `yaml:"max_body_bytes"`
	// MaxConnections bounds the connections held at once, and
	// MaxConnectionsPerClient those of one client address (IPv6: /64;
	// trusted_proxies are bound by the total only). Past them the oldest
	// idle connection is closed, or the new one when none is idle.
	MaxConnections          int `yaml:"max_connections"`
	MaxConnectionsPerClient int `yaml:"max_connections_per_client"`
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

// SourceConfig is one pull source; Type selects which block applies.
type SourceConfig struct {
	Name     string           `yaml:"name"`
	Org      string           `yaml:"org"`
	Type     string           `yaml:"type"`
	Schedule string           `yaml:"schedule"`
	Timeout  orgsync.Duration `yaml:"timeout"`
	// FullEvery is how often a source that can read incrementally is read
	// in full all the same (the safety net).
	FullEvery orgsync.Duration       `yaml:"full_every"`
	Guard     reconciler.GuardConfig `yaml:"guard"`
	LDAP      *ldap.Config           `yaml:"ldap,omitempty"`
	SCIM      *scim.Config           `yaml:"scim,omitempty"`
}

// Defaults.
const defaultOrg = "default"

// SetDefaults fills every unset value with the built-in default.
func (c *Config) SetDefaults() {
	c.Database.SetDefaults()
	s := &c.Server
	if s.Listen == "" {
		s.Listen = "127.0.0.1:8080"
	}
	if s.PublicURL == "" {
		scheme := "http"
		if s.TLSCertFile != "" {
			scheme = "https"
		}
		s.PublicURL = scheme + "://" + s.Listen
	}
	s.PublicURL = strings.TrimRight(s.PublicURL, "/")
	setDur := func(d *orgsync.Duration, v time.Duration) {
		if *d == 0 {
			*d = orgsync.Duration(v)
		}
	}
	setDur(&s.ReadHeaderTimeout, 10*time.Second)
	setDur(&s.ReadTimeout, 30*time.Second)
	setDur(&s.WriteTimeout, 60*time.Second)
	setDur(&s.IdleTimeout, 120*time.Second)
	setDur(&s.ShutdownTimeout, 20*time.Second)
	if s.MaxBodyBytes == 0 {
		s.MaxBodyBytes = 1 << 20
	}
	if s.MaxConnections == 0 {
		s.MaxConnections = 4096
	}
	if s.MaxConnectionsPerClient == 0 {
		s.MaxConnectionsPerClient = min(128, s.MaxConnections)
	}
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
		setDur(&o.PurgeAfter, 30*24*time.Hour)
	}
	for i := range c.Notifications {
		c.Notifications[i].SetDefaults()
	}
	for i := range c.Sources {
		src := &c.Sources[i]
		src.Guard.SetDefaults()
		setDur(&src.Timeout, 30*time.Minute)
		setDur(&src.FullEvery, reconciler.DefaultFullEvery)
		if src.LDAP != nil {
			src.LDAP.SetDefaults()
		}
		if src.SCIM != nil {
			src.SCIM.SetDefaults()
		}
	}
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// Validate lists every problem in the config.
func (c *Config) Validate() error {
	var errs []error
	add := func(prefix string, err error) {
		if err == nil {
			return
		}
		for _, e := range flatten(err) {
			errs = append(errs, fmt.Errorf("%s%s", prefix, e))
		}
	}
	add("", c.Database.Validate())
	add("", c.Server.validate())
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
	names := map[string]bool{}
	for i, s := range c.Sources {
		p := fmt.Sprintf("sources[%d]: ", i)
		if s.Name != "" {
			p = fmt.Sprintf("sources[%d] (%s): ", i, s.Name)
		}
		switch {
		case !idPattern.MatchString(s.Name):
			errs = append(errs, fmt.Errorf("%sname: %q must be lower-case letters, digits, '.', '_' or '-'", p, s.Name))
		case orgsync.ReservedOwner(s.Name):
			errs = append(errs, fmt.Errorf("%sname: %q is reserved (the SCIM receiver and the purge own it)", p, s.Name))
		case names[s.Name]:
			errs = append(errs, fmt.Errorf("%sname: %q is used twice", p, s.Name))
		}
		names[s.Name] = true
		if !orgs[s.Org] {
			errs = append(errs, fmt.Errorf("%sorg: %q is not one of the orgs", p, s.Org))
		}
		if s.Schedule != "" {
			add(p+"schedule: ", reconciler.ValidateSchedule(s.Schedule))
		}
		if s.Timeout <= 0 {
			errs = append(errs, fmt.Errorf("%stimeout: must be positive", p))
		}
		if s.FullEvery <= 0 {
			errs = append(errs, fmt.Errorf("%sfull_every: must be positive", p))
		}
		add(p, s.Guard.Validate())
		switch s.Type {
		case "ldap":
			if s.LDAP == nil {
				errs = append(errs, fmt.Errorf("%sldap: required for type ldap", p))
			} else {
				add(p, s.LDAP.Validate())
			}
			if s.SCIM != nil {
				errs = append(errs, fmt.Errorf("%sscim: only for type scim", p))
			}
		case "scim":
			if s.SCIM == nil {
				errs = append(errs, fmt.Errorf("%sscim: required for type scim", p))
			} else {
				add(p, s.SCIM.Validate())
			}
			if s.LDAP != nil {
				errs = append(errs, fmt.Errorf("%sldap: only for type ldap", p))
			}
		default:
			errs = append(errs, fmt.Errorf("%stype: %q is not ldap or scim", p, s.Type))
		}
	}
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
	jobs := 0
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

func (s *ServerConfig) validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(s.Listen); err != nil {
		errs = append(errs, fmt.Errorf("server.listen: %q is not host:port", s.Listen))
	}
	if u, err := url.Parse(s.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("server.public_url: %q is not an absolute http(s) URL", s.PublicURL))
	}
	tok, err := orgsync.ResolveSecret(s.AdminToken, s.AdminTokenFile)
	if err != nil {
		errs = append(errs, fmt.Errorf("server.admin_token: %v", err))
	} else if tok != "" && len(tok.Reveal()) < 16 {
		errs = append(errs, errors.New("server.admin_token: must be at least 16 characters"))
	}
	if _, err := parsePrefixes(s.TrustedProxies); err != nil {
		errs = append(errs, fmt.Errorf("server.trusted_proxies: %v", err))
	}
	if (s.TLSCertFile == "") != (s.TLSKeyFile == "") {
		errs = append(errs, errors.New("server.tls_cert_file and server.tls_key_file: set both or neither"))
	}
	for _, d := range []struct {
		name string
		v    orgsync.Duration
	}{{"read_header_timeout", s.ReadHeaderTimeout}, {"read_timeout", s.ReadTimeout}, {"write_timeout", s.WriteTimeout},
		{"idle_timeout", s.IdleTimeout}, {"shutdown_timeout", s.ShutdownTimeout}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("server.%s: must be positive", d.name))
		}
	}
	if s.MaxBodyBytes < 1024 {
		errs = append(errs, errors.New("server.max_body_bytes: must be at least 1024"))
	}
	if s.MaxConnections < 16 {
		errs = append(errs, errors.New("server.max_connections: must be at least 16"))
	}
	if s.MaxConnectionsPerClient < 1 || s.MaxConnectionsPerClient > s.MaxConnections {
		errs = append(errs, fmt.Errorf("server.max_connections_per_client: must be between 1 and server.max_connections (%d)", s.MaxConnections))
	}
	return errors.Join(errs...)
}

// flatten splits a joined error into its parts.
func flatten(err error) []error {
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
}

// LoadConfig reads path (the built-in defaults when path is "", or when it
// does not exist and was not named explicitly; see discoverConfig), expands ${VAR}, decodes strictly, fills
// defaults and validates. The error lists every problem found.
func LoadConfig(path string, explicit bool) (*Loaded, error) {
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
		if err := l.Validate(); err != nil {
			return nil, err
		}
		return l, nil
	default:
		return nil, fmt.Errorf("config: %w", err)
	}
	var decodeErr error
	if err := decodeConfig(data, &l.Config); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, err
		}
		// Unset variables, unknown keys, bad durations, mistyped values:
		// keep going, so that every problem of the file is listed at once.
		for _, e := range te.Errors {
			decodeErr = errors.Join(decodeErr, fmt.Errorf("config: %s", e))
		}
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o004 != 0 {
		for _, key := range inlineSecrets(data) {
			l.Warnings = append(l.Warnings, fmt.Sprintf("%s holds the secret %s inline and is readable by every user: use ${VAR} or %s_file, or chmod o-r", path, key, key))
		}
	}
	l.SetDefaults()
	if err := errors.Join(decodeErr, l.Validate()); err != nil {
		return nil, err
	}
	return l, nil
}

// envRef matches ${VAR}. Before parsing, each is replaced by a marker that
// is a plain YAML scalar anywhere (`${X}` is not, inside {flow, maps}),
// then markers are expanded in the parsed values.
var (
	envRef    = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	envMarker = regexp.MustCompile(`__orgsyncenv_([0-9a-f]+)__`)
)

func markEnv(data []byte) []byte {
	return envRef.ReplaceAllFunc(data, func(ref []byte) []byte {
		return []byte("__orgsyncenv_" + hex.EncodeToString(ref[2:len(ref)-1]) + "__")
	})
}

// decodeConfig expands ${VAR} in every scalar, checks keys and durations
// against the Config type and decodes. A *yaml.TypeError lists every
// problem found (unset variables, unknown keys, bad durations, mistyped
// values); the rest of the file is decoded all the same.
func decodeConfig(data []byte, into *Config) error {
	var root yaml.Node
	if err := yaml.Unmarshal(markEnv(data), &root); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var problems []string
	expandNode(&root, &problems)
	c := configCheck{problems: problems, seen: map[typedNode]bool{}}
	c.check(&root, reflect.TypeFor[Config](), "")
	problems = c.problems
	// Decoding the tree itself, not a re-encoding of it, keeps the file's
	// line numbers in the type errors.
	if err := root.Decode(into); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return fmt.Errorf("config: %w", err)
		}
		problems = append(problems, te.Errors...)
	}
	if len(problems) > 0 {
		return &yaml.TypeError{Errors: problems}
	}
	return nil
}

// expandNode replaces every ${VAR} marker with the variable's value. An
// unset variable is a problem and expands to nothing, so that the rest of
// the file is still checked.
func expandNode(n *yaml.Node, problems *[]string) {
	if n.Kind == yaml.ScalarNode && envMarker.MatchString(n.Value) {
		unset := false
		n.Value = envMarker.ReplaceAllStringFunc(n.Value, func(ref string) string {
			raw, _ := hex.DecodeString(envMarker.FindStringSubmatch(ref)[1])
			v, ok := os.LookupEnv(string(raw))
			if !ok {
				unset = true
				*problems = append(*problems, fmt.Sprintf("line %d: environment variable %s is not set", n.Line, raw))
			}
			return v
		})
		// Type the expanded value as if it had been written inline. A value
		// that was only unset variables reads as no value at all, so that the
		// defaults apply and the unset variable is its only problem.
		if n.Style == 0 || (unset && n.Value == "") {
			n.Tag, n.Style = "", 0
		}
	}
	for _, c := range n.Content {
		expandNode(c, problems)
	}
}

var durationType = reflect.TypeFor[orgsync.Duration]()

// configCheck is yaml.v3's strict mode done by hand, plus durations: it
// walks the YAML tree alongside the types it decodes into, and lists the
// keys that have no field and the duration values that do not parse. A bad
// duration (a TextUnmarshaler error) stops yaml.v3 on the spot, so each is
// reported here with its line and key, then cleared: the decoder sees it as
// unset and goes on.
type configCheck struct {
	problems []string
	// seen holds the nodes already checked as a type: an anchor used
	// twice is checked once, and one that merges into itself ends.
	seen map[typedNode]bool
}

type typedNode struct {
	n *yaml.Node
	t reflect.Type
}

func (c *configCheck) check(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if c.seen[typedNode{n, t}] {
		return
	}
	c.seen[typedNode{n, t}] = true
	switch {
	case n.Kind == yaml.DocumentNode:
		for _, d := range n.Content {
			c.check(d, t, path)
		}
	case t == durationType:
		if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
			return // not text: the decoder reports it
		}
		if _, err := orgsync.ParseDuration(n.Value); err != nil {
			c.problems = append(c.problems, fmt.Sprintf("line %d: %s: %v", n.Line, path, err))
			n.Value, n.Tag, n.Style = "", "!!null", 0
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.AliasNode {
				k = k.Alias
			}
			switch ft, ok := fieldType(t, k.Value); {
			case k.Kind != yaml.ScalarNode:
				// not a name: the decoder reports it
			case k.ShortTag() == "!!merge":
				merged := []*yaml.Node{v}
				if v.Kind == yaml.SequenceNode {
					merged = v.Content
				}
				for _, m := range merged {
					c.check(m, t, path)
				}
			case !ok:
				c.problems = append(c.problems, fmt.Sprintf("line %d: field %s not found in type %s", k.Line, k.Value, t))
			default:
				c.check(v, ft, joinKey(path, k.Value))
			}
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Map:
		for i := 1; i < len(n.Content); i += 2 {
			c.check(n.Content[i], t.Elem(), joinKey(path, n.Content[i-1].Value))
		}
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for i, e := range n.Content {
			c.check(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	}
}

// fieldType is the type of the field of struct t that key decodes into,
// named as yaml.v3 names it: the tag's name, else the lower-cased field
// name, looking into ",inline" structs.
func fieldType(t reflect.Type, key string) (reflect.Type, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case !f.IsExported() || name == "-":
		case opts == "inline" && f.Type.Kind() == reflect.Struct:
			if ft, ok := fieldType(f.Type, key); ok {
				return ft, true
			}
		case name == key || (name == "" && strings.ToLower(f.Name) == key):
			return f.Type, true
		}
	}
	return nil, false
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var secretKeys = map[string]bool{"admin_token": true, "bind_password": true, "token": true, "password": true}

// inlineSecrets lists the secret keys whose value is written in the file
// itself rather than referenced from the environment.
func inlineSecrets(data []byte) []string {
	var root yaml.Node
	if yaml.Unmarshal(markEnv(data), &root) != nil {
		return nil
	}
	var out []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if secretKeys[k.Value] && v.Kind == yaml.ScalarNode && v.Value != "" && !envMarker.MatchString(v.Value) {
					out = append(out, k.Value)
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&root)
	return out
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
		out = append(out, orgsync.Org{ID: o.ID, Name: o.Name, DefaultRole: o.DefaultRole, PurgeAfter: o.PurgeAfter.D()})
	}
	return out
}
