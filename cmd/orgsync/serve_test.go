package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/orgsync/orgsync"
	"github.com/orgsync/orgsync/admin"
)

const testAdminToken = "admin-token-for-tests-123"

// startServe runs `serve` in-process and returns its base URL, the app (for
// the store) and a stop function that checks the clean shutdown.
func startServe(t *testing.T, cfg string) (string, *app, func()) {
	t.Helper()
	base, a, _, stop := startServeLogged(t, cfg)
	return base, a, stop
}

// startServeWith is startServe with the app adjusted first (its flags).
func startServeWith(t *testing.T, cfg string, adjust func(*app)) (string, *app, func()) {
	t.Helper()
	base, a, _, stop := startServeApp(t, cfg, adjust)
	return base, a, stop
}

// startServeLogged is startServe keeping the daemon's log.
func startServeLogged(t *testing.T, cfg string) (string, *app, *syncBuffer, func()) {
	t.Helper()
	return startServeApp(t, cfg, nil)
}

func startServeApp(t *testing.T, cfg string, adjust func(*app)) (string, *app, *syncBuffer, func()) {
	t.Helper()
	logs := &syncBuffer{}
	a := &app{configPath: cfg, stdout: logs, stderr: logs}
	if adjust != nil {
		adjust(a)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx, ready) }()
	select {
	case addr := <-ready:
		return "http://" + addr, a, logs, func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve returned %v on shutdown", err)
				}
			case <-time.After(20 * time.Second):
				t.Error("serve did not stop")
			}
			a.st.Close()
		}
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v\n%s", err, logs.String())
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("serve did not start")
	}
	return "", nil, nil, nil
}

