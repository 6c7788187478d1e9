package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// TestServeScheduleReadsIncrementally runs serve with an LDAP source on a
// short schedule, as an operator runs drift correction: the first run
// reads in full, every later one incrementally, and a changed and a
// deleted entry reach the store through the scheduled incremental runs.
func TestServeScheduleReadsIncrementally(t *testing.T) {
	ldap := startSlapd(t, "testdata/e2e.ldif")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "orgsync.yaml")
	os.WriteFile(cfg, []byte(`database: {driver: sqlite, dsn: "`+filepath.Join(dir, "orgsync.db")+`"}
server: {listen: 127.0.0.1:0, admin_token: `+testAdminToken+`}
log: {level: error, format: json}
orgs: [{id: acme}]
sources:
  - name: corp-ldap
    org: acme
    type: ldap
    schedule: "@every 1s"
    guard: {max_deprovision: 5}
    ldap:
      url: `+ldap.url+`
      bind_dn: cn=sync,dc=example,dc=org
      bind_password: sync
      user: {base_dn: "ou=people,dc=example,dc=org"}
      group: {base_dn: "ou=groups,dc=example,dc=org"}
`), 0o600)
	_, a, stopServe := startServe(t, cfg)
	stop := sync.OnceFunc(stopServe)
	defer stop()
	ctx := context.Background()

	// waitFor polls the store until ok holds for the members of acme, by display name (the
	// user name follows the mail).
	waitFor := func(what string, ok func(map[string]orgsync.Member) bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			ms, err := a.st.Members(ctx, "acme", store.MemberFilter{})
			if err != nil {
				t.Fatal(err)
			}
			byName := map[string]orgsync.Member{}
			for _, m := range ms {
				byName[m.DisplayName] = m
			}
			if ok(byName) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not seen in 20s; members: %v", what, byName)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitFor("first run", func(ms map[string]orgsync.Member) bool { return len(ms) == 10 })
	time.Sleep(2500 * time.Millisecond) // a run or two with nothing changed

	ldap.modify(t, "dn: uid=ada,ou=people,dc=example,dc=org\nchangetype: modify\nreplace: mail\nmail: ada.lovelace@example.org\n")
	waitFor("changed mail", func(ms map[string]orgsync.Member) bool {
		m := ms["Ada Tester"]
		return len(m.Emails) > 0 && m.Emails[0].Value == "ada.lovelace@example.org"
	})
	ldap.modify(t, "dn: uid=ivy,ou=people,dc=example,dc=org\nchangetype: delete\n")
	waitFor("deleted entry", func(ms map[string]orgsync.Member) bool {
		return ms["Ivy Tester"].Status == orgsync.StatusDeprovisioned
	})
	runs, err := a.st.Runs(ctx, store.RunFilter{Source: "corp-ldap"})
	stop()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) < 4 {
		t.Fatalf("%d runs recorded, want at least 4", len(runs))
	}
	// Runs come newest first.
	first := runs[len(runs)-1]
	if first.Read == nil || first.Read.Kind != orgsync.ReadFull {
		t.Fatalf("first run read %+v, want a full read", first.Read)
	}
	var unchanged, changed int
	for _, r := range runs[:len(runs)-1] {
		if r.Result != orgsync.RunApplied {
			t.Errorf("run %d: %s %s", r.ID, r.Result, r.Error)
		}
		if r.Read == nil || r.Read.Kind != orgsync.ReadIncremental {
			t.Errorf("run %d read %+v, want incremental (full_every is 24h)", r.ID, r.Read)
			continue
		}
		if strings.Contains(r.Read.Reason, "nothing changed") {
			unchanged++
		} else {
			changed++
		}
	}
	if unchanged == 0 || changed < 2 {
		t.Errorf("%d runs with nothing changed and %d with changes, want at least 1 and 2", unchanged, changed)
	}
	t.Logf("%d scheduled runs: 1 full, %d incremental with changes, %d with nothing changed", len(runs), changed, unchanged)
}
