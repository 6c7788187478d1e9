package ldap

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/tlsconf"
)

// Flavors of directory server.
const (
	FlavorOpenLDAP = "openldap"
	FlavorAD       = "ad"
)

// What to do with search continuation references (RFC 4511 §4.5.3).
const (
	ReferencesError  = "error"
	ReferencesIgnore = "ignore"
)

// Config is the `ldap:` block of an LDAP source.
type Config struct {
	// Flavor is openldap (default) or ad; it picks the attribute defaults and
	// turns on Active Directory's userAccountControl/accountExpires checks.
	Flavor string `yaml:"flavor"`
	// URL is the server, ldap:// or ldaps://. URLs lists more servers, tried
	// in order after URL until one answers.
	URL  string   `yaml:"url"`
	URLs []string `yaml:"urls"`
	// StartTLS upgrades an ldap:// connection before binding.
	StartTLS bool `yaml:"start_tls"`
	// CAFile is a PEM bundle of CAs to trust instead of the system pool.
	CAFile string `yaml:"ca_file"`
	// InsecureSkipVerify accepts any certificate (logged as a warning).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`

	// BindDN and BindPassword (or BindPasswordFile) are the service account.
	// An empty BindDN binds anonymously.
	BindDN           string         `yaml:"bind_dn"`
	BindPassword     orgsync.Secret `yaml:"bind_password"`
	BindPasswordFile string         `yaml:"bind_password_file"`

	// Timeouts: connecting (per URL), the bind, and each search request
	// (one page). Defaults 10s, 10s, 60s.
	DialTimeout   orgsync.Duration `yaml:"dial_timeout"`
	BindTimeout   orgsync.Duration `yaml:"bind_timeout"`
	SearchTimeout orgsync.Duration `yaml:"search_timeout"`

	// PageSize is the paged-results page size (default 500; AD caps it at 1000).
	PageSize int `yaml:"page_size"`
	// MaxEntries bounds the entries one search (users, disabled users,
	// groups) may return, and MaxMessageBytes one response message (an
	// entry: a group's member list is the largest). Past either the read
	// fails naming the setting, never keeping what came so far: they bound
	// the memory a huge or hostile directory can take. Defaults 1,000,000
	// and 64 MiB (a groupOfNames of about a million members).
	MaxEntries      int   `yaml:"max_entries"`
	MaxMessageBytes int64 `yaml:"max_message_bytes"`
	// References says what a search continuation reference does: error
	// (openldap default: data lives elsewhere, so the read would be partial)
	// or ignore (ad default: AD returns references to its DNS and
	// configuration partitions on every subtree search of the domain root).
	References string `yaml:"references"`

	User  UserConfig  `yaml:"user"`
	Group GroupConfig `yaml:"group"`

	// RequireGroup, when set, scopes the users to the members of this group
	// (transitively when group.nested is true).
	RequireGroup string `yaml:"require_group"`
	// RoleMap maps group DNs to roles; members (transitive when nested)
	// get the role. RoleAdmin wins over others, then the first role by name.
	RoleMap map[string]string `yaml:"role_map"`
}

// UserConfig says where the users are and which attributes hold what.
type UserConfig struct {
	BaseDN               string `yaml:"base_dn"`
	Filter               string `yaml:"filter"`
	IDAttribute          string `yaml:"id_attribute"`
	UserNameAttribute    string `yaml:"user_name_attribute"`
	EmailAttribute       string `yaml:"email_attribute"`
	GivenNameAttribute   string `yaml:"given_name_attribute"`
	FamilyNameAttribute  string `yaml:"family_name_attribute"`
	DisplayNameAttribute string `yaml:"display_name_attribute"`
	// UIDAttribute is the user attribute that posixGroup memberUid values
	// name (default uid; sAMAccountName with flavor ad).
	UIDAttribute string `yaml:"uid_attribute"`
	// The optional enterprise attributes (kept in the member's SCIM
	// document, RFC 7643 §4.1/§4.3): title, employeeNumber, department,
	// and the manager, an attribute holding the manager's DN (the manager
	// must be one of the users read; manager.value is its id attribute).
	// Empty: not read.
	TitleAttribute          string `yaml:"title_attribute"`
	EmployeeNumberAttribute string `yaml:"employee_number_attribute"`
	DepartmentAttribute     string `yaml:"department_attribute"`
	ManagerAttribute        string `yaml:"manager_attribute"`
	// DisabledFilter selects the users that are disabled at the source; it
	// is evaluated by the server, ANDed with Filter.
	DisabledFilter string `yaml:"disabled_filter"`
}

