package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orgsync/orgsync/internal/kmsfake"
)

// TestKilledTargetRunMakesNoDuplicates SIGKILLs `orgsync reconcile
// --target` while it provisions into a slow KMS, then checks that the next
// run converges with every user in the KMS exactly once.
func TestKilledTargetRunMakesNoDuplicates(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary and a 2k-user directory")
	}
	dir := t.TempDir()
	ldif := filepath.Join(dir, "big.ldif")
	out, err := exec.Command("go", "run", "../../tools/ldifgen", "-mode", "bench", "-users", "2000", "-groups", "20", "-members", "100").Output()
	if err != nil {
		t.Fatalf("ldifgen: %v", err)
	}
	os.WriteFile(ldif, out, 0o600)
	ldap := startSlapd(t, ldif)
	kms := newKMS(t, kmsfake.Options{Latency: 4 * time.Millisecond})
	cfg := targetConfig(t, ldap.url, kms.URL, "")
	if code, _, errOut := cli(t, cfg, "reconcile"); code != 0 {
		t.Fatalf("source reconcile: %d %s", code, errOut)
	}
	want := len(members(t, cfg))
	for _, m := range members(t, cfg) {
		if m.Status == "deprovisioned" {
			want-- // never provisioned into the KMS
		}
	}
	bin := buildBinary(t)
	kills := 0
	for _, at := range []int{200, 900} {
		cmd := exec.Command(bin, "--config", cfg, "reconcile", "--target", "kms")
		cmd.Env = os.Environ()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		deadline := time.After(60 * time.Second)
	wait:
		for {
			select {
			case <-done:
				break wait
			case <-deadline:
				t.Fatal("the target run neither finished nor got far enough")
			case <-time.After(5 * time.Millisecond):
				if len(kms.Users()) >= at {
					cmd.Process.Signal(syscall.SIGKILL)
					<-done
					kills++
					break wait
				}
			}
		}
	}
	if kills == 0 {
		t.Fatal("no run was killed mid-apply")
	}
	if code, out, errOut := cli(t, cfg, "reconcile", "--target", "kms"); code != 0 {
		t.Fatalf("target run after the kills: %d\n%s\n%s", code, out, errOut)
	}
	names := map[string]int{}
	for _, u := range kms.Users() {
		names[strings.ToLower(u.UserName)]++
	}
	for n, c := range names {
		if c > 1 {
			t.Fatalf("%s is in the KMS %d times", n, c)
		}
	}
	if len(names) != want || kms.Invites() != want {
		t.Fatalf("%d KMS users, %d invitations; want %d of each", len(names), kms.Invites(), want)
	}
	if code, out, _ := cli(t, cfg, "plan", "--target", "kms", "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan after converging: exit %d\n%s", code, out)
	}
}
