package main

import (
	"context"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orgsync/orgsync"
)

// TestRunsListAndShow: a failed run is listed and shown, in text and JSON.
func TestRunsListAndShow(t *testing.T) {
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	url := "ldap://" + closed.Addr().String()
	closed.Close()
	cfg := ldapConfig(t, url, "{}")
	if code, _, _ := cli(t, cfg, "reconcile"); code != 1 {
		t.Fatalf("reconcile of an unreachable source: exit %d, want 1", code)
	}
	code, out, errOut := cli(t, cfg, "runs", "list", "--format", "json")
	var runs []orgsync.Run
	if code != 0 || json.Unmarshal([]byte(out), &runs) != nil || len(runs) != 1 {
		t.Fatalf("runs list: %d %s %s", code, out, errOut)
	}
	r := runs[0]
	if r.Source != "corp-ldap" || r.Org != "acme" || r.Result != orgsync.RunFailed || r.Error == "" {
		t.Errorf("run = %+v", r)
	}
	id := strconv.FormatInt(r.ID, 10)
	if code, out, _ := cli(t, cfg, "runs", "list"); code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "failed") {
		t.Errorf("runs list text: %d %s", code, out)
	}
	if code, out, _ := cli(t, cfg, "runs", "list", "--source", "other"); code != 0 || !strings.Contains(out, "no runs recorded") {
		t.Errorf("runs list of another source: %d %s", code, out)
	}
	code, out, _ = cli(t, cfg, "runs", "show", id)
	if code != 0 || !strings.Contains(out, "run "+id+": source corp-ldap, org acme") || !strings.Contains(out, "result   failed") ||
		!strings.Contains(out, "error    ") {
		t.Errorf("runs show: %d %s", code, out)
	}
	for _, bad := range []string{"999", "abc", "0"} {
		if code, _, errOut := cli(t, cfg, "runs", "show", bad); code != 1 || !strings.Contains(errOut, "runs list") {
			t.Errorf("runs show %s: %d %q", bad, code, errOut)
		}
	}
}

// TestEventsTail prints the latest events and, followed, new ones.
func TestEventsTail(t *testing.T) {
	cfg := writeConfig(t, "")
	st := configStore(t, cfg)
	ctx := context.Background()
	for _, name := range []string{"a@x", "b@x", "c@x"} {
		if _, err := st.SCIMCreateMember(ctx, "acme", orgsync.Member{UserName: name}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.SCIMCreateMember(ctx, "beta", orgsync.Member{UserName: "z@x"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	lines := func(out string) []orgsync.Event {
		var es []orgsync.Event
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var e orgsync.Event
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatalf("not a JSON line: %q", l)
			}
			es = append(es, e)
		}
		return es
	}
	code, out, _ := cli(t, cfg, "events", "tail", "--org", "acme", "--limit", "2")
	es := lines(out)
	if code != 0 || len(es) != 2 || es[0].Org != "acme" || es[1].Org != "acme" || es[0].Seq >= es[1].Seq {
		t.Fatalf("the last 2 events of acme: %d %s", code, out)
	}
	if !strings.Contains(string(es[1].After), `"c@x"`) {
		t.Errorf("the last event is not c's creation: %s", es[1].After)
	}
	code, out, _ = cli(t, cfg, "events", "tail", "--after", "0", "--limit", "1")
	if es := lines(out); code != 0 || len(es) != 4 {
		t.Errorf("every event from the start (read 1 at a time): %d %s", code, out)
	}
	if code, _, errOut := cli(t, cfg, "events", "tail", "--org", "nope"); code != 1 || !strings.Contains(errOut, "valid: acme, beta") {
		t.Errorf("an unknown org: %d %q", code, errOut)
	}

	// --follow prints what arrives later, until cancelled.
	st = configStore(t, cfg)
	defer st.Close()
	buf := &syncBuffer{}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- tailEvents(fctx, st, buf, "beta", -1, 10, true, 20*time.Millisecond) }()
	time.Sleep(100 * time.Millisecond)
	if _, err := st.SCIMCreateMember(ctx, "beta", orgsync.Member{UserName: "later@x"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), "later@x") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); !strings.Contains(got, "z@x") || !strings.Contains(got, "later@x") {
		t.Errorf("followed: %s", got)
	}
}

