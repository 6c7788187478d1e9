package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/testenv"
	"github.com/orgsync/orgsync/store"
)

// slapdServer is a throwaway slapd of this test's own (the shared one of
// scripts/test.sh must not be changed under other packages' tests).
type slapdServer struct {
	url, dir string
	stopped  bool
}

// startSlapd starts a slapd loaded with ldifs on a free loopback port pair.
func startSlapd(t *testing.T, ldifs ...string) *slapdServer {
	t.Helper()
	return startSlapdEnv(t, nil, ldifs...)
}

// startSlapdEnv is startSlapd with scripts/slapd.sh's environment
// (SLAPD_SYNCPROV, SLAPD_SESSIONLOG).
func startSlapdEnv(t *testing.T, env []string, ldifs ...string) *slapdServer {
	t.Helper()
	testenv.Require(t, testenv.LDAPURLVar) // scripts/test.sh has installed slapd
	dir := filepath.Join(t.TempDir(), "slapd")
	port := freePortPair(t)
	args := append([]string{"start", dir, fmt.Sprint(port)}, ldifs...)
	cmd := exec.Command("../../scripts/slapd.sh", args...)
	cmd.Env = append(cmd.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("start slapd: %v\n%s", err, out)
	}
	s := &slapdServer{url: fmt.Sprintf("ldap://127.0.0.1:%d", port), dir: dir}
	t.Cleanup(s.stop)
	return s
}

func (s *slapdServer) stop() {
	if !s.stopped {
		s.stopped = true
		exec.Command("../../scripts/slapd.sh", "stop", s.dir).Run()
	}
}

// modify applies LDIF change records as the directory manager.
func (s *slapdServer) modify(t *testing.T, ldif string) {
	t.Helper()
	cmd := exec.Command("ldapmodify", "-x", "-H", s.url, "-D", "cn=admin,dc=example,dc=org", "-w", "admin")
	cmd.Stdin = strings.NewReader(ldif)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ldapmodify: %v\n%s", err, out)
	}
}

func freePortPair(t *testing.T) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port >= 65534 {
			continue
		}
		if l2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+1)); err == nil {
			l2.Close()
			return port
		}
	}
	t.Fatal("no free port pair")
	return 0
}

// ldapConfig is a config with one LDAP source reading url.
func ldapConfig(t *testing.T, url string, guard string) string {
	return ldapConfigRoles(t, url, guard, `{"cn=kms-admins,ou=groups,dc=example,dc=org": admin}`)
}

func ldapConfigRoles(t *testing.T, url, guard, roleMap string) string {
	return writeConfig(t, `sources:
  - name: corp-ldap
    org: acme
    type: ldap
    guard: `+guard+`
    ldap:
      url: `+url+`
      bind_dn: cn=sync,dc=example,dc=org
      bind_password: sync
      user:
        base_dn: ou=people,dc=example,dc=org
        disabled_filter: (employeeType=disabled)
      group:
        base_dn: ou=groups,dc=example,dc=org
        nested: true
      role_map: `+roleMap+`
`)
}

type jsonReport struct {
	Runs []struct {
		Source  string         `json:"source"`
		Summary map[string]int `json:"summary"`
		Changes []struct {
			Action   string                       `json:"action"`
			UserName string                       `json:"user_name"`
			Group    string                       `json:"group"`
			Fields   map[string]map[string]string `json:"fields"`
		} `json:"changes"`
		Guard struct {
			Blocked bool   `json:"blocked"`
			Reason  string `json:"reason"`
		} `json:"guard"`
		Applied bool `json:"applied"`
	} `json:"runs"`
}

func parseReport(t *testing.T, out string) jsonReport {
	t.Helper()
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Runs) != 1 {
		t.Fatalf("report is not the JSON contract (%v):\n%s", err, out)
	}
	return r
}

// changeSet lists a report's changes as sorted "action user group" lines.
func changeSet(r jsonReport) []string {
	var out []string
	for _, c := range r.Runs[0].Changes {
		out = append(out, strings.TrimSpace(c.Action+" "+c.UserName+" "+c.Group))
	}
	sort.Strings(out)
	return out
}

