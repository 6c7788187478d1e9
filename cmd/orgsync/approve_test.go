package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// newestRun returns the newest recorded run.
func newestRun(t *testing.T, cfg string) orgsync.Run {
	t.Helper()
	code, out, errOut := cli(t, cfg, "runs", "list", "--limit", "1", "--format", "json")
	var runs []orgsync.Run
	if code != 0 || json.Unmarshal([]byte(out), &runs) != nil || len(runs) != 1 {
		t.Fatalf("runs list: %d %s %s", code, out, errOut)
	}
	return runs[0]
}

func addPerson(t *testing.T, ldap *slapdServer, uid string) {
	t.Helper()
	ldap.modify(t, fmt.Sprintf("dn: uid=%s,ou=people,dc=example,dc=org\nchangetype: add\nobjectClass: inetOrgPerson\nuid: %[1]s\ncn: %[1]s\nsn: Tester\nmail: %[1]s@example.org\n", uid))
}

// TestRunsApprove: a run a guard blocked is approved by its id, with the
// CLI or the admin API of a real serve, and its recorded plan is applied
// while the directory and the org still give it; a stale one is refused
// (exit 5, 409 "stale"), and so is a second approval. Each approval is a
// run of its own, linked to the blocked one, naming who approved it. A
// small org is not blocked by a percentage alone.
func TestRunsApprove(t *testing.T) {
	ldap := startSlapd(t, "testdata/e2e.ldif")
	cfg := ldapConfig(t, ldap.url, "{}")
	if code, _, errOut := cli(t, cfg, "reconcile"); code != 0 {
		t.Fatalf("first reconcile: %d %s", code, errOut)
	}
	for _, u := range []string{"eli", "dee"} {
		ldap.modify(t, "dn: uid="+u+",ou=people,dc=example,dc=org\nchangetype: delete\n")
	}
	if code, _, _ := cli(t, cfg, "reconcile"); code != 3 {
		t.Fatalf("20%% deprovisions: exit %d, want 3", code)
	}
	stale := newestRun(t, cfg)
	if stale.Result != orgsync.RunBlocked || stale.Digest == nil {
		t.Fatalf("blocked run: %+v", stale)
	}
	ldap.modify(t, "dn: uid=ben,ou=people,dc=example,dc=org\nchangetype: modify\nreplace: cn\ncn: Benjamin Tester\n")
	if code, _, _ := cli(t, cfg, "reconcile"); code != 3 {
		t.Fatalf("second blocked run: exit %d", code)
	}
	current := newestRun(t, cfg)
	staleID, currentID := strconv.FormatInt(stale.ID, 10), strconv.FormatInt(current.ID, 10)

	if code, _, errOut := cli(t, cfg, "runs", "approve", staleID); code != exitStale || !strings.Contains(errOut, "the source changed") {
		t.Fatalf("approve a stale run: %d %s", code, errOut)
	}
	if m := members(t, cfg)["eli@example.org"]; m.Status == orgsync.StatusDeprovisioned {
		t.Fatal("a stale approval applied its plan")
	}
	code, out, errOut := cli(t, cfg, "runs", "approve", currentID)
	if code != 0 || !strings.Contains(out, "deprovision") {
		t.Fatalf("approve the current run: %d\n%s\n%s", code, out, errOut)
	}
	approval := newestRun(t, cfg)
	if approval.Approves != current.ID || approval.Actor != "cli" || approval.Result != orgsync.RunApplied || !approval.Guard.Forced {
		t.Errorf("approval recorded as %+v", approval)
	}
	if ms := members(t, cfg); ms["eli@example.org"].Status != orgsync.StatusDeprovisioned || ms["ben@example.org"].DisplayName != "Benjamin Tester" {
		t.Errorf("after the approval: eli %s, ben %q", ms["eli@example.org"].Status, ms["ben@example.org"].DisplayName)
	}
	if _, out, _ := cli(t, cfg, "runs", "show", strconv.FormatInt(approval.ID, 10)); !strings.Contains(out, "approves run "+currentID+" (approved by cli)") {
		t.Errorf("runs show of the approval:\n%s", out)
	}
	if _, out, _ := cli(t, cfg, "runs", "show", staleID); !strings.Contains(out, "orgsync runs approve "+staleID) {
		t.Errorf("runs show of a blocked run does not say how to approve it:\n%s", out)
	}
	if code, _, errOut := cli(t, cfg, "runs", "approve", currentID); code != 1 || !strings.Contains(errOut, "approved already") {
		t.Errorf("second approval: %d %s", code, errOut)
	}
	appliedID := strconv.FormatInt(approval.ID, 10)
	if code, _, errOut := cli(t, cfg, "runs", "approve", appliedID); code != 1 || !strings.Contains(errOut, "not blocked") {
		t.Errorf("approve an applied run: %d %s", code, errOut)
	}
	for _, bad := range []string{"0", "x", "9999"} {
		if code, _, _ := cli(t, cfg, "runs", "approve", bad); code != 1 {
			t.Errorf("approve %s: exit %d", bad, code)
		}
	}

	// 8 active members: losing one is 12.5 %, yet 8 is below
	// guard.percent_min_count (10): not blocked by the share alone.
	ldap.modify(t, "dn: uid=fay,ou=people,dc=example,dc=org\nchangetype: delete\n")
	if code, _, errOut := cli(t, cfg, "reconcile"); code != 0 {
		t.Fatalf("small org losing one member: exit %d, want 0\n%s", code, errOut)
	}
	// Grown to 10, losing 2 is 20 %: blocked, and approved through serve.
	for _, u := range []string{"kai", "lou", "max"} {
		addPerson(t, ldap, u)
	}
	if code, _, errOut := cli(t, cfg, "reconcile"); code != 0 {
		t.Fatal(errOut)
	}
	for _, u := range []string{"kai", "lou"} {
		ldap.modify(t, "dn: uid="+u+",ou=people,dc=example,dc=org\nchangetype: delete\n")
	}
	if code, _, _ := cli(t, cfg, "reconcile"); code != 3 {
		t.Fatalf("2 of 10: exit %d, want 3", code)
	}
	blocked := newestRun(t, cfg)
	base, _, stop := startServe(t, cfg)
	defer stop()
	url := func(id int64) string { return fmt.Sprintf("%s/api/v1/runs/%d/approve", base, id) }

	if code, _ := do(t, "POST", url(blocked.ID), "", ""); code != 401 {
		t.Errorf("approve without the admin token: %d", code)
	}
	code, body := do(t, "POST", url(stale.ID), testAdminToken, "")
	if code != 409 || !strings.Contains(body, `"reason":"stale"`) || !strings.Contains(body, "changed") {
		t.Errorf("approve a stale run: %d %s", code, body)
	}
	if code, body := do(t, "POST", url(blocked.ID), testAdminToken, `{"bogus": true}`); code != 400 {
		t.Errorf("approve with an unknown body key: %d %s", code, body)
	}
	if code, body := do(t, "POST", url(424242), testAdminToken, ""); code != 404 {
		t.Errorf("approve an unknown run: %d %s", code, body)
	}
	code, body = do(t, "POST", url(blocked.ID), testAdminToken, `{"allow_empty": false}`)
	var rec orgsync.Run
	if code != 200 || json.Unmarshal([]byte(body), &rec) != nil || rec.Approves != blocked.ID || rec.Actor != "admin-api" ||
		rec.Result != orgsync.RunApplied || rec.Applied == nil || rec.Applied.Counts[orgsync.ActionDeprovision] != 2 {
		t.Fatalf("approve through the API: %d %s", code, body)
	}
	if code, body := do(t, "POST", url(blocked.ID), testAdminToken, ""); code != 409 || !strings.Contains(body, `"reason":"conflict"`) {
		t.Errorf("second approval through the API: %d %s", code, body)
	}
	if code, body := do(t, "GET", fmt.Sprintf("%s/api/v1/runs/%d", base, rec.ID), testAdminToken, ""); code != 200 ||
		!strings.Contains(body, fmt.Sprintf(`"approves":%d`, blocked.ID)) || !strings.Contains(body, `"digest"`) {
		t.Errorf("the approval's record: %d %s", code, body)
	}
}

