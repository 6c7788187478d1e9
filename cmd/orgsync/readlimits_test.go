package main

import (
	"os"
	"strings"
	"testing"
)

// setLDAPKey adds key: value to the ldap block of the config file cfg.
func setLDAPKey(t *testing.T, cfg, key, value string) {
	t.Helper()
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "      bind_password: sync\n", "      bind_password: sync\n      "+key+": "+value+"\n", 1)
	if s == string(b) {
		t.Fatalf("no ldap block in %s", b)
	}
	if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestLDAPReadLimitsAgainstSlapd: against the real slapd, a directory with
// more users than ldap.max_entries, or an entry over
// ldap.max_message_bytes, fails the run naming the setting, and the org
// stays as it was: no member is deprovisioned by the shorter read.
func TestLDAPReadLimitsAgainstSlapd(t *testing.T) {
	for _, tc := range []struct{ key, value, want string }{
		{"max_entries", "5", "more than 5 entries, over ldap.max_entries"},
		{"max_message_bytes", "4096", "over ldap.max_message_bytes (4096"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			ldap := startSlapd(t, "testdata/e2e.ldif")
			if tc.key == "max_message_bytes" {
				// One user with a 6 KB attribute: a 6 KB entry.
				ldap.modify(t, "dn: uid=ada,ou=people,dc=example,dc=org\nchangetype: modify\nreplace: description\ndescription: "+
					strings.Repeat("x", 6000)+"\n")
			}
			cfg := ldapConfig(t, ldap.url, openGuard)
			if tc.key == "max_message_bytes" {
				// the attribute must be read for the entry to be large
				b, _ := os.ReadFile(cfg)
				os.WriteFile(cfg, []byte(strings.Replace(string(b), "        disabled_filter:",
					"        display_name_attribute: description\n        disabled_filter:", 1)), 0o600)
			}
			if code, out, errOut := cli(t, cfg, "reconcile"); code != 0 {
				t.Fatalf("first reconcile: %d\n%s\n%s", code, out, errOut)
			}
			before := orgState(t, cfg, "acme")
			setLDAPKey(t, cfg, tc.key, tc.value)
			expectFailedRun(t, cfg, "acme", "corp-ldap", tc.key, before)
			if r := lastRun(t, cfg, "corp-ldap"); !strings.Contains(r.Error, tc.want) {
				t.Errorf("run error %q does not name the setting (%q)", r.Error, tc.want)
			}
		})
	}
}
