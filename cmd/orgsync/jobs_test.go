package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/reconciler"
)

// A scheduled run gets its source's read timeout plus the apply allowance:
// a source allowed a two-hour read is not cut at a fixed run timeout.
func TestJobTimeoutFollowsTheSource(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "orgsync.yaml")
	cfg := `database: {driver: sqlite, dsn: ` + filepath.Join(dir, "o.db") + `}
sources:
  - name: slow
    org: default
    type: scim
    timeout: 2h
    scim: {base_url: "https://idp.example.org/scim/v2", token: t}
  - name: quick
    org: default
    type: scim
    scim: {base_url: "https://idp.example.org/scim/v2", token: t}
`
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	a := &app{stdout: os.Stdout, stderr: os.Stderr, configPath: path}
	jobs, err := a.jobs("")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]time.Duration{}
	for _, j := range jobs {
		got[j.Name] = j.Timeout
	}
	want := map[string]time.Duration{"slow": 2*time.Hour + applyAllowance, "quick": a.cfg.Sources[1].Timeout.TimeDuration() + applyAllowance}
	if got["slow"] != want["slow"] || got["quick"] != want["quick"] || got["quick"] <= applyAllowance {
		t.Errorf("job timeouts %v, want %v", got, want)
	}
}

// holdingFake is an incremental source that keeps and holds its state once
// told to (as ldap.Source does).
type holdingFake struct {
	reconciler.Incremental
	kept bool
}

func (f *holdingFake) Snapshot(context.Context) (orgsync.Snapshot, error) {
	return orgsync.Snapshot{}, nil
}
func (f *holdingFake) KeepDecodedState() { f.kept = true }
func (f *holdingFake) HeldState() string {
	if f.kept {
		return "7:00000000000000aa"
	}
	return ""
}

// serve's jobs keep their sources' states, and the runner hears through
// the job's timeout wrapper which state a source holds; a source that
// holds none says so.
func TestJobsPassHeldState(t *testing.T) {
	f := &holdingFake{}
	plain := &holdingFake{}
	jobs := []sourceJob{
		{Job: reconciler.Job{Name: "held", Source: timedIncremental{timedSource{Source: f, timeout: time.Minute}}}},
		{Job: reconciler.Job{Name: "plain", Source: timedSource{Source: struct{ reconciler.Source }{plain}, timeout: time.Minute}}},
	}
	h, ok := jobs[0].Job.Source.(reconciler.StateHolder)
	if !ok || h.HeldState() != "" {
		t.Fatal("the wrapper of an incremental source does not pass HeldState through")
	}
	keepDecodedStates(jobs)
	if got := h.HeldState(); !f.kept || got != "7:00000000000000aa" {
		t.Fatalf("after keepDecodedStates: kept %v, HeldState %q", f.kept, got)
	}
	if _, ok := jobs[1].Job.Source.(reconciler.StateHolder); ok {
		t.Fatal("a source that is not incremental says it holds a state")
	}
}
