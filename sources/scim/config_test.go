package scim

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.yaml.in/yaml/v3"

	"github.com/orgsync/orgsync"
)

// TestConfigYAML decodes a scim block strictly, as the loader does, with
// every key an operator can set.
func TestConfigYAML(t *testing.T) {
	const doc = `
base_url: https://idp.example.com/scim/v2
token: t0ken
page_size: 200
group_page_size: 20
timeout: 45s
max_retries: 0
insecure_skip_verify: false
user_filter: active eq true
group_filter: displayName sw "KMS"
skip_groups: false
id_attribute: externalId
user_name_attribute: emails
email_attribute: emails
given_name_attribute: name.givenName
family_name_attribute: name.familyName
display_name_attribute: displayName
role_map: {"KMS Admins": admin}
`
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode: %v", err)
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if c.Timeout.TimeDuration() != 45*time.Second || *c.MaxRetries != 0 || c.PageSize != 200 || c.GroupPageSize != 20 || c.RoleMap["KMS Admins"] != "admin" {
		t.Errorf("decoded %+v", c)
	}

	out, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte("timeout: 45s")) {
		t.Errorf("printed config does not show the timeout as written:\n%s", out)
	}
	if bytes.Contains(out, []byte("t0ken")) || !bytes.Contains(out, []byte(orgsync.Redacted)) {
		t.Errorf("printed config does not redact the token:\n%s", out)
	}
}

func TestSetDefaults(t *testing.T) {
	var c Config
	c.SetDefaults()
	if c.PageSize != DefaultPageSize || c.GroupPageSize != DefaultPageSize || c.Timeout.TimeDuration() != DefaultTimeout || c.MaxRetries == nil || *c.MaxRetries != DefaultMaxRetries ||
		c.IDAttribute != "id" || c.UserNameAttribute != "userName" || c.EmailAttribute != "emails" {
		t.Errorf("defaults %+v", c)
	}
	zero := 0
	c = Config{MaxRetries: &zero}
	c.SetDefaults()
	if *c.MaxRetries != 0 {
		t.Errorf("max_retries: 0 became %d", *c.MaxRetries)
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	notPEM := filepath.Join(dir, "ca.txt")
	for _, f := range []string{empty, notPEM} {
		if err := os.WriteFile(f, []byte("\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	neg := -1
	tests := []struct {
		name string
		cfg  Config
		want []string // every problem, in order
	}{
		{
			name: "everything wrong",
			cfg: Config{
				BaseURL: "idp.example.com/scim", PageSize: -1, Timeout: orgsync.Duration(-time.Second), MaxRetries: &neg,
				CAFile: notPEM, UserFilter: `userName eq`, GroupFilter: `displayName eq "x`,
				IDAttribute: "emails[type eq \"work\"]", UserNameAttribute: "user name",
				RoleMap: map[string]string{"Admins": "", "admins": "admin", " ": "x"},
			},
			want: []string{
				"scim.base_url: must be an absolute http(s) URL",
				"scim.page_size: must be between 1 and 10000",
				"scim.timeout: must be positive",
				"scim.max_retries: must be between 0 and 20",
				"scim.ca_file: " + notPEM + ": no PEM certificate found",
				`scim.user_filter: invalid SCIM filter "userName eq"`,
				`scim.group_filter: invalid SCIM filter "displayName eq \"x"`,
				`scim.id_attribute: invalid SCIM attribute path "emails[type eq \"work\"]"`,
				`scim.user_name_attribute: invalid SCIM attribute path "user name"`,
				"scim.role_map: empty group name",
				`scim.role_map: group "Admins": empty role`,
				`scim.role_map: "Admins" and "admins" are the same group`,
				"scim.token: required (or token_file)",
			},
		},
		{
			name: "credentials in the URL, both token forms",
			cfg:  Config{BaseURL: "https://u:p@idp.example.com/scim?x=1", Token: "t", TokenFile: empty, GroupPageSize: 20000},
			want: []string{
				"scim.base_url: must not carry credentials",
				"scim.base_url: must not have a query or fragment",
				"scim.token: set either token or token_file, not both",
				"scim.group_page_size: must be between 1 and 10000",
			},
		},
		{
			name: "empty token file",
			cfg:  Config{BaseURL: "https://idp.example.com/scim/v2", TokenFile: empty},
			want: []string{"scim.token_file: file is empty"},
		},
		{
			name: "missing token file, ftp",
			cfg:  Config{BaseURL: "ftp://idp.example.com/", TokenFile: filepath.Join(dir, "nope")},
			want: []string{"scim.base_url: must be an absolute http(s) URL", "scim.token_file: read secret file: open"},
		},
		{
			name: "role_map without groups",
			cfg:  Config{BaseURL: "http://127.0.0.1:9/scim/v2", Token: "t", SkipGroups: true, RoleMap: map[string]string{"A": "admin"}},
			want: []string{"scim.role_map: needs the groups that scim.skip_groups leaves unread"},
		},
		{name: "missing base_url", cfg: Config{Token: "t"}, want: []string{"scim.base_url: required"}},
		{
			name: "token with a newline",
			cfg:  Config{BaseURL: "https://idp.example.com/scim/v2", Token: "abc\n"},
			want: []string{"scim.token: has spaces or control characters"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Open lists Validate's problems, then the token's.
			_, err := tc.cfg.Open("x", zerolog.Nop())
			if err == nil {
				t.Fatal("Open accepted the config")
			}
			if !errors.Is(err, orgsync.ErrInvalid) {
				t.Errorf("error is not ErrInvalid: %v", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Errorf("%d problems, want %d:\n%s", len(lines), len(tc.want), err)
			}
			for i, want := range tc.want {
				if i < len(lines) && !strings.Contains(lines[i], want) {
					t.Errorf("problem %d is %q, want %q", i, lines[i], want)
				}
			}
			if strings.Contains(err.Error(), "\"t\"") {
				t.Errorf("the token is in the error: %v", err)
			}
			if _, err := New("x", tc.cfg, zerolog.Nop()); err == nil {
				t.Error("New accepted the config")
			}
		})
	}
}

// The token is Open's to read and check: a command that opens no source
// needs none (its ${VAR} may be unset, its file absent).
func TestValidateLeavesTheTokenToOpen(t *testing.T) {
	for _, c := range []Config{
		{BaseURL: "https://idp.example.com/scim/v2"},
		{BaseURL: "https://idp.example.com/scim/v2", TokenFile: "/nonexistent/token"},
	} {
		c.SetDefaults()
		if err := c.Validate(); err != nil {
			t.Errorf("Validate checks the token: %v", err)
		}
		if _, err := c.Open("x", zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "scim.token") {
			t.Errorf("Open without a readable token: %v", err)
		}
	}
}
