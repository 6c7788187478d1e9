package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/admin"
	"github.com/orgsync/orgsync/internal/testenv"
)

// TestServeRePOSTOfDeletedUserName is issue 14 item 2 against a real serve,
// on SQLite and PostgreSQL: a POST with the userName of a SCIM-deleted
// member revives it only when the externalId is the same; anyone else gets
// a new pending_setup member without the old one's groups, and the old one
// stays listed as deprovisioned under a retired name.
func TestServeRePOSTOfDeletedUserName(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			db := "{driver: sqlite, dsn: " + filepath.Join(dir, "orgsync.db") + "}"
			if backend == "postgres" {
				db = `{driver: postgres, dsn: "` + testenv.PostgresDatabase(t) + `"}`
			}
			cfg := filepath.Join(dir, "orgsync.yaml")
			if err := os.WriteFile(cfg, []byte("database: "+db+"\n"+
				"server: {listen: 127.0.0.1:0, admin_token: "+testAdminToken+"}\n"+
				"log: {level: error, format: json}\norgs:\n  - {id: acme, name: Acme}\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			base, a, stop := startServe(t, cfg)
			defer stop()
			testRePOST(t, cfg, base, a)
		})
	}
}

func testRePOST(t *testing.T, cfg, base string, a *app) {
	tok, _, err := a.st.CreateToken(t.Context(), "acme", "idp", 0)
	if err != nil {
		t.Fatal(err)
	}
	scim := base + "/scim/v2"
	api := base + "/api/v1/orgs/acme/members"
	user := func(name, ext string) string {
		b, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"userName": name, "externalId": ext, "emails": []any{map[string]any{"value": name, "type": "work", "primary": true}}})
		return string(b)
	}
	members := func(query string) map[string]admin.Member {
		t.Helper()
		code, body := do(t, "GET", api+query, testAdminToken, "")
		var list []admin.Member
		if code != 200 || json.Unmarshal([]byte(body), &list) != nil {
			t.Fatalf("GET members%s: %d %s", query, code, body)
		}
		out := map[string]admin.Member{}
		for _, m := range list {
			out[m.ID] = m
		}
		return out
	}
	groupMembers := func(gid string) string {
		t.Helper()
		code, body := do(t, "GET", scim+"/Groups/"+gid, tok, "")
		if code != 200 {
			t.Fatalf("GET group: %d %s", code, body)
		}
		var g struct{ Members []struct{ Value string } }
		json.Unmarshal([]byte(body), &g)
		var ids []string
		for _, m := range g.Members {
			ids = append(ids, m.Value)
		}
		return strings.Join(ids, ",")
	}
	// deletedAdmin: POST name with ext, setup completed by the KMS, member
	// of a new group "admins-"+name, then SCIM DELETE.
	deletedAdmin := func(name, ext string) (uid, gid string) {
		t.Helper()
		uid = scimCreate(t, scim+"/Users", tok, user(name, ext))
		if code, body := do(t, "POST", api+"/"+uid+"/setup-complete", testAdminToken, ""); code != 200 {
			t.Fatalf("setup-complete: %d %s", code, body)
		}
		gid = scimCreate(t, scim+"/Groups", tok, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"admins-`+name+`","members":[{"value":"`+uid+`"}]}`)
		if got := groupMembers(gid); got != uid {
			t.Fatalf("group members = %q, want %s", got, uid)
		}
		if code, body := do(t, "DELETE", scim+"/Users/"+uid, tok, ""); code != 204 {
			t.Fatalf("DELETE: %d %s", code, body)
		}
		if code, _ := do(t, "GET", scim+"/Users/"+uid, tok, ""); code != 404 {
			t.Fatalf("GET of the deleted user: %d, want 404", code)
		}
		return uid, gid
	}

	// Another person with alice's userName.
	alice, admins := deletedAdmin("alice@example.org", "X")
	dep := members("?status=deprovisioned")
	if m, ok := dep[alice]; !ok || m.Status != "deprovisioned" || len(m.Groups) != 0 {
		t.Fatalf("deprovisioned list = %+v; want alice's tombstone, without groups", dep)
	}
	if got := groupMembers(admins); got != "" {
		t.Fatalf("admins after the DELETE = %q", got)
	}
	newcomer := scimCreate(t, scim+"/Users", tok, user("alice@example.org", "Y"))
	if newcomer == alice {
		t.Fatalf("a POST with another externalId revived %s", alice)
	}
	code, body := do(t, "GET", scim+"/Users/"+newcomer, tok, "")
	if code != 200 || !strings.Contains(body, `"setupStatus":"pending_setup"`) || !strings.Contains(body, `"externalId":"Y"`) {
		t.Fatalf("GET newcomer: %d %s", code, body)
	}
	all := members("")
	if m := all[newcomer]; m.Status != "pending_setup" || !m.PendingSetup || m.SetupCompletedAt != nil || len(m.Groups) != 0 {
		t.Fatalf("newcomer via the admin API = %+v", m)
	}
	if got := groupMembers(admins); got != "" {
		t.Fatalf("admins holds %q: the newcomer inherited alice's group", got)
	}
	old, ok := all[alice]
	if !ok || old.Status != "deprovisioned" || old.ExternalID != "X" || old.SetupCompletedAt == nil ||
		old.UserName != orgsync.RetiredUserName("alice@example.org", alice) {
		t.Fatalf("old member = %+v (found %v); want it kept deprovisioned under its retired name", old, ok)
	}
	// The CLI lists the old member as deprovisioned too.
	code, out, errOut := cli(t, cfg, "members", "list", "--org", "acme", "--status", "deprovisioned", "--format", "json")
	var listed []admin.Member
	if code != 0 || json.Unmarshal([]byte(out), &listed) != nil || len(listed) != 1 || listed[0].ID != alice || listed[0].Status != "deprovisioned" {
		t.Fatalf("members list --status deprovisioned: exit %d %s %s", code, out, errOut)
	}
	if code, out, _ := cli(t, cfg, "members", "list", "--org", "acme", "--status", "deprovisioned"); code != 0 ||
		!strings.Contains(out, orgsync.RetiredUserName("alice@example.org", alice)+"  deprovisioned") {
		t.Fatalf("members list --status deprovisioned (text): exit %d\n%s", code, out)
	}
	code, body = do(t, "GET", base+"/api/v1/events?after=0", testAdminToken, "")
	if code != 200 || !strings.Contains(body, `"kind":"group.member_removed"`) || !strings.Contains(body, orgsync.RetiredUserName("alice@example.org", alice)) {
		t.Fatalf("events: %d %s", code, body)
	}

	// The same person again: the same id, active, without its old groups.
	bob, bobAdmins := deletedAdmin("bob@example.org", "B")
	if back := scimCreate(t, scim+"/Users", tok, user("Bob@Example.org", "B")); back != bob {
		t.Fatalf("re-POST with the same externalId made %s, want %s revived", back, bob)
	}
	code, body = do(t, "GET", scim+"/Users/"+bob, tok, "")
	if code != 200 || !strings.Contains(body, `"setupStatus":"active"`) || !strings.Contains(body, `"active":true`) {
		t.Fatalf("GET revived bob: %d %s", code, body)
	}
	if m := members("?status=active")[bob]; m.Status != "active" || len(m.Groups) != 0 {
		t.Fatalf("revived bob via the admin API = %+v", m)
	}
	if got := groupMembers(bobAdmins); got != "" {
		t.Fatalf("bob's old group holds %q after the revival", got)
	}
}
