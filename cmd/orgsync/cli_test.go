package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/admin"
	"github.com/orgsync/orgsync/internal/buildinfo"
)

// cli runs the CLI in dir and returns its exit code and streams.
func cli(t *testing.T, cfg string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"--config", cfg}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// writeConfig writes a config using a fresh SQLite database in a temp dir.
func writeConfig(t *testing.T, extra string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "orgsync.yaml")
	body := "database: {driver: sqlite, dsn: " + filepath.Join(dir, "orgsync.db") + "}\n" +
		"server: {listen: 127.0.0.1:0, admin_token: admin-token-for-tests-123}\n" +
		"log: {level: error, format: json}\n" +
		"orgs:\n  - {id: acme, name: Acme}\n  - {id: beta, name: Beta}\n" + extra
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTokensCreatePrintsTheTokenAlone(t *testing.T) {
	cfg := writeConfig(t, "")
	code, out, errOut := cli(t, cfg, "tokens", "create", "--org", "acme", "--description", "jumpcloud", "--ttl", "90d")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	token := strings.TrimSpace(out)
	if strings.Count(out, "\n") != 1 || !strings.HasPrefix(token, "osk_") || len(token) < 40 {
		t.Fatalf("stdout = %q, want the token alone", out)
	}
	if !strings.Contains(errOut, "shown only this once") || strings.Contains(errOut, token) {
		t.Fatalf("stderr = %q", errOut)
	}
	code, out, _ = cli(t, cfg, "tokens", "list", "--format", "json")
	var list []orgsync.Token
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].Description != "jumpcloud" || list[0].ExpiresAt == nil {
		t.Fatalf("tokens list: %d %q", code, out)
	}
	if strings.Contains(out, token) {
		t.Fatal("tokens list shows the token")
	}
	if code, _, _ := cli(t, cfg, "tokens", "revoke", list[0].ID); code != 0 {
		t.Fatalf("revoke exit %d", code)
	}
	if code, _, errOut := cli(t, cfg, "tokens", "revoke", "no-such-id"); code != 1 || !strings.Contains(errOut, "not found") {
		t.Fatalf("revoke unknown: %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, cfg, "tokens", "create", "--org", "nope"); code != 1 || !strings.Contains(errOut, "nope") {
		t.Fatalf("token for unknown org: %d %q", code, errOut)
	}
	if code, _, _ := cli(t, cfg, "tokens", "create"); code != 1 {
		t.Fatalf("--org missing with two orgs: exit %d", code)
	}
}

func TestMembersCommands(t *testing.T) {
	cfg := writeConfig(t, "")
	a := &app{configPath: cfg, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	st, err := a.store(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Apply(context.Background(), orgsync.Plan{Org: "acme", Owner: "corp", Changes: []orgsync.Change{
		{Action: orgsync.ActionProvision, UserName: "alice@example.org", MemberKey: "k1",
			Member: &orgsync.Member{UserName: "alice@example.org", Emails: []orgsync.Email{{Value: "alice@example.org", Primary: true}}}},
		{Action: orgsync.ActionProvision, UserName: "bob@example.org", MemberKey: "k2", Member: &orgsync.Member{UserName: "bob@example.org"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	bob, _ := st.Member(context.Background(), "acme", "bob@example.org")
	st.Apply(context.Background(), orgsync.Plan{Org: "acme", Owner: "corp", Changes: []orgsync.Change{{Action: orgsync.ActionDeprovision, MemberID: bob.ID}}})
	st.Close()

	code, out, _ := cli(t, cfg, "members", "list", "--org", "acme", "--format", "json")
	var ms []admin.Member
	if code != 0 || json.Unmarshal([]byte(out), &ms) != nil || len(ms) != 2 {
		t.Fatalf("members list: %d %q", code, out)
	}
	if ms[0].UserName != "alice@example.org" || ms[0].Status != "pending_setup" || !ms[0].PendingSetup || ms[0].Email != "alice@example.org" ||
		ms[0].Owner != "corp" || ms[0].ExternalID != "k1" || ms[0].Role != "member" || ms[0].Groups == nil || ms[0].ID == "" {
		t.Fatalf("member json = %+v", ms[0])
	}
	if code, out, _ := cli(t, cfg, "members", "complete-setup", "--org", "acme", "ALICE@example.org"); code != 0 || !strings.Contains(out, "active") {
		t.Fatalf("complete-setup: %d %q", code, out)
	}
	if code, out, _ := cli(t, cfg, "members", "list", "--org", "acme", "--status", "pending_setup"); code != 0 || strings.Contains(out, "alice") {
		t.Fatalf("pending list after setup: %d %q", code, out)
	}
	for _, tc := range []struct{ user, want string }{
		{"bob@example.org", "deprovisioned"},
		{"nobody@example.org", "not found"},
	} {
		code, _, errOut := cli(t, cfg, "members", "complete-setup", "--org", "acme", tc.user)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("complete-setup %s: exit %d, %q", tc.user, code, errOut)
		}
	}
	if code, _, _ := cli(t, cfg, "members", "complete-setup", "--org", "beta", "alice@example.org"); code != 1 {
		t.Errorf("complete-setup across orgs: exit %d", code)
	}
	if code, _, _ := cli(t, cfg, "members", "list", "--org", "acme", "--status", "happy"); code != 1 {
		t.Errorf("bad --status: exit %d", code)
	}
}

func TestConfigValidateExitCodes(t *testing.T) {
	good := writeConfig(t, "")
	if code, out, _ := cli(t, good, "config", "validate"); code != 0 || !strings.Contains(out, "<redacted>") || strings.Contains(out, "admin-token-for-tests-123") {
		t.Fatalf("valid config: %d %q", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("server: {listen: nope}\norgs: [{id: BAD}]\n"), 0o600)
	code, _, errOut := cli(t, bad, "config", "validate")
	if code != 1 || !strings.Contains(errOut, "server.listen") || !strings.Contains(errOut, "orgs[0]") {
		t.Fatalf("invalid config: %d %q", code, errOut)
	}
	want := "orgsync " + buildinfo.Get().String() + "\n"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		if code, out, _ := cli(t, good, args...); code != 0 || out != want || !strings.Contains(out, "commit ") || !strings.Contains(out, "built ") {
			t.Fatalf("%v: %d %q, want %q", args, code, out, want)
		}
	}
}
