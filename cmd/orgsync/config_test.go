package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExampleConfigLoads(t *testing.T) {
	t.Setenv("ORGSYNC_ADMIN_TOKEN", "admin-token-0123456789")
	t.Setenv("LDAP_BIND_PASSWORD", "bind-secret-42")
	t.Setenv("IDP_SCIM_TOKEN", "idp-secret-43")
	t.Setenv("KMS_SCIM_TOKEN", "kms-secret-44")
	t.Setenv("KMS_CLIENT_SECRET", "kms-secret-45")
	cfg, err := LoadConfig("../../config.example.yaml", true)
	if err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	if len(cfg.Sources) != 2 || cfg.Sources[0].LDAP == nil || cfg.Sources[1].SCIM == nil || cfg.Orgs[0].PurgeAfter.TimeDuration() != 720*time.Hour {
		t.Fatalf("decoded %+v", cfg.Config)
	}
	if got := cfg.Sources[0].LDAP.BindPassword.Reveal(); got != "bind-secret-42" {
		t.Fatalf("bind_password = %q, want the expanded env value", got)
	}
	out, err := cfg.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Targets) != 1 || cfg.Targets[0].SetupStatus == nil || cfg.Targets[0].Token.Reveal() != "kms-secret-44" {
		t.Fatalf("decoded targets %+v", cfg.Targets)
	}
	for _, secret := range []string{"admin-token-0123456789", "bind-secret-42", "idp-secret-43", "kms-secret-44", "kms-secret-45"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("printed config shows secret %q", secret)
		}
	}
	if !strings.Contains(string(out), "<redacted>") {
		t.Error("printed config shows no redaction marker")
	}
}

