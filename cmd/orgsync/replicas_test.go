package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/testenv"
	"github.com/orgsync/orgsync/store"
)

// TestTwoReplicasRunEachOccurrenceOnce runs two serve processes on one
// PostgreSQL with the same source every 2 seconds: every occurrence runs on
// exactly one replica, and runs never overlap.
func TestTwoReplicasRunEachOccurrenceOnce(t *testing.T) {
	ldap := startSlapd(t, "testdata/e2e.ldif")
	dsn := testenv.PostgresDatabase(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "orgsync.yaml")
	os.WriteFile(cfg, []byte(`database: {driver: postgres, dsn: "`+dsn+`"}
server: {listen: 127.0.0.1:0, admin_token: admin-token-for-tests-123}
log: {level: error, format: json}
orgs: [{id: acme}]
sources:
  - name: corp-ldap
    org: acme
    type: ldap
    schedule: "@every 2s"
    ldap:
      url: `+ldap.url+`
      bind_dn: cn=sync,dc=example,dc=org
      bind_password: sync
      user: {base_dn: "ou=people,dc=example,dc=org"}
      group: {base_dn: "ou=groups,dc=example,dc=org"}
`), 0o600)
	_, _, stopA := startServe(t, cfg)
	time.Sleep(700 * time.Millisecond) // the replicas' timers run out of phase
	_, _, stopB := startServe(t, cfg)
	time.Sleep(9 * time.Second)
	stopA()
	stopB()

	st, err := store.Open(context.Background(), store.Config{Driver: "postgres", DSN: dsn, MaxOpenConns: 2}, zerologNop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(context.Background(), store.RunFilter{Source: "corp-ldap"})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) < 3 {
		t.Fatalf("only %d runs in 9s of an @every 2s schedule", len(runs))
	}
	slots := map[time.Time]int64{}
	for i, r := range runs {
		if r.Result != orgsync.RunApplied {
			t.Errorf("run %d: %s %s", r.ID, r.Result, r.Error)
		}
		slot := r.StartedAt.Truncate(2 * time.Second)
		if other, dup := slots[slot]; dup {
			t.Errorf("runs %d and %d both ran the occurrence at %s", other, r.ID, slot)
		}
		slots[slot] = r.ID
		if i > 0 && runs[i-1].StartedAt.Before(r.FinishedAt) {
			t.Errorf("runs %d and %d overlap", r.ID, runs[i-1].ID)
		}
	}
	ms, _ := st.Members(context.Background(), "acme", store.MemberFilter{})
	if len(ms) != 10 {
		t.Fatalf("%d members, want 10", len(ms))
	}
	t.Logf("%d runs in 9s, each in its own 2s occurrence", len(runs))
}
