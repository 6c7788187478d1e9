// Package testenv tells tests where the real servers that scripts/test.sh
// starts (slapd, Samba AD, PostgreSQL) are listening.
//
// Outside CI a test whose server is not configured is skipped, so `go test`
// works on a bare checkout. Under CI (CI=true) a missing server fails the
// test instead: CI must never pass by skipping the real integration tests.
package testenv

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver "pgx"
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

var dbSeq atomic.Int64

// PostgresDatabase creates a fresh, empty database on the test cluster
// (ORGSYNC_TEST_POSTGRES_DSN), drops it when the test ends, and returns its
// DSN. Like Require, it skips outside CI and fails under CI when the
// cluster is not configured.
func PostgresDatabase(t testing.TB) string {
	t.Helper()
	dsn := Require(t, PostgresDSNVar)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	name := fmt.Sprintf("orgsync_test_%d_%d", os.Getpid(), dbSeq.Add(1))
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		t.Fatalf("postgres: create database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("postgres: %s is not a URL: %v", PostgresDSNVar, err)
	}
	u.Path = "/" + name
	return u.String()
}