func TestBadConfigs(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"unknown-keys.bad.yaml", []string{"line 3: field lisen not found", "line 6: field colour not found"}},
		{"many-problems.bad.yaml", []string{
			`database.driver: "mysql"`, `server.listen: "nope"`, "server.admin_token: must be at least 16",
			`log.level: "loud"`, `log.format: "xml"`, `orgs[0]: id: "Bad Id"`, "orgs[1]: purge_after: must not be negative",
			`orgs[2]: id: "acme" is listed twice`, `name: "scim" is reserved`, `org: "nope" is not one of the orgs`,
			`type: "ftp" is not ldap or scim`, `schedule "every day"`, `name: "corp" is used twice`, "scim: required for type scim"}},
		{"ldap-problems.bad.yaml", []string{"ldap.url", "ldap.user.filter", "ldap.user.base_dn: required"}},
		{"guard-problems.bad.yaml", []string{"sources[0] (corp-ldap): guard.max_deprovision_percent: 150 is not a percentage",
			"sources[0] (corp-ldap): guard.max_group_delete_percent: 101 is not a percentage", "sources[0] (corp-ldap): guard.max_member_remove_percent: +Inf is not a percentage"}},
		{"target-problems.bad.yaml", []string{`targets[0] (corp-ldap): name: "corp-ldap" is used twice`, `targets[0] (corp-ldap): org: "nope" is not one of the orgs`,
			`type: "vault" is not kms-scim or scim`, `url: "kms.example.com" is not an absolute http(s) URL`,
			"concurrency: 500 is not between 1 and 64", "rate_limit: must not be negative", "guard.max_deprovision_percent: 150 is not a percentage",
			`setup_status.type: "ldap" is not kms-admin`, "setup_status.client_id: required", "setup_status.client_secret: set either client_secret or client_secret_file, not both",
			`targets[1] (kms): schedule: schedule "every day"`, "targets[1] (kms): tls.ca_file: open /nonexistent/kms-ca.pem",
			"targets[1] (kms): tls.insecure_skip_verify: set together with ca_file", "targets[1] (kms): setup_status.tls.ca_file: open /nonexistent/admin-ca.pem"}},
		{"unset-env.bad.yaml", []string{"environment variable ORGSYNC_TEST_SURELY_UNSET_VAR is not set"}},
		{"bad-duration.bad.yaml", []string{`line 1: orgs[0].purge_after: duration "fortnight": want a value such as 30s, 720h or 30d`}},
		{"proxies.bad.yaml", []string{`line 5: server.trusted_proxies[2]: "proxy.example.org" is not an address or CIDR`,
			`line 6: server.trusted_proxies[3]: "10.0.0.0/33" is not an address or CIDR`}},
		{"small-pool.bad.yaml", []string{"database.max_open_conns: 3 is too few for 3 scheduled jobs", "set at least 5"}},
		{"all-at-once.bad.yaml", []string{
			"line 3: environment variable ORGSYNC_TEST_SURELY_UNSET_VAR is not set",
			`line 4: server.read_timeout: duration "5q": want a value such as 30s, 720h or 30d`,
			"line 6: field colour not found in type main.ServerConfig",
			`line 15: sources[0].timeout: duration "3z": want a value such as 30s, 720h or 30d`,
			`server.listen: "nope" is not host:port`, `log.level: "loud"`, `orgs[0]: id: "Bad Id"`}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := LoadConfig(filepath.Join("testdata", "config", tt.file), true)
			if err == nil {
				t.Fatal("config accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

// A ${VAR} is expanded before its value is typed, durations included.
func TestEnvInDuration(t *testing.T) {
	t.Setenv("ORGSYNC_TEST_PURGE_AFTER", "30d")
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("orgs: [{id: acme, purge_after: ${ORGSYNC_TEST_PURGE_AFTER}}]\n"), 0o600)
	cfg, err := LoadConfig(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Orgs[0].PurgeAfter.TimeDuration(); got != 720*time.Hour {
		t.Fatalf("purge_after = %v, want 720h", got)
	}
}

func TestDefaultsWithoutConfigFile(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg, err := LoadConfig("", false)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Path != "" || cfg.Database.Driver != "sqlite" || cfg.Database.DSN != "orgsync.db" ||
		cfg.Server.Listen != "127.0.0.1:8080" || len(cfg.Orgs) != 1 || cfg.Orgs[0].ID != "default" {
		t.Fatalf("defaults = %+v", cfg.Config)
	}
	if _, err := LoadConfig("missing.yaml", true); err == nil {
		t.Fatal("an explicit --config that does not exist was accepted")
	}
}

func TestInlineSecretInReadableFileWarns(t *testing.T) {
	dir := t.TempDir()
	inline := filepath.Join(dir, "inline.yaml")
	os.WriteFile(inline, []byte("server: {admin_token: inline-admin-token-123}\n"), 0o644)
	os.Chmod(inline, 0o644)
	cfg, err := LoadConfig(inline, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "admin_token") || strings.Contains(cfg.Warnings[0], "inline-admin-token-123") {
		t.Fatalf("warnings = %q", cfg.Warnings)
	}
	os.Chmod(inline, 0o600)
	if cfg, err := LoadConfig(inline, true); err != nil || len(cfg.Warnings) != 0 {
		t.Fatalf("0600 file: %v, warned %q", err, cfg.Warnings)
	}
	ref := filepath.Join(dir, "ref.yaml")
	os.WriteFile(ref, []byte("server: {admin_token: ${ORGSYNC_T}}\n"), 0o644)
	t.Setenv("ORGSYNC_T", "from-the-environment-1")
	if cfg, err := LoadConfig(ref, true); err != nil || len(cfg.Warnings) != 0 {
		t.Fatalf("env reference: %v", err)
	}
}

func TestSecretFromFile(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "token")
	os.WriteFile(secret, []byte("admin-token-from-file\n"), 0o600)
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte("server: {admin_token_file: "+secret+"}\n"), 0o600)
	if _, err := LoadConfig(path, true); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("server: {admin_token: also-set-inline-123, admin_token_file: "+secret+"}\n"), 0o600)
	if _, err := LoadConfig(path, true); err == nil || !strings.Contains(err.Error(), "server.admin_token") {
		t.Fatalf("both inline and file: %v", err)
	}
	os.WriteFile(path, []byte("server: {admin_token_file: "+filepath.Join(dir, "nope")+"}\n"), 0o600)
	if _, err := LoadConfig(path, true); err == nil || !strings.Contains(err.Error(), "server.admin_token") {
		t.Fatalf("missing secret file: %v", err)
	}
}