// configStore opens the store of config file cfg as the CLI does (a fresh
// one each call: app caches its store); the caller closes it.
func configStore(t *testing.T, cfg string) *store.Store {
	t.Helper()
	st, err := (&app{configPath: cfg, stdout: os.Stdout, stderr: os.Stderr}).store(context.Background())
	if err != nil {
		t.Fatalf("open the store of %s: %v", cfg, err)
	}
	return st
}

func members(t *testing.T, cfg string) map[string]orgsync.Member {
	t.Helper()
	st := configStore(t, cfg)
	defer st.Close()
	ms, err := st.Members(context.Background(), "acme", store.MemberFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]orgsync.Member{}
	for _, m := range ms {
		if _, dup := out[m.UserName]; dup {
			t.Fatalf("duplicate member %s", m.UserName)
		}
		out[m.UserName] = m
	}
	return out
}

func TestEndToEndLDAPReconcile(t *testing.T) {
	ldap := startSlapd(t, "testdata/e2e.ldif")
	cfg := ldapConfig(t, ldap.url, "{max_deprovision: 2, max_deprovision_percent: 25}")

	// A member pushed by an IdP lives beside the directory's.
	st := configStore(t, cfg)
	if _, err := st.Apply(context.Background(), orgsync.Plan{Org: "acme", Owner: orgsync.OwnerSCIM, Changes: []orgsync.Change{
		{Action: orgsync.ActionProvision, UserName: "pushed@example.org", MemberKey: "idp-1", Member: &orgsync.Member{UserName: "pushed@example.org"}}}}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// First reconcile provisions everyone as pending_setup.
	code, out, errOut := cli(t, cfg, "reconcile", "--format", "json")
	if code != 0 {
		t.Fatalf("first reconcile: exit %d\n%s\n%s", code, out, errOut)
	}
	r := parseReport(t, out)
	if s := r.Runs[0].Summary; s["provision"] != 10 || s["group_create"] != 2 || s["member_add"] != 6 || !r.Runs[0].Applied {
		t.Fatalf("first reconcile summary = %v", s)
	}
	ms := members(t, cfg)
	if len(ms) != 11 || ms["ada@example.org"].Role != "admin" || ms["ben@example.org"].Role != "member" {
		t.Fatalf("members after first reconcile: %v", ms)
	}
	for name, m := range ms {
		if m.Status != orgsync.StatusPendingSetup {
			t.Errorf("%s is %s, want pending_setup", name, m.Status)
		}
	}
	if code, out, _ := cli(t, cfg, "members", "complete-setup", "--org", "acme", "ada@example.org"); code != 0 || !strings.Contains(out, "active") {
		t.Fatalf("complete-setup: %d %s", code, out)
	}
	if code, out, _ := cli(t, cfg, "plan", "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan right after a run: exit %d, want 0 (no changes)\n%s", code, out)
	}

	// Disable a user, remove one from a group, add one, rename one.
	ldap.modify(t, `dn: uid=ben,ou=people,dc=example,dc=org
changetype: modify
add: employeeType
employeeType: disabled

dn: cn=engineering,ou=groups,dc=example,dc=org
changetype: modify
delete: member
member: uid=cy,ou=people,dc=example,dc=org

dn: uid=kim,ou=people,dc=example,dc=org
changetype: add
objectClass: inetOrgPerson
uid: kim
cn: Kim Tester
givenName: Kim
sn: Tester
mail: kim@example.org

dn: uid=dee,ou=people,dc=example,dc=org
changetype: modify
replace: cn
cn: Deirdre Tester
`)
	code, out, _ = cli(t, cfg, "plan", "--format", "json", "--detailed-exitcode")
	if code != 2 {
		t.Fatalf("plan after directory changes: exit %d, want 2\n%s", code, out)
	}
	want := []string{"deprovision ben@example.org", "member_remove cy@example.org engineering", "provision kim@example.org", "update dee@example.org"}
	if got := changeSet(parseReport(t, out)); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("plan = %q\nwant %q", got, want)
	}
	if code, _, errOut := cli(t, cfg, "reconcile"); code != 0 {
		t.Fatalf("reconcile: exit %d %s", code, errOut)
	}
	ms = members(t, cfg)
	if ms["ben@example.org"].Status != orgsync.StatusDeprovisioned || ms["kim@example.org"].Status != orgsync.StatusPendingSetup ||
		ms["dee@example.org"].DisplayName != "Deirdre Tester" || ms["ada@example.org"].Status != orgsync.StatusActive {
		t.Fatalf("after reconcile: ben %s, kim %s, dee %q, ada %s", ms["ben@example.org"].Status, ms["kim@example.org"].Status,
			ms["dee@example.org"].DisplayName, ms["ada@example.org"].Status)
	}
	if code, _, _ := cli(t, cfg, "plan", "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan after applying: exit %d, want 0", code)
	}

	// Deleting 30% of the users trips the guard: exit 3, nothing changes.
	ldap.modify(t, `dn: uid=fay,ou=people,dc=example,dc=org
changetype: delete

dn: uid=gus,ou=people,dc=example,dc=org
changetype: delete

dn: uid=hal,ou=people,dc=example,dc=org
changetype: delete
`)
	before := members(t, cfg)
	code, out, errOut = cli(t, cfg, "reconcile", "--format", "json")
	if code != 3 || !parseReport(t, out).Runs[0].Guard.Blocked || !strings.Contains(errOut, "--force") {
		t.Fatalf("mass deprovision: exit %d, want 3\n%s\n%s", code, out, errOut)
	}
	if after := members(t, cfg); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatal("a blocked run changed members")
	}
	if code, _, _ := cli(t, cfg, "plan", "--detailed-exitcode"); code != 3 {
		t.Fatalf("plan --detailed-exitcode of a blocked plan: exit %d, want 3", code)
	}
	if code, _, errOut := cli(t, cfg, "reconcile", "--force"); code != 0 {
		t.Fatalf("reconcile --force: exit %d %s", code, errOut)
	}
	ms = members(t, cfg)
	for _, n := range []string{"fay", "gus", "hal"} {
		if ms[n+"@example.org"].Status != orgsync.StatusDeprovisioned {
			t.Errorf("%s not deprovisioned after --force", n)
		}
	}
	// The pushed member survived every directory run untouched.
	if p := ms["pushed@example.org"]; p.Owner != orgsync.OwnerSCIM || p.Status != orgsync.StatusPendingSetup || p.Version != 1 {
		t.Fatalf("SCIM member changed by the directory: %+v", p)
	}

	// The directory going away fails the run; nothing is applied, the run is recorded.
	ldap.stop()
	before = members(t, cfg)
	if code, _, errOut := cli(t, cfg, "reconcile"); code != 1 || !strings.Contains(errOut, "corp-ldap") {
		t.Fatalf("reconcile with the directory down: exit %d %s", code, errOut)
	}
	if after := members(t, cfg); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatal("a failed run changed members")
	}
	st = configStore(t, cfg)
	defer st.Close()
	runs, _ := st.Runs(context.Background(), store.RunFilter{Source: "corp-ldap"})
	if len(runs) == 0 || runs[0].Result != orgsync.RunFailed || runs[0].Error == "" {
		t.Fatalf("failed run not recorded: %+v", runs)
	}
	if len(runs) != 5 || runs[2].Result != orgsync.RunBlocked {
		t.Fatalf("runs = %d (%v)", len(runs), runs)
	}
}

func TestCheckCommand(t *testing.T) {
	ldap := startSlapd(t, "testdata/e2e.ldif")
	cfg := ldapConfig(t, ldap.url, "{}")
	code, out, errOut := cli(t, cfg, "check")
	if code != 0 || !strings.Contains(out, "10 users") || !strings.Contains(out, "2 groups") || !strings.Contains(out, "ada@example.org") {
		t.Fatalf("check: exit %d\n%s\n%s", code, out, errOut)
	}
	bad := strings.Replace(ldapConfig(t, ldap.url, "{}"), "", "", 1)
	body, _ := os.ReadFile(bad)
	os.WriteFile(bad, []byte(strings.Replace(string(body), "bind_password: sync", "bind_password: wrong", 1)), 0o600)
	code, out, _ = cli(t, bad, "check")
	if code != 1 || !strings.Contains(out, "49") {
		t.Fatalf("check with a wrong password: exit %d\n%s", code, out)
	}
}