// GroupConfig says where the groups are. An empty BaseDN reads no groups.
type GroupConfig struct {
	BaseDN        string `yaml:"base_dn"`
	Filter        string `yaml:"filter"`
	IDAttribute   string `yaml:"id_attribute"`
	NameAttribute string `yaml:"name_attribute"`
	// MemberAttribute is member (DNs), uniqueMember (DNs, optionally with a
	// #'…'B suffix) or memberUid (values of user.uid_attribute).
	MemberAttribute string `yaml:"member_attribute"`
	// Nested reports member groups as Subgroups and follows them for
	// require_group and role_map.
	Nested bool `yaml:"nested"`
}

// Defaults.
const (
	DefaultPageSize      = 500
	DefaultDialTimeout   = orgsync.Duration(10 * time.Second)
	DefaultBindTimeout   = orgsync.Duration(10 * time.Second)
	DefaultSearchTimeout = orgsync.Duration(60 * time.Second)

	DefaultMaxEntries      = 1_000_000
	DefaultMaxMessageBytes = 64 << 20
	// The limits' own bounds: a message length is at most 4 bytes long
	// (internal/wire), and a limit below a few KiB would refuse ordinary
	// entries.
	minMaxMessageBytes = 4 << 10
	maxMaxMessageBytes = 1 << 30
	maxMaxEntries      = 100_000_000
)