func do(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestServeHealthMetricsAndAdminAPI(t *testing.T) {
	base, a, stop := startServe(t, writeConfig(t, ""))
	defer stop()
	ctx := context.Background()
	st := a.st
	if _, err := st.Apply(ctx, orgsync.Plan{Org: "acme", Owner: "corp", Changes: []orgsync.Change{
		{Action: orgsync.ActionProvision, UserName: "alice@example.org", MemberKey: "k1", Member: &orgsync.Member{UserName: "alice@example.org"}},
		{Action: orgsync.ActionProvision, UserName: "bob@example.org", MemberKey: "k2", Member: &orgsync.Member{UserName: "bob@example.org"}},
	}}); err != nil {
		t.Fatal(err)
	}
	bob, _ := st.Member(ctx, "acme", "bob@example.org")
	alice, _ := st.Member(ctx, "acme", "alice@example.org")
	st.Apply(ctx, orgsync.Plan{Org: "acme", Owner: "corp", Changes: []orgsync.Change{{Action: orgsync.ActionDeprovision, MemberID: bob.ID}}})
	scimToken, _, _ := st.CreateToken(ctx, "acme", "idp", 0)

	if code, body := do(t, "GET", base+"/healthz", "", ""); code != 200 || body != "ok\n" {
		t.Fatalf("healthz: %d %q", code, body)
	}
	if code, _ := do(t, "GET", base+"/readyz", "", ""); code != 200 {
		t.Fatalf("readyz: %d", code)
	}
	code, metrics := do(t, "GET", base+"/metrics", "", "")
	if code != 200 || !strings.Contains(metrics, `orgsync_members{org="acme",status="pending_setup"} 1`) ||
		!strings.Contains(metrics, `orgsync_members{org="acme",status="deprovisioned"} 1`) {
		t.Fatalf("metrics: %d\n%s", code, grepLines(metrics, "orgsync_members"))
	}
	if strings.Contains(metrics, testAdminToken) || strings.Contains(metrics, scimToken) {
		t.Fatal("metrics expose a token")
	}

	members := base + "/api/v1/orgs/acme/members"
	for _, tok := range []string{"", "wrong-token-wrong-token", scimToken, testAdminToken + "x"} {
		if code, _ := do(t, "GET", members, tok, ""); code != 401 {
			t.Errorf("admin API with token %.8q: %d, want 401", tok, code)
		}
	}
	code, body := do(t, "GET", members+"?status=pending_setup", testAdminToken, "")
	var list []admin.Member
	if code != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list) != 1 || list[0].UserName != "alice@example.org" || !list[0].PendingSetup {
		t.Fatalf("members: %d %s", code, body)
	}
	if code, _ := do(t, "GET", members+"?status=sad", testAdminToken, ""); code != 400 {
		t.Errorf("bad status: %d", code)
	}
	if code, _ := do(t, "GET", base+"/api/v1/orgs/nope/members", testAdminToken, ""); code != 404 {
		t.Errorf("unknown org: %d", code)
	}

	setup := func(org, id string) string {
		return base + "/api/v1/orgs/" + org + "/members/" + id + "/setup-complete"
	}
	before, _ := st.Events(ctx, "", 0, 1000)
	for _, tc := range []struct {
		url, body string
		want      int
	}{
		{setup("acme", alice.ID), "{not json", 400},
		{setup("nope", alice.ID), "", 404},
		{setup("beta", alice.ID), "", 404},
		{setup("acme", "no-such-member"), "", 404},
		{setup("acme", bob.ID), "", 409},
	} {
		if code, body := do(t, "POST", tc.url, testAdminToken, tc.body); code != tc.want {
			t.Errorf("POST %s %q: %d %s, want %d", tc.url, tc.body, code, body, tc.want)
		}
	}
	if after, _ := st.Events(ctx, "", 0, 1000); len(after) != len(before) {
		t.Fatalf("failed admin requests changed the store: %d events, was %d", len(after), len(before))
	}
	code, body = do(t, "POST", setup("acme", alice.ID), testAdminToken, "")
	var m admin.Member
	if code != 200 || json.Unmarshal([]byte(body), &m) != nil || m.Status != "active" || m.SetupCompletedAt == nil {
		t.Fatalf("setup-complete: %d %s", code, body)
	}

	code, body = do(t, "GET", base+"/api/v1/events?after=0&limit=2", testAdminToken, "")
	var feed struct {
		Events    []orgsync.Event `json:"events"`
		NextAfter int64           `json:"next_after"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &feed) != nil || len(feed.Events) != 2 || feed.NextAfter != feed.Events[1].Seq {
		t.Fatalf("events: %d %s", code, body)
	}
	code, body = do(t, "GET", base+"/api/v1/events?after="+itoa(feed.NextAfter), testAdminToken, "")
	if code != 200 || json.Unmarshal([]byte(body), &feed) != nil || len(feed.Events) != 2 || feed.Events[1].Kind != orgsync.EventMemberSetupComplete {
		t.Fatalf("events after cursor: %d %s", code, body)
	}
	if code, _ := do(t, "GET", base+"/api/v1/events?after=-1", testAdminToken, ""); code != 400 {
		t.Errorf("negative cursor: %d", code)
	}
	if code, body := do(t, "GET", base+"/api/v1/runs", testAdminToken, ""); code != 200 || body != "{\"runs\":[]}\n" {
		t.Errorf("runs before any run: %d %s", code, body)
	}

	// A recorded run is listed with its outcome and duration, and shown
	// with its plan by id.
	start := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	plan := orgsync.Plan{Org: "acme", Owner: "corp", Changes: []orgsync.Change{{Action: orgsync.ActionDeprovision, UserName: "bob@example.org", MemberID: "m2"}}}
	id, err := a.st.RecordRun(context.Background(), orgsync.Run{Org: "acme", Source: "corp", StartedAt: start, FinishedAt: start.Add(1500 * time.Millisecond),
		Result: orgsync.RunBlocked, Guard: orgsync.Decision{Blocked: true, Reason: "too many deprovisions"}, Summary: plan.Summary(), Plan: &plan})
	if err != nil {
		t.Fatal(err)
	}
	type runOut struct {
		orgsync.Run
		DurationMS int64 `json:"duration_ms"`
	}
	var listed struct{ Runs []runOut }
	code, body = do(t, "GET", base+"/api/v1/runs?source=corp", testAdminToken, "")
	if code != 200 || json.Unmarshal([]byte(body), &listed) != nil || len(listed.Runs) != 1 {
		t.Fatalf("runs: %d %s", code, body)
	}
	if r := listed.Runs[0]; r.ID != id || r.Result != orgsync.RunBlocked || r.Guard.Reason != "too many deprovisions" || r.DurationMS != 1500 ||
		r.Summary[orgsync.ActionDeprovision] != 1 || r.Plan != nil {
		t.Errorf("listed run: %s", body)
	}
	var one runOut
	code, body = do(t, "GET", base+"/api/v1/runs/"+itoa(id), testAdminToken, "")
	if code != 200 || json.Unmarshal([]byte(body), &one) != nil || one.Plan == nil || len(one.Plan.Changes) != 1 || one.Plan.Changes[0].UserName != "bob@example.org" {
		t.Fatalf("run by id: %d %s", code, body)
	}
	if code, _ := do(t, "GET", base+"/api/v1/runs/"+itoa(id+1), testAdminToken, ""); code != 404 {
		t.Errorf("unknown run: %d", code)
	}
	if code, _ := do(t, "GET", base+"/api/v1/runs/x", testAdminToken, ""); code != 400 {
		t.Errorf("malformed run id: %d", code)
	}
}

func itoa(n int64) string {
	return strings.TrimSpace(strings.Replace(string(must(json.Marshal(n))), `"`, "", -1))
}

func must(b []byte, _ error) []byte { return b }

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestServeMountsSCIMAtBothPrefixes(t *testing.T) {
	base, a, stop := startServe(t, writeConfig(t, ""))
	defer stop()
	token, _, err := a.st.CreateToken(context.Background(), "acme", "jumpcloud", 0)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"carol@example.org","active":true,
		"emails":[{"value":"carol@example.org","primary":true,"type":"work"}]}`
	code, resp := do(t, "POST", base+"/scim/v2/Users", token, body)
	if code != 201 {
		t.Fatalf("POST /scim/v2/Users: %d %s", code, resp)
	}
	code, resp = do(t, "GET", base+"/api/v1/scim/Users?filter="+urlQuery(`userName eq "carol@example.org"`), token, "")
	if code != 200 || !strings.Contains(resp, `"totalResults":1`) || !strings.Contains(resp, "pending_setup") {
		t.Fatalf("GET /api/v1/scim/Users: %d %s", code, resp)
	}
	if code, _ := do(t, "GET", base+"/scim/v2/Users", testAdminToken, ""); code != 401 {
		t.Fatalf("admin token accepted by SCIM: %d", code)
	}
	m, err := a.st.Member(context.Background(), "acme", "carol@example.org")
	if err != nil || m.Owner != orgsync.OwnerSCIM || m.Status != orgsync.StatusPendingSetup {
		t.Fatalf("stored member = %+v, %v", m, err)
	}
}

func urlQuery(s string) string { return strings.NewReplacer(" ", "%20", `"`, "%22").Replace(s) }

func zerologNop() zerolog.Logger { return zerolog.Nop() }
