package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

// withoutOrg rewrites the config file cfg (from writeConfig) without the
// org line of id, keeping its database: the operator took the org out.
func withoutOrg(t *testing.T, cfg, id string) {
	t.Helper()
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if !strings.Contains(l, "{id: "+id+",") {
			kept = append(kept, l)
		}
	}
	if len(kept) == len(strings.SplitAfter(string(b), "\n")) {
		t.Fatalf("org %s is not in %s", id, b)
	}
	if err := os.WriteFile(cfg, []byte(strings.Join(kept, "")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestTokensOfARemovedOrgAreRefused: an org taken out of the config after
// a token was minted for it is no longer served. Its token gets the very
// answer an unknown token gets (401, same SCIM error, no oracle), the
// admin API answers 404 for it, and `tokens list` shows the token as
// org_removed. The other org goes on working.
func TestTokensOfARemovedOrgAreRefused(t *testing.T) {
	cfg := writeConfig(t, "")
	tokenOf := func(org string) string {
		code, out, errOut := cli(t, cfg, "tokens", "create", "--org", org, "--description", "idp of "+org)
		if code != 0 {
			t.Fatalf("tokens create --org %s: %d %s", org, code, errOut)
		}
		return strings.TrimSpace(out)
	}
	acme, beta := tokenOf("acme"), tokenOf("beta")

	// While beta is configured, its token provisions a user.
	base, _, stop := startServe(t, cfg)
	uid := scimCreate(t, base+"/scim/v2/Users", beta, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"b@example.org"}`)
	stop()

	withoutOrg(t, cfg, "beta")
	base, _, stop = startServe(t, cfg)
	defer stop()

	get := func(token string) (int, string, string) {
		req, _ := http.NewRequest("GET", base+"/scim/v2/Users", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("WWW-Authenticate"), string(b)
	}
	unknownCode, unknownAuth, unknownBody := get("osk_" + strings.Repeat("A", 43))
	for _, prefix := range scimPrefixes {
		for _, path := range []string{"/Users", "/Users/" + uid, "/Groups", "/ServiceProviderConfig"} {
			if code, body := do(t, "GET", base+prefix+path, beta, ""); code != 401 {
				t.Errorf("GET %s%s with the removed org's token: %d %s, want 401", prefix, path, code, body)
			}
		}
		if code, body := do(t, "POST", base+prefix+"/Users", beta,
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"c@example.org"}`); code != 401 {
			t.Errorf("POST %s/Users with the removed org's token: %d %s, want 401", prefix, code, body)
		}
	}
	code, auth, body := get(beta)
	if code != unknownCode || auth != unknownAuth || body != unknownBody || code != 401 {
		t.Errorf("removed org's token: %d %q %s\nunknown token:      %d %q %s", code, auth, body, unknownCode, unknownAuth, unknownBody)
	}
	if code, body := do(t, "GET", base+"/scim/v2/Users", acme, ""); code != 200 {
		t.Errorf("the configured org's token: %d %s", code, body)
	}

	// The admin API no longer serves beta.
	if code, body := do(t, "GET", base+"/api/v1/orgs/beta/members", testAdminToken, ""); code != 404 {
		t.Errorf("admin members of the removed org: %d %s, want 404", code, body)
	}
	if code, body := do(t, "POST", base+"/api/v1/orgs/beta/members/"+uid+"/setup-complete", testAdminToken, ""); code != 404 {
		t.Errorf("admin setup-complete in the removed org: %d %s, want 404", code, body)
	}
	if code, _ := do(t, "GET", base+"/api/v1/orgs/acme/members", testAdminToken, ""); code != 200 {
		t.Errorf("admin members of acme: %d", code)
	}

	// tokens list says so, in JSON and in text; beta's tokens can still be
	// listed on their own (to revoke them).
	code, out, errOut := cli(t, cfg, "tokens", "list", "--format", "json")
	var list []struct {
		ID, Org, State string
	}
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 {
		t.Fatalf("tokens list: %d %s %s", code, out, errOut)
	}
	for _, l := range list {
		want := map[string]string{"acme": "valid", "beta": "org_removed"}[l.Org]
		if l.State != want {
			t.Errorf("token of %s: state %q, want %q", l.Org, l.State, want)
		}
	}
	code, out, _ = cli(t, cfg, "tokens", "list", "--org", "beta")
	if code != 0 || !strings.Contains(out, "org_removed") || !strings.Contains(out, "refuses them") {
		t.Errorf("tokens list --org beta: %d\n%s", code, out)
	}
	if code, _, _ := cli(t, cfg, "tokens", "list", "--org", "gamma"); code != 1 {
		t.Errorf("tokens list of an org never seen: exit %d, want 1", code)
	}
}
