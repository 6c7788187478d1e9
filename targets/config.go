package targets

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
	"github.com/orgsync/orgsync/targets/kmsadmin"
	"github.com/orgsync/orgsync/targets/scim"
)

// Target types.
const (
	TypeKMS  = scim.DialectKMS
	TypeSCIM = scim.DialectSCIM
)

// Config is one `targets:` entry.
type Config struct {
	Name      string                 `yaml:"name"`
	Org       string                 `yaml:"org"`
	Type      string                 `yaml:"type"`
	URL       string                 `yaml:"url"`
	Token     orgsync.Secret         `yaml:"token"`
	TokenFile string                 `yaml:"token_file"`
	Schedule  string                 `yaml:"schedule"`
	Timeout   orgsync.Duration       `yaml:"timeout"`
	Guard     reconciler.GuardConfig `yaml:"guard"`
	// RateLimit bounds the requests per second sent to the target (0:
	// unlimited); Concurrency the writes in flight at once.
	RateLimit   float64 `yaml:"rate_limit"`
	Concurrency int     `yaml:"concurrency"`
	PageSize    int     `yaml:"page_size"`
	// AllowPurge lets a member purged from orgsync be deleted from the
	// target; without it, it stays suspended there.
	AllowPurge bool `yaml:"allow_purge"`
	// SkipGroups pushes users only: for a KMS whose plan or build has no
	// groups (its SCIM Groups then refuse every call).
	SkipGroups bool `yaml:"skip_groups"`
	// TLS verifies the server of URL.
	TLS         TLSConfig    `yaml:"tls"`
	SetupStatus *SetupConfig `yaml:"setup_status,omitempty"`
}

// SetupConfig is where a target reads who finished account setup.
type SetupConfig struct {
	Type             string         `yaml:"type"`
	URL              string         `yaml:"url"`
	ClientID         string         `yaml:"client_id"`
	ClientSecret     orgsync.Secret `yaml:"client_secret"`
	ClientSecretFile string         `yaml:"client_secret_file"`
	// Schedule is the read-back's own, shorter schedule (each target run
	// reads it too); "" only with the runs.
	Schedule string `yaml:"schedule"`
	// TLS verifies the server of URL; unset, the target's tls applies.
	TLS *TLSConfig `yaml:"tls,omitempty"`
}

// SetDefaults fills unset values.
func (c *Config) SetDefaults() {
	c.Guard.SetDefaults()
	if c.Timeout == 0 {
		c.Timeout = orgsync.Duration(30 * time.Minute)
	}
	if c.Concurrency == 0 {
		c.Concurrency = 8
	}
	if c.PageSize == 0 {
		c.PageSize = 100
	}
	if c.SetupStatus != nil && c.SetupStatus.Type == "" {
		c.SetupStatus.Type = "kms-admin"
	}
	if c.SetupStatus != nil && c.SetupStatus.URL == "" {
		c.SetupStatus.URL = c.URL
	}
	if c.SetupStatus != nil && c.SetupStatus.TLS == nil {
		tc := c.TLS
		c.SetupStatus.TLS = &tc
	}
}

