package scim

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/tlsconf"
)

// Defaults.
const (
	DefaultPageSize   = 100
	DefaultTimeout    = 30 * time.Second
	DefaultMaxRetries = 5
	maxPageSize       = 10000
	maxMaxRetries     = 20

	// DefaultMaxEntries and DefaultMaxResponseBytes are the defaults of
	// scim.max_entries and scim.max_response_bytes.
	DefaultMaxEntries       = 1_000_000
	DefaultMaxResponseBytes = DefaultMaxBody
	maxMaxEntries           = 100_000_000
	minMaxResponseBytes     = 4 << 10
	maxMaxResponseBytes     = 1 << 30
)

// Config is the `scim:` block of a source of type scim.
type Config struct {
	// BaseURL is the SCIM base, the parent of /Users and /Groups.
	BaseURL   string         `yaml:"base_url"`
	Token     orgsync.Secret `yaml:"token"`
	TokenFile string         `yaml:"token_file"`
	PageSize  int            `yaml:"page_size"`
	// GroupPageSize is the page size for /Groups, whose resources carry
	// every member and can be far larger than users; default page_size.
	GroupPageSize int `yaml:"group_page_size"`
	// Timeout bounds each HTTP request (one attempt), body included.
	Timeout orgsync.Duration `yaml:"timeout"`
	// MaxRetries is how many times a failed request is retried; nil means
	// DefaultMaxRetries, 0 means never.
	MaxRetries         *int   `yaml:"max_retries"`
	CAFile             string `yaml:"ca_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`

	// UserFilter and GroupFilter are SCIM filters sent with the list
	// requests, e.g. `active eq true`.
	UserFilter  string `yaml:"user_filter"`
	GroupFilter string `yaml:"group_filter"`
	// SkipGroups reads users only, for providers that serve no /Groups.
	SkipGroups bool `yaml:"skip_groups"`

	// MaxEntries bounds the resources of one list (users or groups), and
	// MaxResponseBytes the body of one response (a page). Past either the
	// read fails naming the setting, never keeping what came so far: they
	// bound the memory a huge or hostile server can take. Defaults
	// 1,000,000 and 64 MiB.
	MaxEntries       int   `yaml:"max_entries"`
	MaxResponseBytes int64 `yaml:"max_response_bytes"`

	// Attribute mapping: SCIM attribute paths (`userName`, `name.givenName`,
	// `emails`, `urn:…:enterprise:2.0:User:employeeNumber`). For a
	// multi-valued attribute the primary (or first) value is used.
	IDAttribute          string `yaml:"id_attribute"`
	UserNameAttribute    string `yaml:"user_name_attribute"`
	EmailAttribute       string `yaml:"email_attribute"`
	GivenNameAttribute   string `yaml:"given_name_attribute"`
	FamilyNameAttribute  string `yaml:"family_name_attribute"`
	DisplayNameAttribute string `yaml:"display_name_attribute"`

	// RoleMap gives a role to the members of groups, by group displayName
	// (case-insensitive): {"KMS Admins": admin}.
	RoleMap map[string]string `yaml:"role_map"`
}

// SetDefaults fills the empty fields.
func (c *Config) SetDefaults() {
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.GroupPageSize == 0 {
		c.GroupPageSize = c.PageSize
	}
	if c.Timeout == 0 {
		c.Timeout = orgsync.Duration(DefaultTimeout)
	}
	if c.MaxRetries == nil {
		n := DefaultMaxRetries
		c.MaxRetries = &n
	}
	if c.MaxEntries == 0 {
		c.MaxEntries = DefaultMaxEntries
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&c.IDAttribute, "id")
	def(&c.UserNameAttribute, "userName")
	def(&c.EmailAttribute, "emails")
	def(&c.GivenNameAttribute, "name.givenName")
	def(&c.FamilyNameAttribute, "name.familyName")
	def(&c.DisplayNameAttribute, "displayName")
}

