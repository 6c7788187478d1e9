package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/store"
)

// rewriteProxy forwards to base and lets edit change each decoded list
// response (the map of a ListResponse) of the path it names.
func rewriteProxy(t *testing.T, base string, edit func(path string, list map[string]any)) string {
	t.Helper()
	target, _ := url.Parse(base)
	rp := httputil.NewSingleHostReverseProxy(target)
	director := rp.Director
	rp.Director = func(r *http.Request) {
		director(r)
		r.Header.Del("Accept-Encoding") // bodies in the clear, to edit them
	}
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.StatusCode != 200 {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		var list map[string]any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if dec.Decode(&list) == nil {
			edit(resp.Request.URL.Path, list)
			body, _ = json.Marshal(list)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv.URL
}

// resources are the resources of a decoded list response.
func resources(list map[string]any) []map[string]any {
	rs, _ := list["Resources"].([]any)
	var out []map[string]any
	for _, r := range rs {
		if m, ok := r.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// TestSCIMSourceHoldsMalformedEntries mirrors org acme (on a real serve)
// into org beta through a proxy that corrupts what the upstream sends, the
// way issue 14 found broken upstreams do: a non-boolean active, a numeric
// member value, a /Groups page whose groups lack members. Today's source
// dropped those entries or read the groups as empty, and the plan
// deprovisioned the user, deleted the group or emptied every group (and
// took the admin role) with guard: ok. Now the entries are held, groups
// listed without members are read again alone, and beta keeps every
// member, role and membership; an upstream that never sends members has
// its plan refused by the membership and admin guards.
func TestSCIMSourceHoldsMalformedEntries(t *testing.T) {
	cfg := writeConfig(t, "")
	base, a, stop := startServe(t, cfg)
	defer stop()
	token, _, _ := a.st.CreateToken(context.Background(), "acme", "mirror", 0)
	var ids []string
	for i := 0; i < 20; i++ {
		code, resp := do(t, "POST", base+"/scim/v2/Users", token, fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"m%02d@example.org"}`, i))
		if code != 201 {
			t.Fatalf("POST: %d %s", code, resp)
		}
		id := resp[strings.Index(resp, `"id":"`)+6:]
		ids = append(ids, id[:strings.IndexByte(id, '"')])
	}
	group := func(name string, members ...string) {
		var ms []string
		for _, id := range members {
			ms = append(ms, `{"value":"`+id+`"}`)
		}
		if code, resp := do(t, "POST", base+"/scim/v2/Groups", token, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"`+name+`","members":[`+strings.Join(ms, ",")+`]}`); code != 201 {
			t.Fatalf("POST group: %d %s", code, resp)
		}
	}
	group("KMS Admins", ids[0], ids[1])
	group("eng", ids[0:8]...)

	var mode atomic.Value
	mode.Store("")
	proxy := rewriteProxy(t, base, func(path string, list map[string]any) {
		for _, r := range resources(list) {
			switch m := mode.Load().(string); {
			case m == "active" && strings.HasSuffix(path, "/Users") && r["id"] == ids[3]:
				r["active"] = "yes"
			case m == "numeric" && strings.HasSuffix(path, "/Groups") && r["displayName"] == "eng":
				r["members"].([]any)[0].(map[string]any)["value"] = json.Number("7")
			case strings.HasPrefix(m, "no-members") && strings.HasSuffix(path, "/Groups"):
				delete(r, "members")
			}
		}
		if mode.Load() == "no-members-anywhere" && strings.Contains(path, "/Groups/") {
			delete(list, "members") // a group's own GET, too
		}
	})
	body, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(string(body)+`sources:
  - name: acme-mirror
    org: beta
    type: scim
    guard: `+openGuard+`
    scim: {base_url: `+proxy+`/scim/v2, token: `+token+`, page_size: 50, role_map: {"KMS Admins": admin}}
`), 0o600)
	if code, out, errOut := cli(t, cfg, "reconcile"); code != 0 {
		t.Fatalf("first reconcile: %d\n%s\n%s", code, out, errOut)
	}
	state := func() map[string]string {
		ms, err := a.st.Members(context.Background(), "beta", store.MemberFilter{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, m := range ms {
			out[m.UserName] = memberState(m)
		}
		return out
	}
	before := state()
	if len(before) != 20 || !strings.Contains(before["m00@example.org"], " "+orgsync.RoleAdmin+` "" [KMS Admins eng]`) {
		t.Fatalf("mirrored: %v", before)
	}

	for _, tc := range []struct {
		mode  string
		code  int
		held  string // users/groups held, for an applied run
		error string // in stderr, for a failed run
	}{
		{mode: "active", code: 0, held: "1/0"},
		{mode: "numeric", code: 0, held: "0/1"},
		// Lists without members: each group's own GET has them.
		{mode: "no-members", code: 0, held: "0/0"},
		// Never any members: the groups read as empty, and the guards
		// refuse to empty them and to demote the admins.
		{mode: "no-members-anywhere", code: 3, error: "max_admin_demotions"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			mode.Store(tc.mode)
			defer mode.Store("")
			code, out, errOut := cli(t, cfg, "reconcile", "--format", "json")
			if code != tc.code {
				t.Fatalf("reconcile: exit %d, want %d\n%s\n%s", code, tc.code, out, errOut)
			}
			if tc.code == 0 {
				var rep heldReport
				if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Runs) != 1 {
					t.Fatalf("report: %v\n%s", err, out)
				}
				run := rep.Runs[0]
				for action, n := range run.Summary {
					if n != 0 {
						t.Errorf("the plan has %d %s:\n%s", n, action, out)
					}
				}
				if got := fmt.Sprintf("%d/%d", run.Held.Users, run.Held.Groups); got != tc.held || !run.Applied {
					t.Errorf("held users/groups = %s, want %s:\n%s", got, tc.held, out)
				}
			} else if !strings.Contains(errOut, tc.error) {
				t.Errorf("stderr lacks %q:\n%s", tc.error, errOut)
			}
			after := state()
			for name, s := range before {
				if after[name] != s {
					t.Errorf("%s changed: %s → %s", name, s, after[name])
				}
			}
		})
	}
	// And the upstream repaired, nothing is left to do.
	if code, out, _ := cli(t, cfg, "plan", "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan after the repair: exit %d, want 0\n%s", code, out)
	}
}
