package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// TestSCIMSourceReadsOwnReceiver points a scim source of org beta at the
// SCIM receiver of org acme on a running orgsync, and reconciles: the
// client and the server of this repo must speak the same RFC 7644.
func TestSCIMSourceReadsOwnReceiver(t *testing.T) {
	cfg := writeConfig(t, "")
	base, a, stop := startServe(t, cfg)
	defer stop()
	token, _, err := a.st.CreateToken(context.Background(), "acme", "mirror", 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 250; i++ {
		active := "true"
		if i%50 == 0 {
			active = "false"
		}
		body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"u%03d@example.org","active":%s,
			"name":{"givenName":"U","familyName":"%03d"},"emails":[{"value":"u%03d@example.org","type":"work","primary":true}]}`, i, active, i, i)
		code, resp := do(t, "POST", base+"/scim/v2/Users", token, body)
		if code != 201 {
			t.Fatalf("POST user %d: %d %s", i, code, resp)
		}
		id := resp[strings.Index(resp, `"id":"`)+6:]
		ids = append(ids, id[:strings.IndexByte(id, '"')])
	}
	members := `[{"value":"` + ids[1] + `"},{"value":"` + ids[2] + `"}]`
	if code, resp := do(t, "POST", base+"/scim/v2/Groups", token, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"KMS Admins","members":`+members+`}`); code != 201 {
		t.Fatalf("POST group: %d %s", code, resp)
	}

	// A second orgsync config (same database) whose org beta pulls from acme.
	dir := filepath.Dir(cfg)
	mirror := filepath.Join(dir, "mirror.yaml")
	body, _ := os.ReadFile(cfg)
	os.WriteFile(mirror, []byte(string(body)+`sources:
  - name: acme-mirror
    org: beta
    type: scim
    guard: {max_deprovision: 0, max_deprovision_percent: 0}
    scim:
      base_url: `+base+`/scim/v2
      token: `+token+`
      page_size: 40
      role_map: {"KMS Admins": admin}
`), 0o600)
	code, out, errOut := cli(t, mirror, "reconcile", "--format", "json")
	if code != 0 {
		t.Fatalf("reconcile from own receiver: exit %d\n%s\n%s", code, out, errOut)
	}
	r := parseReport(t, out)
	if s := r.Runs[0].Summary; s["provision"] != 245 || s["group_create"] != 1 || s["member_add"] != 2 {
		t.Fatalf("summary = %v", s)
	}
	ms, err := a.st.Members(context.Background(), "beta", store.MemberFilter{})
	if err != nil || len(ms) != 245 {
		t.Fatalf("beta members = %d, %v", len(ms), err)
	}
	admins := 0
	for _, m := range ms {
		if m.Owner != "acme-mirror" || m.Status != orgsync.StatusPendingSetup {
			t.Fatalf("mirrored member %+v", m)
		}
		if m.Role == orgsync.RoleAdmin {
			admins++
		}
	}
	if admins != 2 {
		t.Fatalf("admins = %d, want 2", admins)
	}
	if code, _, _ := cli(t, mirror, "plan", "--detailed-exitcode"); code != 0 {
		t.Fatalf("second plan: exit %d, want 0", code)
	}
}
