package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
)

func readPlanJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("plan file is not JSON: %v\n%s", err, b)
	}
	return f
}

// TestPlanFile: `plan -out FILE` saves one source's plan with its digests;
// `reconcile FILE` applies exactly that plan, under the overrides it was
// planned with, and refuses (exit 5, nothing applied) once the directory or
// the org changed, or the file was edited.
func TestPlanFile(t *testing.T) {
	ldap := startSlapd(t, "testdata/e2e.ldif")
	cfg := ldapConfig(t, ldap.url, "{}")
	if code, _, errOut := cli(t, cfg, "reconcile"); code != 0 {
		t.Fatalf("first reconcile: %d %s", code, errOut)
	}
	dir := t.TempDir()
	plan := filepath.Join(dir, "deprovision.plan")
	for _, u := range []string{"eli", "dee"} {
		ldap.modify(t, "dn: uid="+u+",ou=people,dc=example,dc=org\nchangetype: delete\n")
	}

	// 2 of 10 is 20 %: terraform's spelling, -out, and the override.
	code, out, errOut := cli(t, cfg, "plan", "-out", plan, "--max-deprovision", "2")
	if code != 0 || !strings.Contains(errOut, "orgsync reconcile "+plan) || !strings.Contains(out, "deprovision") {
		t.Fatalf("plan -out: %d\n%s\n%s", code, out, errOut)
	}
	if fi, err := os.Stat(plan); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("plan file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	f := readPlanJSON(t, plan)
	digest, _ := f["digest"].(map[string]any)
	if f["format"] != "orgsync-plan" || f["format_version"] != 1.0 || f["source"] != "corp-ldap" || f["org"] != "acme" ||
		f["orgsync_version"] == "" || f["created_at"] == nil || !strings.HasPrefix(digest["source"].(string), "sha256:") ||
		!strings.HasPrefix(digest["store"].(string), "sha256:") || !strings.HasPrefix(digest["plan"].(string), "sha256:") {
		t.Fatalf("plan file header: %v", f)
	}
	if o, _ := f["overrides"].(map[string]any); o["max_deprovision"] != 2.0 {
		t.Errorf("overrides = %v, want max_deprovision 2", f["overrides"])
	}
	if s, _ := f["summary"].(map[string]any); s["deprovision"] != 2.0 {
		t.Errorf("summary = %v", f["summary"])
	}

	// Without the override the same plan is blocked; the file shows it is
	// not: its override is recorded.
	blocked := filepath.Join(dir, "blocked.plan")
	if code, _, errOut := cli(t, cfg, "plan", "--out="+blocked); code != 0 {
		t.Fatalf("plan --out=: %d %s", code, errOut)
	}
	if code, _, errOut := cli(t, cfg, "reconcile", blocked); code != 3 || !strings.Contains(errOut, "max_deprovision_percent") {
		t.Fatalf("reconcile of a plan a guard blocks: %d %s", code, errOut)
	}
	if code, _, errOut := cli(t, cfg, "reconcile", plan, "--max-deprovision", "5"); code != 1 || !strings.Contains(errOut, "does not go with a plan FILE") {
		t.Errorf("reconcile FILE --max-deprovision: %d %s", code, errOut)
	}

	// An edited file is refused.
	b, _ := os.ReadFile(plan)
	edited := filepath.Join(dir, "edited.plan")
	os.WriteFile(edited, []byte(strings.Replace(string(b), `"user_name": "eli@example.org"`, `"user_name": "ada@example.org"`, 1)), 0o600)
	if code, _, errOut := cli(t, cfg, "reconcile", edited); code != 1 || !strings.Contains(errOut, "edited") {
		t.Errorf("reconcile of an edited plan: %d %s", code, errOut)
	}
	if code, _, errOut := cli(t, cfg, "reconcile", filepath.Join(dir, "missing.plan")); code != 1 {
		t.Errorf("reconcile of a missing file: %d %s", code, errOut)
	}

	// The org changes: the plan is stale.
	storeStale := filepath.Join(dir, "store-stale.plan")
	if code, _, errOut := cli(t, cfg, "plan", "-out", storeStale, "--max-deprovision", "2"); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := cli(t, cfg, "members", "complete-setup", "--org", "acme", "ada@example.org"); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut = cli(t, cfg, "reconcile", storeStale)
	if code != exitStale || !strings.Contains(errOut, "stale plan") || !strings.Contains(errOut, "changed in the store") || out != "" {
		t.Fatalf("reconcile of a plan whose org changed: %d\n%s\n%s", code, out, errOut)
	}
	if m := members(t, cfg)["eli@example.org"]; m.Status == orgsync.StatusDeprovisioned {
		t.Fatal("a stale plan was applied")
	}

	// The directory changes: stale too.
	srcStale := filepath.Join(dir, "source-stale.plan")
	if code, _, errOut := cli(t, cfg, "plan", "-out", srcStale, "--max-deprovision", "2"); code != 0 {
		t.Fatal(errOut)
	}
	ldap.modify(t, "dn: uid=ben,ou=people,dc=example,dc=org\nchangetype: modify\nreplace: cn\ncn: Benjamin Tester\n")
	if code, _, errOut := cli(t, cfg, "reconcile", srcStale); code != exitStale || !strings.Contains(errOut, "the source changed") {
		t.Fatalf("reconcile of a plan whose source changed: %d %s", code, errOut)
	}

	// A current plan is applied, exactly: the two deprovisions.
	current := filepath.Join(dir, "current.plan")
	if code, _, errOut := cli(t, cfg, "plan", "-out", current, "--max-deprovision", "2"); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut = cli(t, cfg, "reconcile", current, "--format", "json")
	if code != 0 {
		t.Fatalf("reconcile of a current plan: %d\n%s\n%s", code, out, errOut)
	}
	r := parseReport(t, out)
	if !r.Runs[0].Applied || strings.Join(changeSet(r), ",") != "deprovision dee@example.org,deprovision eli@example.org,update ben@example.org" {
		t.Errorf("applied %v: %v", r.Runs[0].Applied, changeSet(r))
	}
	ms := members(t, cfg)
	if ms["eli@example.org"].Status != orgsync.StatusDeprovisioned || ms["dee@example.org"].Status != orgsync.StatusDeprovisioned {
		t.Errorf("after reconcile FILE: eli %s, dee %s", ms["eli@example.org"].Status, ms["dee@example.org"].Status)
	}
	// Applied once: the org changed, so the same file is stale now.
	if code, _, errOut := cli(t, cfg, "reconcile", current); code != exitStale {
		t.Errorf("a plan file applied twice: %d %s", code, errOut)
	}
}

// TestPlanOutNeedsOneSource: a plan file holds one source's plan.
func TestPlanOutNeedsOneSource(t *testing.T) {
	cfg := writeConfig(t, `sources:
  - {name: one, org: acme, type: scim, scim: {base_url: "http://127.0.0.1:1/scim/v2", token: t}}
  - {name: two, org: acme, type: scim, scim: {base_url: "http://127.0.0.1:1/scim/v2", token: t}}
`)
	out := filepath.Join(t.TempDir(), "p")
	if code, _, errOut := cli(t, cfg, "plan", "-out", out); code != 1 || !strings.Contains(errOut, "pass --source") {
		t.Errorf("plan -out with two sources: %d %s", code, errOut)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a plan file was written")
	}
}

func TestTerraformFlags(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plan -out f", "plan --out f"},
		{"plan -out=f --source s", "plan --out=f --source s"},
		{"plan --out f", "plan --out f"},
		{"plan -- -out", "plan -- -out"},
		{"plan -outx", "plan -outx"},
	} {
		if got := strings.Join(terraformFlags(strings.Fields(tt.in)), " "); got != tt.want {
			t.Errorf("%q → %q, want %q", tt.in, got, tt.want)
		}
	}
}