// URLList is URL followed by URLs, without empties or repeats.
func (c *Config) URLList() []string {
	var out []string
	seen := map[string]bool{}
	for _, u := range append([]string{c.URL}, c.URLs...) {
		u = strings.TrimSpace(u)
		if u != "" && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}

// SetDefaults fills empty fields; the defaults depend on Flavor.
func (c *Config) SetDefaults() {
	if c.Flavor == "" {
		c.Flavor = FlavorOpenLDAP
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.BindTimeout == 0 {
		c.BindTimeout = DefaultBindTimeout
	}
	if c.SearchTimeout == 0 {
		c.SearchTimeout = DefaultSearchTimeout
	}
	if c.MaxEntries == 0 {
		c.MaxEntries = DefaultMaxEntries
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	ad := strings.EqualFold(c.Flavor, FlavorAD)
	set := func(p *string, openldap, adValue string) {
		if *p != "" {
			return
		}
		if ad {
			*p = adValue
		} else {
			*p = openldap
		}
	}
	set(&c.References, ReferencesError, ReferencesIgnore)
	u := &c.User
	set(&u.Filter, "(objectClass=inetOrgPerson)", "(&(objectCategory=person)(objectClass=user))")
	set(&u.IDAttribute, "entryUUID", "objectGUID")
	set(&u.UserNameAttribute, "mail", "userPrincipalName")
	set(&u.EmailAttribute, "mail", "mail")
	set(&u.GivenNameAttribute, "givenName", "givenName")
	set(&u.FamilyNameAttribute, "sn", "sn")
	set(&u.DisplayNameAttribute, "cn", "displayName")
	set(&u.UIDAttribute, "uid", "sAMAccountName")
	g := &c.Group
	set(&g.Filter, "(objectClass=groupOfNames)", "(objectClass=group)")
	set(&g.IDAttribute, "entryUUID", "objectGUID")
	set(&g.NameAttribute, "cn", "cn")
	set(&g.MemberAttribute, "member", "member")
}

// Validate returns every problem of the config, each naming its key. The
// bind password is not read: Open does, and checks it.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("ldap.%s: %s: %w", key, fmt.Sprintf(format, args...), orgsync.ErrInvalid))
	}
	switch c.Flavor {
	case FlavorOpenLDAP, FlavorAD:
	default:
		bad("flavor", "%q is not openldap or ad", c.Flavor)
	}
	urls := c.URLList()
	if len(urls) == 0 {
		bad("url", "required (or ldap.urls)")
	}
	for _, raw := range urls {
		key := "url"
		if raw != strings.TrimSpace(c.URL) {
			key = "urls"
		}
		u, err := url.Parse(raw)
		switch {
		case err != nil:
			bad(key, "%q does not parse: %v", raw, err)
		case u.Scheme != "ldap" && u.Scheme != "ldaps":
			bad(key, "%q: scheme must be ldap:// or ldaps://", raw)
		case u.Host == "":
			bad(key, "%q: no host", raw)
		case u.Scheme == "ldaps" && c.StartTLS:
			bad("start_tls", "set together with the ldaps:// URL %q (ldaps is TLS already)", raw)
		}
	}
	if c.CAFile != "" {
		if _, err := tlsconf.CertPool(c.CAFile); err != nil {
			bad("ca_file", "%v", err)
		}
	}
	if c.BindDN != "" {
		if _, err := goldap.ParseDN(c.BindDN); err != nil {
			bad("bind_dn", "%q is not a DN: %v", c.BindDN, err)
		}
	}
	if c.BindPassword != "" && c.BindPasswordFile != "" {
		bad("bind_password_file", "set together with ldap.bind_password: set one")
	}
	if c.PageSize < 1 {
		bad("page_size", "must be at least 1, got %d", c.PageSize)
	}
	if c.MaxEntries < 1 || c.MaxEntries > maxMaxEntries {
		bad("max_entries", "must be between 1 and %d, got %d", maxMaxEntries, c.MaxEntries)
	}
	if c.MaxMessageBytes < minMaxMessageBytes || c.MaxMessageBytes > maxMaxMessageBytes {
		bad("max_message_bytes", "must be between %d (4 KiB) and %d (1 GiB), got %d", minMaxMessageBytes, maxMaxMessageBytes, c.MaxMessageBytes)
	}
	for _, d := range []struct {
		key string
		v   orgsync.Duration
	}{{"dial_timeout", c.DialTimeout}, {"bind_timeout", c.BindTimeout}, {"search_timeout", c.SearchTimeout}} {
		if d.v <= 0 {
			bad(d.key, "must be positive, got %s", d.v.TimeDuration())
		}
	}
	switch c.References {
	case ReferencesError, ReferencesIgnore:
	default:
		bad("references", "%q is not error or ignore", c.References)
	}

	u := &c.User
	checkDN(bad, "user.base_dn", u.BaseDN, true)
	checkFilter(bad, "user.filter", u.Filter, true)
	checkFilter(bad, "user.disabled_filter", u.DisabledFilter, false)
	for _, a := range [][2]string{
		{"user.id_attribute", u.IDAttribute}, {"user.user_name_attribute", u.UserNameAttribute},
		{"user.email_attribute", u.EmailAttribute}, {"user.given_name_attribute", u.GivenNameAttribute},
		{"user.family_name_attribute", u.FamilyNameAttribute}, {"user.display_name_attribute", u.DisplayNameAttribute},
		{"user.uid_attribute", u.UIDAttribute},
	} {
		checkAttr(bad, a[0], a[1])
	}
	for _, a := range [][2]string{
		{"user.title_attribute", u.TitleAttribute}, {"user.employee_number_attribute", u.EmployeeNumberAttribute},
		{"user.department_attribute", u.DepartmentAttribute}, {"user.manager_attribute", u.ManagerAttribute},
	} {
		if a[1] != "" {
			checkAttr(bad, a[0], a[1])
		}
	}

	g := &c.Group
	checkDN(bad, "group.base_dn", g.BaseDN, false)
	checkFilter(bad, "group.filter", g.Filter, true)
	for _, a := range [][2]string{
		{"group.id_attribute", g.IDAttribute}, {"group.name_attribute", g.NameAttribute},
		{"group.member_attribute", g.MemberAttribute},
	} {
		checkAttr(bad, a[0], a[1])
	}
	if c.RequireGroup != "" {
		checkDN(bad, "require_group", c.RequireGroup, true)
		if g.BaseDN == "" {
			bad("require_group", "needs ldap.group.base_dn to find the group")
		}
	}
	for _, dn := range sortedKeys(c.RoleMap) {
		role := c.RoleMap[dn]
		checkDN(bad, fmt.Sprintf("role_map[%q]", dn), dn, true)
		if strings.TrimSpace(role) == "" {
			bad(fmt.Sprintf("role_map[%q]", dn), "empty role")
		}
	}
	if len(c.RoleMap) > 0 && g.BaseDN == "" {
		bad("role_map", "needs ldap.group.base_dn to find the groups")
	}
	return errors.Join(errs...)
}

type badFunc func(key, format string, args ...any)

func checkDN(bad badFunc, key, dn string, required bool) {
	if dn == "" {
		if required {
			bad(key, "required")
		}
		return
	}
	if _, err := goldap.ParseDN(dn); err != nil {
		bad(key, "%q is not a DN: %v", dn, err)
	}
}

func checkFilter(bad badFunc, key, filter string, required bool) {
	if filter == "" {
		if required {
			bad(key, "required")
		}
		return
	}
	if _, err := goldap.CompileFilter(filter); err != nil {
		bad(key, "%q is not an LDAP filter: %v", filter, err)
	}
}

func checkAttr(bad badFunc, key, attr string) {
	if attr == "" {
		bad(key, "required")
		return
	}
	for _, r := range attr {
		if !(r == '-' || r == '.' || r == ';' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			bad(key, "%q is not an attribute name", attr)
			return
		}
	}
}

// password reads the bind password (from its file) and checks it.
func (c *Config) password() (orgsync.Secret, error) {
	pw, err := orgsync.ResolveSecret(c.BindPassword, c.BindPasswordFile)
	switch {
	case err != nil:
		return "", fmt.Errorf("ldap.bind_password_file: %w", err)
	case c.BindDN != "" && pw == "":
		return "", fmt.Errorf("ldap.bind_password: required with ldap.bind_dn (an empty password would be an unauthenticated bind that reads nothing): %w", orgsync.ErrInvalid)
	}
	return pw, nil
}
