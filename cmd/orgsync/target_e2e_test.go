package main

import (
	"context"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/internal/kmsfake"
	"github.com/orgsync/orgsync/store"
)

const (
	kmsToken  = "kms-scim-token-do-not-log-0001"
	kmsSecret = "kms-client-secret-do-not-log-0002"
)

func newKMS(t *testing.T, o kmsfake.Options) *kmsfake.Server {
	t.Helper()
	o.Token, o.ClientID, o.ClientSecret = kmsToken, "orgsync-machine", kmsSecret
	f := kmsfake.New(o)
	t.Cleanup(f.Close)
	return f
}

// targetConfig is a config with the e2e directory as a source (no guard:
// the target's guards are under test) and the KMS emulator as a target.
func targetConfig(t *testing.T, ldapURL, kmsURL, extra string) string {
	t.Setenv("KMS_SCIM_TOKEN", kmsToken)
	t.Setenv("KMS_CLIENT_SECRET", kmsSecret)
	path := writeConfig(t, `sources:
  - name: corp-ldap
    org: acme
    type: ldap
    guard: {max_deprovision: -1, max_deprovision_percent: -1}
    ldap:
      url: `+ldapURL+`
      bind_dn: cn=sync,dc=example,dc=org
      bind_password: sync
      user:
        base_dn: ou=people,dc=example,dc=org
        disabled_filter: (employeeType=disabled)
      group:
        base_dn: ou=groups,dc=example,dc=org
        nested: true
targets:
  - name: kms
    org: acme
    type: kms-scim
    url: `+kmsURL+`
    token: ${KMS_SCIM_TOKEN}
    setup_status: {type: kms-admin, client_id: orgsync-machine, client_secret: ${KMS_CLIENT_SECRET}}
`+extra)
	// Debug logs: a token must not be in them either.
	b, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(b), "level: error", "level: debug", 1)), 0o600)
	return path
}

func disableLDAP(t *testing.T, l *slapdServer, uids ...string) {
	t.Helper()
	var b strings.Builder
	for _, u := range uids {
		b.WriteString("dn: uid=" + u + ",ou=people,dc=example,dc=org\nchangetype: modify\nadd: employeeType\nemployeeType: disabled\n\n")
	}
	l.modify(t, b.String())
}

func kmsUsers(f *kmsfake.Server) map[string]kmsfake.Membership {
	out := map[string]kmsfake.Membership{}
	for _, u := range f.Users() {
		out[u.UserName] = u
	}
	return out
}