// TestApproveScheduledRun: a run the scheduler of a real serve ran and a
// guard blocked is approved through the admin API; the next scheduled run
// has nothing left to do.
func TestApproveScheduledRun(t *testing.T) {
	ldap := startSlapd(t, "testdata/e2e.ldif")
	cfg := ldapConfig(t, ldap.url, "{}")
	if code, _, errOut := cli(t, cfg, "reconcile"); code != 0 {
		t.Fatalf("first reconcile: %d %s", code, errOut)
	}
	for _, u := range []string{"eli", "dee"} {
		ldap.modify(t, "dn: uid="+u+",ou=people,dc=example,dc=org\nchangetype: delete\n")
	}
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(b), "    guard: {}\n", "    guard: {}\n    schedule: \"@every 1s\"\n", 1)), 0o600)
	base, a, stop := startServe(t, cfg)
	defer stop()

	var blocked orgsync.Run
	deadline := time.Now().Add(20 * time.Second)
	for blocked.ID == 0 && time.Now().Before(deadline) {
		runs, err := a.st.Runs(context.Background(), store.RunFilter{Source: "corp-ldap", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			if r.Result == orgsync.RunBlocked && r.Digest != nil {
				blocked = r
				break
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if blocked.ID == 0 {
		t.Fatal("no scheduled run was blocked")
	}
	code, body := do(t, "POST", fmt.Sprintf("%s/api/v1/runs/%d/approve", base, blocked.ID), testAdminToken, "")
	var rec orgsync.Run
	if code != 200 || json.Unmarshal([]byte(body), &rec) != nil || rec.Approves != blocked.ID || rec.Applied.Counts[orgsync.ActionDeprovision] != 2 {
		t.Fatalf("approve the scheduled run %d: %d %s", blocked.ID, code, body)
	}
	// The scheduler goes on: its next runs plan nothing.
	deadline = time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		runs, err := a.st.Runs(context.Background(), store.RunFilter{Source: "corp-ldap", Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if r := runs[0]; r.ID > rec.ID {
			if r.Result != orgsync.RunApplied || changes(r.Summary) != 0 {
				t.Errorf("scheduled run after the approval: %+v", r)
			}
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Error("no scheduled run after the approval")
}
