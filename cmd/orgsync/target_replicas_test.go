package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/kmsfake"
	"github.com/orgsync/orgsync/internal/testenv"
	"github.com/orgsync/orgsync/store"
)

// TestTwoReplicasRunEachTargetOccurrenceOnce runs two serve processes on
// one PostgreSQL with a target every 2 seconds: each occurrence runs on
// one replica only (the scheduler's lock and claim), and the KMS gets each
// member once.
func TestTwoReplicasRunEachTargetOccurrenceOnce(t *testing.T) {
	dsn := testenv.PostgresDatabase(t)
	kms := newKMS(t, kmsfake.Options{Latency: time.Millisecond})
	t.Setenv("KMS_SCIM_TOKEN", kmsToken)
	cfg := filepath.Join(t.TempDir(), "orgsync.yaml")
	os.WriteFile(cfg, []byte(`database: {driver: postgres, dsn: "`+dsn+`"}
server: {listen: 127.0.0.1:0, admin_token: admin-token-for-tests-123}
log: {level: error, format: json}
orgs: [{id: acme}]
targets:
  - name: kms
    org: acme
    type: kms-scim
    url: `+kms.URL+`
    token: ${KMS_SCIM_TOKEN}
    schedule: "@every 2s"
`), 0o600)
	st := configStore(t, cfg)
	var changes []orgsync.Change
	for i := range 200 {
		n := fmt.Sprintf("r%03d@example.org", i)
		changes = append(changes, orgsync.Change{Action: orgsync.ActionProvision, UserName: n, MemberKey: fmt.Sprint("k", i),
			Member: &orgsync.Member{UserName: n, Emails: []orgsync.Email{{Value: n, Primary: true}}}})
	}
	if _, err := st.Apply(context.Background(), orgsync.Plan{Org: "acme", Owner: orgsync.OwnerSCIM, Changes: changes}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	_, _, stopA := startServe(t, cfg)
	time.Sleep(700 * time.Millisecond)
	_, _, stopB := startServe(t, cfg)
	time.Sleep(7 * time.Second)
	stopA()
	stopB()

	st, err := store.Open(context.Background(), store.Config{Driver: "postgres", DSN: dsn, MaxOpenConns: 2}, zerologNop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(context.Background(), store.RunFilter{Source: "kms"})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) < 2 {
		t.Fatalf("only %d target runs in 7s of an @every 2s schedule", len(runs))
	}
	slots := map[time.Time]int64{}
	for _, r := range runs {
		if r.Result != orgsync.RunApplied || r.Target != "kms" {
			t.Errorf("run %d: %s %q %s", r.ID, r.Result, r.Target, r.Error)
		}
		slot := r.StartedAt.Truncate(2 * time.Second)
		if other, dup := slots[slot]; dup {
			t.Errorf("runs %d and %d both ran the occurrence at %s", other, r.ID, slot)
		}
		slots[slot] = r.ID
	}
	if len(kms.Users()) != 200 || kms.Invites() != 200 || kms.Conflicts() != 0 {
		t.Fatalf("KMS: %d users, %d invitations, %d conflicting creates; want 200, 200, 0", len(kms.Users()), kms.Invites(), kms.Conflicts())
	}
}
