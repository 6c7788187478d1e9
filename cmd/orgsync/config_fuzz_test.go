package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/orgsync/orgsync/internal/yamlconf"
)

// fuzzSecret is what ${ORGSYNC_FUZZ_SECRET} expands to in fuzzed configs.
const fuzzSecret = "fuzz-SECRET-4a7e1c"

// FuzzDecodeConfig decodes, defaults, validates and redacts arbitrary
// YAML: nothing panics, and no error or redacted rendering shows a secret
// value (inline or from the environment) that the input does not also use
// as a non-secret.
func FuzzDecodeConfig(f *testing.F) {
	for _, s := range []string{
		"server: {admin_token: ${ORGSYNC_FUZZ_SECRET}, listen: 127.0.0.1:0}\n",
		"server: {admin_token: inline-secret-value-1, max_body_bytes: notanumber}\n",
		"sources:\n  - name: l\n    org: default\n    type: ldap\n    ldap: {url: 'ldap://x', bind_dn: cn=a, bind_password: ${ORGSYNC_FUZZ_SECRET}, page_size: -1, user: {base_dn: ''}}\n",
		"sources:\n  - name: s\n    org: nope\n    type: scim\n    scim: {base_url: 'not a url', token: ${ORGSYNC_FUZZ_SECRET}, token_file: /nonexistent}\n",
		"sources:\n  - {name: s, org: default, type: scim, scim: {base_url: 'https://x', token: [1,2]}}\n",
		"database: {driver: postgres, dsn: 'postgres://u:${ORGSYNC_FUZZ_SECRET}@h/db'}\n",
		"orgs: [{id: 'A B', purge_after: 'soon'}]\nlog: {level: loud}\n",
		"server:\n  admin_token: &a ${ORGSYNC_FUZZ_SECRET}\n  public_url: *a\n",
		"{{{{", "- - - -", "server: !!binary aGVsbG8=\n", "? [a]\n: b\n", "${UNSET_VAR_XYZ}: 1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		t.Setenv("ORGSYNC_FUZZ_SECRET", fuzzSecret)
		var c Config
		_, err := yamlconf.Decode(data, &c)
		var text strings.Builder
		if err != nil {
			text.WriteString(err.Error())
		}
		c.SetDefaults()
		if err := c.Validate(); err != nil {
			text.WriteString(err.Error())
		}
		if err := (&Loaded{Config: c}).checkSecrets(); err != nil {
			text.WriteString(err.Error())
		}
		if out, err := c.Redacted(); err == nil {
			text.Write(out)
		}
		secrets := []string{c.Server.AdminToken.Reveal()}
		for _, s := range c.Sources {
			if s.LDAP != nil {
				secrets = append(secrets, s.LDAP.BindPassword.Reveal())
			}
			if s.SCIM != nil {
				secrets = append(secrets, s.SCIM.Token.Reveal())
			}
		}
		// The environment's secret, wherever the input puts it as a secret.
		if bytes.Count(data, []byte("${ORGSYNC_FUZZ_SECRET}")) == 1 {
			secrets = append(secrets, fuzzSecret)
		}
		for _, s := range secrets {
			// Skip: too short to tell, also written as a non-secret, or
			// copyable into a non-secret by a YAML anchor (&a … *a).
			if len(s) < 6 || bytes.Count(data, []byte(s)) > 1 || (s == fuzzSecret && !isSecretRef(data)) || bytes.ContainsRune(data, '&') {
				continue
			}
			if strings.Contains(text.String(), s) {
				t.Fatalf("secret %q shown:\n%s", s, text.String())
			}
		}
	})
}

// isSecretRef reports whether the one ${ORGSYNC_FUZZ_SECRET} is the value
// of a secret key.
func isSecretRef(data []byte) bool {
	for _, key := range []string{"admin_token:", "bind_password:", "token:"} {
		if bytes.Contains(data, []byte(key+" ${ORGSYNC_FUZZ_SECRET}")) {
			return true
		}
	}
	return false
}