// Validate returns every problem of the (defaulted) config, each naming its
// key relative to the source. The token is not read: Open does, and checks
// it.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("scim.%s: %s: %w", key, fmt.Sprintf(format, args...), orgsync.ErrInvalid))
	}

	if c.BaseURL == "" {
		bad("base_url", "required")
	} else if u, err := url.Parse(c.BaseURL); err != nil || !u.IsAbs() || u.Host == "" ||
		(u.Scheme != "http" && u.Scheme != "https") {
		bad("base_url", "must be an absolute http(s) URL")
	} else {
		if u.User != nil {
			bad("base_url", "must not carry credentials; use token or token_file")
		}
		if u.RawQuery != "" || u.Fragment != "" {
			bad("base_url", "must not have a query or fragment")
		}
	}

	switch {
	case c.Token != "" && c.TokenFile != "":
		bad("token", "set either token or token_file, not both")
	case !headerSafe(c.Token.Reveal()):
		bad("token", "has spaces or control characters (a stray newline?)")
	}

	if c.PageSize < 1 || c.PageSize > maxPageSize {
		bad("page_size", "must be between 1 and %d", maxPageSize)
	}
	if c.GroupPageSize != c.PageSize && (c.GroupPageSize < 0 || c.GroupPageSize > maxPageSize) {
		bad("group_page_size", "must be between 1 and %d", maxPageSize)
	}
	if c.Timeout < 0 {
		bad("timeout", "must be positive")
	}
	if c.MaxRetries != nil && (*c.MaxRetries < 0 || *c.MaxRetries > maxMaxRetries) {
		bad("max_retries", "must be between 0 and %d", maxMaxRetries)
	}
	// 0 is "not set" (the default applies after SetDefaults).
	if c.MaxEntries < 0 || c.MaxEntries > maxMaxEntries {
		bad("max_entries", "must be between 1 and %d, got %d", maxMaxEntries, c.MaxEntries)
	}
	if c.MaxResponseBytes != 0 && (c.MaxResponseBytes < minMaxResponseBytes || c.MaxResponseBytes > maxMaxResponseBytes) {
		bad("max_response_bytes", "must be between %d (4 KiB) and %d (1 GiB), got %d", minMaxResponseBytes, maxMaxResponseBytes, c.MaxResponseBytes)
	}
	if c.CAFile != "" {
		if _, err := tlsconf.CertPool(c.CAFile); err != nil {
			bad("ca_file", "%v", err)
		}
	}

	for _, f := range []struct{ key, filter string }{
		{"user_filter", c.UserFilter}, {"group_filter", c.GroupFilter},
	} {
		if f.filter == "" {
			continue
		}
		if _, err := filter.ParseFilter([]byte(f.filter)); err != nil {
			bad(f.key, "invalid SCIM filter %q: %v", f.filter, err)
		}
	}

	for _, a := range []struct{ key, path string }{
		{"id_attribute", c.IDAttribute},
		{"user_name_attribute", c.UserNameAttribute},
		{"email_attribute", c.EmailAttribute},
		{"given_name_attribute", c.GivenNameAttribute},
		{"family_name_attribute", c.FamilyNameAttribute},
		{"display_name_attribute", c.DisplayNameAttribute},
	} {
		if a.path == "" {
			continue // SetDefaults not called: the default applies
		}
		if _, err := parseAttrPath(a.path); err != nil {
			bad(a.key, "%v", err)
		}
	}

	folded := map[string]string{}
	for _, group := range slices.Sorted(maps.Keys(c.RoleMap)) {
		k := orgsync.Fold(group)
		switch other, dup := folded[k]; {
		case k == "":
			bad("role_map", "empty group name")
		case dup:
			bad("role_map", "%q and %q are the same group (names are case-insensitive)", other, group)
		}
		folded[k] = group
		if strings.TrimSpace(c.RoleMap[group]) == "" {
			bad("role_map", "group %q: empty role", group)
		}
	}

	if c.SkipGroups && len(c.RoleMap) > 0 {
		bad("role_map", "needs the groups that scim.skip_groups leaves unread")
	}

	return errors.Join(errs...)
}

// token reads the token (from its file) and checks it.
func (c *Config) token() (orgsync.Secret, error) {
	bad := func(key, format string, args ...any) (orgsync.Secret, error) {
		return "", fmt.Errorf("scim.%s: %s: %w", key, fmt.Sprintf(format, args...), orgsync.ErrInvalid)
	}
	tok, err := orgsync.ResolveSecret(c.Token, c.TokenFile)
	switch {
	case c.Token != "" && c.TokenFile != "":
		return "", nil // Validate says so
	case c.Token == "" && c.TokenFile == "":
		return bad("token", "required (or token_file)")
	case err != nil:
		return bad("token_file", "%v", err)
	case tok == "":
		return bad("token_file", "file is empty")
	case c.TokenFile != "" && !headerSafe(tok.Reveal()):
		return bad("token_file", "the token has spaces or control characters")
	}
	return tok, nil
}

// headerSafe reports whether a token can go into an Authorization header
// as is.
func headerSafe(tok string) bool {
	for _, r := range tok {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}
