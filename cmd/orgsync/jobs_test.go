package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
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
