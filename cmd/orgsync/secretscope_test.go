package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSecretsReadOnlyByTheirCommands: a command reads only the secrets it
// uses. With the admin token, a source token and a webhook URL named by
// unset variables, and an admin token file and a bind password file that
// do not exist, `members list` and `tokens list` work; `plan` of one
// source names that source's secret alone; serve and `config validate`
// refuse, listing every missing secret, and serve starts nothing (no
// database is created).
func TestSecretsReadOnlyByTheirCommands(t *testing.T) {
	for _, v := range []string{"ORGSYNC_ADMIN_TOKEN", "ORGSYNC_TEST_UNSET_SCIM_TOKEN", "ORGSYNC_TEST_UNSET_HOOK_URL", "ORGSYNC_TEST_UNSET_KMS_TOKEN"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	dir := t.TempDir()
	for name, admin := range map[string]string{
		"env":  "admin_token: ${ORGSYNC_ADMIN_TOKEN}",
		"file": "admin_token_file: " + filepath.Join(dir, "no-admin-token"),
	} {
		t.Run(name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "orgsync.db")
			cfg := filepath.Join(t.TempDir(), "orgsync.yaml")
			os.WriteFile(cfg, []byte(`database: {driver: sqlite, dsn: `+db+`}
server: {listen: "127.0.0.1:0", `+admin+`}
log: {level: error, format: json}
orgs: [{id: acme}]
sources:
  - name: corp-ldap
    org: acme
    type: ldap
    ldap:
      url: ldap://127.0.0.1:1
      bind_dn: cn=sync,dc=example,dc=org
      bind_password_file: `+filepath.Join(dir, "no-bind-password")+`
      user: {base_dn: "ou=people,dc=example,dc=org"}
  - name: idp-scim
    org: acme
    type: scim
    scim: {base_url: "https://idp.example.org/scim/v2", token: "${ORGSYNC_TEST_UNSET_SCIM_TOKEN}"}
notifications:
  - {name: ops, url: "${ORGSYNC_TEST_UNSET_HOOK_URL}"}
targets:
  - name: kms
    org: acme
    type: kms-scim
    url: https://kms.example.org
    token: ${ORGSYNC_TEST_UNSET_KMS_TOKEN}
    setup_status: {client_id: machine, client_secret_file: `+filepath.Join(dir, "no-client-secret")+`}
`), 0o600)
			every := []string{"server.admin_token", "no-bind-password", "ORGSYNC_TEST_UNSET_SCIM_TOKEN", "ORGSYNC_TEST_UNSET_HOOK_URL",
				"ORGSYNC_TEST_UNSET_KMS_TOKEN"}

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var out, errOut syncBuffer
			if code := run(ctx, []string{"--config", cfg, "serve"}, &out, &errOut); code != 1 || ctx.Err() != nil {
				t.Fatalf("serve with missing secrets: exit %d (timed out: %v)\n%s", code, ctx.Err() != nil, errOut.String())
			}
			for _, w := range every {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("serve does not name the missing %s:\n%s", w, errOut.String())
				}
			}
			if _, err := os.Stat(db); !os.IsNotExist(err) {
				t.Errorf("serve refused, yet opened the database: %v", err)
			}
			code, _, validateErr := cli(t, cfg, "config", "validate")
			if code != 1 {
				t.Errorf("config validate: exit %d", code)
			}
			for _, w := range every {
				if !strings.Contains(validateErr, w) {
					t.Errorf("config validate does not name the missing %s:\n%s", w, validateErr)
				}
			}

			for _, args := range [][]string{
				{"members", "list", "--org", "acme", "--format", "json"},
				{"tokens", "list"},
				{"status"},
			} {
				if code, out, errOut := cli(t, cfg, args...); code != 0 {
					t.Errorf("%v needs no admin token or source secret, yet: exit %d\n%s%s", args, code, out, errOut)
				}
			}
			code, _, planErr := cli(t, cfg, "plan", "--source", "idp-scim")
			if code != 1 || !strings.Contains(planErr, "ORGSYNC_TEST_UNSET_SCIM_TOKEN") || !strings.Contains(planErr, "sources[1].scim.token") {
				t.Errorf("plan of the SCIM source: exit %d\n%s", code, planErr)
			}
			for _, other := range []string{"admin_token", "no-bind-password"} {
				if strings.Contains(planErr, other) {
					t.Errorf("plan of the SCIM source complains of %s:\n%s", other, planErr)
				}
			}
			if code, _, errOut := cli(t, cfg, "plan"); code != 1 || !strings.Contains(errOut, "no-bind-password") || !strings.Contains(errOut, "ORGSYNC_TEST_UNSET_SCIM_TOKEN") {
				t.Errorf("plan of every source does not list both sources' secrets: exit %d\n%s", code, errOut)
			}
			code, _, targetErr := cli(t, cfg, "plan", "--target", "kms")
			if code != 1 || !strings.Contains(targetErr, "ORGSYNC_TEST_UNSET_KMS_TOKEN") || strings.Contains(targetErr, "SCIM_TOKEN}") && strings.Contains(targetErr, "sources[") {
				t.Errorf("plan of the target: exit %d\n%s", code, targetErr)
			}
		})
	}
}
