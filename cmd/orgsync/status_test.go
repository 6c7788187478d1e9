package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

func TestStatus(t *testing.T) {
	cfg := writeConfig(t, `sources:
  - name: corp-ldap
    org: acme
    type: ldap
    schedule: "@every 1h"
    ldap: {url: "ldap://127.0.0.1:1", bind_dn: cn=x, bind_password: x, user: {base_dn: "ou=people"}}
  - name: by-hand
    org: beta
    type: ldap
    ldap: {url: "ldap://127.0.0.1:1", bind_dn: cn=x, bind_password: x, user: {base_dn: "ou=people"}}
`)
	st := configStore(t, cfg)
	ctx := context.Background()
	now := time.Now().UTC()
	id, err := st.RecordRun(ctx, orgsync.Run{Org: "acme", Source: "corp-ldap", StartedAt: now.Add(-time.Minute), FinishedAt: now,
		Result: orgsync.RunBlocked, Guard: orgsync.Decision{Blocked: true, Reason: "40 deprovisions exceed guard.max_deprovision (25)"},
		Summary: orgsync.Summary{orgsync.ActionDeprovision: 40}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.CreateToken(ctx, "acme", "okta-soon", 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	_, later, err := st.CreateToken(ctx, "acme", "okta-later", 60*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a@x", "b@x"} {
		if _, err := st.SCIMCreateMember(ctx, "acme", orgsync.Member{UserName: n}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	code, out, errOut := cli(t, cfg, "status")
	if code != 0 {
		t.Fatalf("status: %d %s", code, errOut)
	}
	for _, want := range []string{
		"corp-ldap", "blocked", "review it: orgsync runs show", "orgsync runs approve ",
		"by hand only", "okta-soon", "acme: 2 (of 2 pending_setup, 0 active, 0 deprovisioned)", "beta: 0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "okta-later") || strings.Contains(out, later.ID) {
		t.Errorf("a token expiring in 60 days is listed:\n%s", out)
	}
	code, out, _ = cli(t, cfg, "status", "--format", "json")
	var s status
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil {
		t.Fatalf("status json: %d %s", code, out)
	}
	if len(s.Sources) != 2 || !s.Sources[0].Blocked || s.Sources[0].LastRun == nil || s.Sources[0].LastRun.ID != id ||
		s.Sources[0].NextRun == nil || s.Sources[1].NextRun != nil || s.Sources[1].LastRun != nil {
		t.Errorf("sources = %+v", s.Sources)
	}
	if len(s.Expiring) != 1 || s.Expiring[0].Description != "okta-soon" || s.PendingSetup["acme"] != 2 {
		t.Errorf("status = %+v", s)
	}
}

// TestLastSuccessSurvivesARestart: serve's last-success gauge starts from
// the recorded runs, not empty.
func TestLastSuccessSurvivesARestart(t *testing.T) {
	cfg := writeConfig(t, "")
	st := configStore(t, cfg)
	ctx := context.Background()
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	for i, r := range []orgsync.Run{
		{Org: "acme", Source: "corp-ldap", Result: orgsync.RunApplied, FinishedAt: at.Add(-time.Hour)},
		{Org: "acme", Source: "corp-ldap", Result: orgsync.RunApplied, FinishedAt: at},
		{Org: "acme", Source: "corp-ldap", Result: orgsync.RunFailed, FinishedAt: at.Add(time.Hour)},
		{Org: "beta", Source: "idp", Result: orgsync.RunBlocked, FinishedAt: at},
	} {
		r.StartedAt = r.FinishedAt.Add(-time.Second)
		if _, err := st.RecordRun(ctx, r); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	st.Close()
	base, _, stop := startServe(t, cfg)
	defer stop()
	_, metrics := do(t, "GET", base+"/metrics", "", "")
	want := `orgsync_reconcile_last_success_timestamp_seconds{source="corp-ldap"} ` + strconv.FormatFloat(float64(at.Unix()), 'g', -1, 64)
	if !strings.Contains(metrics, want) {
		t.Errorf("/metrics lacks %s:\n%s", want, grepLines(metrics, "last_success"))
	}
	if strings.Contains(metrics, `last_success_timestamp_seconds{source="idp"}`) {
		t.Error("a source that never applied has a last success")
	}
}

// TestServePrunesOldRuns: serve applies database.retention at start.
func TestServePrunesOldRuns(t *testing.T) {
	cfg := writeConfig(t, "")
	st := configStore(t, cfg)
	ctx := context.Background()
	old := time.Now().UTC().Add(-200 * 24 * time.Hour)
	for _, at := range []time.Time{old, time.Now().UTC()} {
		if _, err := st.RecordRun(ctx, orgsync.Run{Org: "acme", Source: "corp-ldap", Result: orgsync.RunApplied, StartedAt: at, FinishedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	_, a, stop := startServe(t, cfg)
	defer stop()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		runs, err := a.st.Runs(ctx, store.RunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == 1 && runs[0].FinishedAt.After(old.Add(time.Hour)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("runs after serve's start: %d, want the recent one only", len(runs))
		}
	}
}