// Validate lists every problem; the type, names and orgs are checked by
// the caller (it knows the registered types and the other entries). Secrets are not read: see Secrets.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !httpURL(c.URL) {
		bad("url: %q is not an absolute http(s) URL", c.URL)
	}
	// Whether a token is there at all is the business of Secrets: its
	// ${VAR} may be unset where a command runs that does not need it.
	if c.Token != "" && c.TokenFile != "" {
		bad("token: set either token or token_file, not both")
	}
	if c.Schedule != "" {
		if err := reconciler.ValidateSchedule(c.Schedule); err != nil {
			bad("schedule: %v", err)
		}
	}
	if c.Timeout <= 0 {
		bad("timeout: must be positive")
	}
	if c.RateLimit < 0 {
		bad("rate_limit: must not be negative")
	}
	if c.Concurrency < 1 || c.Concurrency > 64 {
		bad("concurrency: %d is not between 1 and 64", c.Concurrency)
	}
	if c.PageSize < 1 || c.PageSize > 1000 {
		bad("page_size: %d is not between 1 and 1000", c.PageSize)
	}
	if err := c.Guard.Validate(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.TLS.validate("tls")...)
	if s := c.SetupStatus; s != nil {
		if s.Type != "kms-admin" {
			bad("setup_status.type: %q is not kms-admin", s.Type)
		}
		if !httpURL(s.URL) {
			bad("setup_status.url: %q is not an absolute http(s) URL", s.URL)
		}
		if s.ClientID == "" {
			bad("setup_status.client_id: required")
		}
		if s.ClientSecret != "" && s.ClientSecretFile != "" {
			bad("setup_status.client_secret: set either client_secret or client_secret_file, not both")
		}
		if s.Schedule != "" {
			if err := reconciler.ValidateSchedule(s.Schedule); err != nil {
				bad("setup_status.schedule: %v", err)
			}
		}
		if s.TLS != nil && *s.TLS != c.TLS {
			errs = append(errs, s.TLS.validate("setup_status.tls")...)
		}
	}
	return errors.Join(errs...)
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Secrets reads the token and the client secret (from their files when
// set) and checks that neither is empty.
func (c *Config) Secrets() (token, clientSecret orgsync.Secret, err error) {
	var errs []error
	token, err = orgsync.ResolveSecret(c.Token, c.TokenFile)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("token: %w", err))
	case token == "" && c.TokenFile == "":
		errs = append(errs, fmt.Errorf("token: required (or token_file): %w", orgsync.ErrInvalid))
	case token == "":
		errs = append(errs, fmt.Errorf("token_file: file is empty: %w", orgsync.ErrInvalid))
	}
	if s := c.SetupStatus; s != nil {
		clientSecret, err = orgsync.ResolveSecret(s.ClientSecret, s.ClientSecretFile)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("setup_status.client_secret: %w", err))
		case clientSecret == "" && s.ClientSecretFile == "":
			errs = append(errs, fmt.Errorf("setup_status.client_secret: required (or client_secret_file): %w", orgsync.ErrInvalid))
		case clientSecret == "":
			errs = append(errs, fmt.Errorf("setup_status.client_secret_file: file is empty: %w", orgsync.ErrInvalid))
		}
	}
	return token, clientSecret, errors.Join(errs...)
}

// Open builds the target of a validated config on st, reading its secrets.
func (c *Config) Open(st Store, log zerolog.Logger) (*Target, error) {
	tok, sec, err := c.Secrets()
	if err != nil {
		return nil, err
	}
	hc, err := c.TLS.httpClient("tls")
	if err != nil {
		return nil, err
	}
	log = log.With().Str("target", c.Name).Logger()
	t := &Target{
		Name: c.Name, Org: c.Org, Type: c.Type, Store: st, Guard: c.Guard, AllowPurge: c.AllowPurge, SkipGroups: c.SkipGroups,
		Concurrency: c.Concurrency, Timeout: c.Timeout.TimeDuration(), Schedule: c.Schedule,
		Client: scim.New(scim.Options{BaseURL: c.URL, Token: tok, Dialect: c.Type, PageSize: c.PageSize, RateLimit: c.RateLimit, HTTP: hc}),
		Log:    log,
	}
	if c.TLS.InsecureSkipVerify {
		t.Insecure = append(t.Insecure, "tls.insecure_skip_verify")
	}
	if s := c.SetupStatus; s != nil {
		st := c.TLS
		if s.TLS != nil {
			st = *s.TLS
		}
		shc, err := st.httpClient("setup_status.tls")
		if err != nil {
			return nil, err
		}
		t.Setup = &kmsadmin.Client{URL: s.URL, ClientID: s.ClientID, ClientSecret: sec, HTTP: shc}
		t.SetupSchedule = s.Schedule
		if st.InsecureSkipVerify {
			t.Insecure = append(t.Insecure, "setup_status.tls.insecure_skip_verify")
		}
	}
	for _, k := range t.Insecure {
		log.Warn().Str("setting", k).Msg(k + " is set: the target's TLS certificate is not verified, so anyone on the path can read its token and answer in its place")
	}
	return t, nil
}