func TestEndToEndLDAPToKMS(t *testing.T) {
	ldap := startSlapd(t, "testdata/e2e.ldif")
	kms := newKMS(t, kmsfake.Options{})
	cfg := targetConfig(t, ldap.url, kms.URL, "")
	var logs strings.Builder
	cliLogged := func(args ...string) (int, string) {
		t.Helper()
		code, out, errOut := cli(t, cfg, args...)
		logs.WriteString(out + errOut)
		return code, out
	}
	if code, out := cliLogged("reconcile"); code != 0 {
		t.Fatalf("source reconcile: %d\n%s", code, out)
	}

	// First target run: everyone invited, groups pushed with pending members.
	code, out := cliLogged("reconcile", "--target", "kms", "--format", "json")
	if code != 0 {
		t.Fatalf("first target run: exit %d\n%s", code, out)
	}
	r := parseReport(t, out)
	if s := r.Runs[0].Summary; s["provision"] != 10 || s["group_create"] != 2 || !r.Runs[0].Applied {
		t.Fatalf("first target run summary %v", s)
	}
	users := kmsUsers(kms)
	if len(users) != 10 {
		t.Fatalf("%d KMS users, want 10", len(users))
	}
	for n, u := range users {
		if u.Status != "invited" || !u.Active {
			t.Errorf("%s: %+v, want invited and active", n, u)
		}
	}
	for _, g := range kms.Groups() {
		for id, pending := range g.Members {
			if !pending {
				t.Errorf("group %s: %s not pending", g.Name, id)
			}
		}
	}
	if code, out := cliLogged("plan", "--target", "kms", "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan after a target run: exit %d, want 0\n%s", code, out)
	}

	// Two users create their master key in the KMS.
	kms.Accept("ada@example.org")
	kms.Accept("ben@example.org")
	if code, out := cliLogged("reconcile", "--target", "kms"); code != 0 {
		t.Fatalf("target run after accepting: %d\n%s", code, out)
	}
	ms := members(t, cfg)
	if ms["ada@example.org"].Status != orgsync.StatusActive || ms["ben@example.org"].Status != orgsync.StatusActive || ms["cy@example.org"].Status != orgsync.StatusPendingSetup {
		t.Fatalf("statuses after accepting: ada %s, ben %s, cy %s", ms["ada@example.org"].Status, ms["ben@example.org"].Status, ms["cy@example.org"].Status)
	}

	// Disabled in LDAP → suspended in the KMS on the next target run.
	disableLDAP(t, ldap, "cy")
	cliLogged("reconcile")
	if code, out := cliLogged("reconcile", "--target", "kms"); code != 0 {
		t.Fatalf("target run after disabling: %d\n%s", code, out)
	}
	if u := kmsUsers(kms)["cy@example.org"]; u.Active || u.ID == "" {
		t.Fatalf("cy in the KMS: %+v, want suspended", u)
	}

	// The KMS answers 500 mid-apply: the run fails and is recorded; the
	// next converges with no duplicates.
	ldap.modify(t, "dn: uid=kim,ou=people,dc=example,dc=org\nchangetype: add\nobjectClass: inetOrgPerson\nuid: kim\ncn: Kim\nsn: K\nmail: kim@example.org\n\n"+
		"dn: uid=lou,ou=people,dc=example,dc=org\nchangetype: add\nobjectClass: inetOrgPerson\nuid: lou\ncn: Lou\nsn: L\nmail: lou@example.org\n")
	cliLogged("reconcile")
	var posts atomic.Int64
	kms.Fail = func(r *http.Request) int {
		if r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/Users") && posts.Add(1) > 1 {
			return http.StatusInternalServerError
		}
		return 0
	}
	if code, out := cliLogged("reconcile", "--target", "kms"); code != 1 {
		t.Fatalf("target run with a failing KMS: exit %d, want 1\n%s", code, out)
	}
	st := configStore(t, cfg)
	runs, err := st.Runs(context.Background(), store.RunFilter{Source: "kms", Limit: 1})
	st.Close()
	if err != nil || len(runs) != 1 || runs[0].Result != orgsync.RunFailed || runs[0].Target != "kms" {
		t.Fatalf("last target run %+v (%v), want failed with target kms", runs, err)
	}
	kms.Fail = nil
	if code, out := cliLogged("reconcile", "--target", "kms"); code != 0 {
		t.Fatalf("target run after the KMS recovered: %d\n%s", code, out)
	}
	if n := len(kmsUsers(kms)); n != 12 || len(kms.Users()) != 12 || kms.Conflicts() != 0 {
		t.Fatalf("%d distinct of %d KMS users, %d conflicting creates; want 12, 12, 0", n, len(kms.Users()), kms.Conflicts())
	}

	// A 30 % cut is blocked: exit 3, nothing sent.
	disableLDAP(t, ldap, "dee", "eli", "fay", "gus")
	cliLogged("reconcile")
	kms.ResetCounts()
	if code, out := cliLogged("reconcile", "--target", "kms"); code != 3 {
		t.Fatalf("target run of a 30%% cut: exit %d, want 3\n%s", code, out)
	}
	if c := kms.Counts(); c["PATCH"]+c["PUT"]+c["DELETE"] != 0 || c["POST"] > 1 {
		t.Fatalf("a blocked run wrote to the KMS: %v", c)
	}
	if code, out := cliLogged("check", "--target", "kms"); code != 0 || !strings.Contains(out, "OK   kms") || !strings.Contains(out, "accepted") {
		t.Fatalf("check --target: %d\n%s", code, out)
	}
	if strings.Contains(logs.String(), kmsToken) || strings.Contains(logs.String(), kmsSecret) {
		t.Fatal("a token or client secret reached the output or the logs")
	}
	code, out, _ = cli(t, cfg, "config", "validate")
	if code != 0 || strings.Contains(out, kmsToken) || strings.Contains(out, kmsSecret) {
		t.Fatalf("config validate: %d, secrets shown: %v", code, strings.Contains(out, kmsToken))
	}
}

func TestCheckTargetSaysTheRemedy(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts kmsfake.Options
		want string
	}{
		{"no SSO", kmsfake.Options{NoSSO: true}, "SAML or OIDC"},
		{"SCIM off", kmsfake.Options{SCIMDisabled: true}, "Enable SCIM provisioning"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kms := newKMS(t, tc.opts)
			t.Setenv("KMS_SCIM_TOKEN", kmsToken)
			cfg := writeConfig(t, "targets:\n  - {name: kms, org: acme, type: kms-scim, url: "+kms.URL+", token: ${KMS_SCIM_TOKEN}}\n")
			code, out, _ := cli(t, cfg, "check", "--target", "kms")
			if code != 1 || !strings.Contains(out, "FAIL kms") || !strings.Contains(out, tc.want) {
				t.Fatalf("check: exit %d\n%s\nwant a failure naming %q", code, out, tc.want)
			}
		})
	}
}
