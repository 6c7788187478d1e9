// Package testenv tells tests where the real servers that scripts/test.sh
// starts (slapd, Samba AD, PostgreSQL) are listening.
//
// Outside CI a test whose server is not configured is skipped, so `go test`
// works on a bare checkout. Under CI (CI=true) a missing server fails the
// test instead: CI must never pass by skipping the real integration tests.
package testenv

import (
	"os"
	"testing"
)

// Environment variables set by scripts/test.sh.
const (
	LDAPURLVar     = "ORGSYNC_TEST_LDAP_URL"     // ldap://127.0.0.1:PORT of the throwaway slapd
	LDAPDirVar     = "ORGSYNC_TEST_LDAP_DIR"     // its state dir (scripts/slapd.sh)
	ADURLVar       = "ORGSYNC_TEST_AD_URL"       // ldaps://127.0.0.1:636 of the Samba AD DC
	PostgresDSNVar = "ORGSYNC_TEST_POSTGRES_DSN" // postgres://… of the throwaway cluster
)

// Require returns the value of the environment variable name, skipping the
// test when it is unset outside CI and failing it under CI.
func Require(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not set: CI must run this test against the real server (run scripts/test.sh)", name)
	}
	t.Skipf("%s not set; run scripts/test.sh to start the real server", name)
	return ""
}