func TestMembersShow(t *testing.T) {
	cfg := writeConfig(t, "")
	st := configStore(t, cfg)
	ctx := context.Background()
	m, err := st.SCIMCreateMember(ctx, "acme", orgsync.Member{UserName: "ann@example.org", GivenName: "Ann", FamilyName: "Lee"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SCIMCreateGroup(ctx, "acme", orgsync.Group{DisplayName: "eng", Members: []string{m.ID}}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	code, out, errOut := cli(t, cfg, "members", "show", "--org", "acme", "ANN@example.org")
	if code != 0 {
		t.Fatalf("members show: %d %s", code, errOut)
	}
	for _, want := range []string{"ann@example.org", "pending_setup (has not created a master key yet)", "Ann Lee", "eng", m.ID, "owner"} {
		if !strings.Contains(out, want) {
			t.Errorf("members show lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = cli(t, cfg, "members", "show", "--org", "acme", m.ID, "--format", "json")
	var v struct {
		ID     string   `json:"id"`
		Status string   `json:"status"`
		Groups []string `json:"groups"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.ID != m.ID || v.Status != "pending_setup" || len(v.Groups) != 1 || v.Groups[0] != "eng" {
		t.Errorf("members show json: %d %s", code, out)
	}
	if code, _, errOut := cli(t, cfg, "members", "show", "--org", "acme", "nobody"); code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("an unknown member: %d %q", code, errOut)
	}
}

func TestCompletionAndValidNames(t *testing.T) {
	cfg := ldapConfig(t, "ldap://127.0.0.1:1", "{}")
	code, out, _ := cli(t, cfg, "__complete", "members", "list", "--org", "")
	if code != 0 || !strings.Contains(out, "acme\tAcme") || !strings.Contains(out, "beta\tBeta") {
		t.Errorf("--org completion: %d %q", code, out)
	}
	code, out, _ = cli(t, cfg, "__complete", "plan", "--source", "")
	if code != 0 || !strings.Contains(out, "corp-ldap\tldap source of org acme") {
		t.Errorf("--source completion: %d %q", code, out)
	}
	if code, _, errOut := cli(t, cfg, "plan", "--source", "nope"); code != 1 || !strings.Contains(errOut, "valid: corp-ldap") {
		t.Errorf("an unknown source: %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, cfg, "members", "list", "--org", "nope"); code != 1 || !strings.Contains(errOut, "valid: acme, beta") {
		t.Errorf("an unknown org: %d %q", code, errOut)
	}
}

func TestMembersListOwnerAndDeletedFilters(t *testing.T) {
	cfg := writeConfig(t, "")
	st := configStore(t, cfg)
	ctx := context.Background()
	if _, err := st.SCIMCreateMember(ctx, "acme", orgsync.Member{UserName: "kept@x"}); err != nil {
		t.Fatal(err)
	}
	gone, err := st.SCIMCreateMember(ctx, "acme", orgsync.Member{UserName: "gone@x", ExternalID: "g1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SCIMDeleteMember(ctx, "acme", gone.ID, 0); err != nil {
		t.Fatal(err)
	}
	st.Close()
	names := func(args ...string) string {
		t.Helper()
		code, out, errOut := cli(t, cfg, append([]string{"members", "list", "--org", "acme", "--format", "json"}, args...)...)
		var ms []struct {
			UserName string `json:"user_name"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &ms) != nil {
			t.Fatalf("members list %v: %d %s %s", args, code, out, errOut)
		}
		var out2 []string
		for _, m := range ms {
			out2 = append(out2, m.UserName)
		}
		return strings.Join(out2, ",")
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "kept@x"},
		{[]string{"--include-deleted"}, "gone@x,kept@x"},
		{[]string{"--status", "deprovisioned"}, "gone@x"},
		{[]string{"--owner", "scim"}, "kept@x"},
		{[]string{"--owner", "corp-ldap"}, ""},
		{[]string{"--owner", "none"}, ""},
	} {
		if got := names(tt.args...); got != tt.want {
			t.Errorf("members list %v = %q, want %q", tt.args, got, tt.want)
		}
	}
}
