package main

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orgsync/orgsync/store"
)

// buildBinary builds orgsync once for tests that need a real process.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "orgsync")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestKilledDuringApplyConverges SIGKILLs `orgsync reconcile` at random
// points while it provisions a large directory, then checks that the next
// run converges: every user exactly once, nothing half-applied, and the run
// after it plans nothing.
func TestKilledDuringApplyConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary and a 20k-user directory")
	}
	dir := t.TempDir()
	ldif := filepath.Join(dir, "big.ldif")
	gen := exec.Command("go", "run", "../../tools/ldifgen", "-mode", "bench", "-users", "20000", "-groups", "100", "-members", "200")
	out, err := gen.Output()
	if err != nil {
		t.Fatalf("ldifgen: %v", err)
	}
	os.WriteFile(ldif, out, 0o600)
	// Users disabled at the source are not provisioned.
	users := strings.Count(string(out), "objectClass: inetOrgPerson") - strings.Count(string(out), "employeeType: disabled")
	ldap := startSlapd(t, ldif)
	cfg := ldapConfigRoles(t, ldap.url, "{max_deprovision: 0, max_deprovision_percent: 0}", "{}")
	bin := buildBinary(t)

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	kills := 0
	for i := 0; i < 4; i++ {
		cmd := exec.Command(bin, "--config", cfg, "reconcile", "--format", "json")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(300+rng.IntN(3500)) * time.Millisecond
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done: // finished before the kill: fine, the loop goes on
		case <-time.After(delay):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			kills++
		}
		checkConsistent(t, cfg)
	}
	t.Logf("killed %d of 4 runs", kills)
	if code, _, errOut := cli(t, cfg, "reconcile"); code != 0 {
		t.Fatalf("reconcile after the kills: exit %d %s", code, errOut)
	}
	ms := members(t, cfg)
	keys := map[string]bool{}
	for _, m := range ms {
		if keys[m.ExternalID] {
			t.Fatalf("external id %s held twice", m.ExternalID)
		}
		keys[m.ExternalID] = true
	}
	if len(ms) != users {
		t.Fatalf("%d members after convergence, want %d", len(ms), users)
	}
	if code, out, _ := cli(t, cfg, "plan", "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan after convergence: exit %d\n%s", code, out)
	}
}

// checkConsistent verifies the SQLite file and that a plan is either
// wholly applied or not at all: every provisioned member has its group
// memberships and its event.
func checkConsistent(t *testing.T, cfg string) {
	t.Helper()
	st := configStore(t, cfg)
	defer st.Close()
	db := configDB(t, cfg)
	defer db.Close()
	var integrity string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %s, %v", integrity, err)
	}
	members := count(t, db, "SELECT COUNT(*) FROM members")
	created := count(t, db, "SELECT COUNT(*) FROM events WHERE kind = 'member.created'")
	memberships := count(t, db, "SELECT COUNT(*) FROM group_members")
	if members != created || (members > 0 && memberships == 0) {
		t.Fatalf("half-applied plan: %d members, %d created events, %d memberships", members, created, memberships)
	}
	runs, _ := st.Runs(context.Background(), store.RunFilter{})
	for _, r := range runs {
		if r.Result == "" || strings.TrimSpace(string(r.Result)) == "" {
			t.Fatalf("run without result: %+v", r)
		}
	}
}
