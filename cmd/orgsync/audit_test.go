package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// TestSCIMRequestsAreAuditedAndMeasured: every SCIM request gets one JSON
// log line (method, path, status, latency, org and token id once
// authenticated, the SCIM detail of a 4xx), never the token or the body,
// and counts in the request metrics; token expiry is a gauge.
func TestSCIMRequestsAreAuditedAndMeasured(t *testing.T) {
	cfg := writeConfig(t, "")
	body, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(body), "level: error", "level: info", 1)), 0o600)
	base, a, logs, stop := startServeLogged(t, cfg)
	defer stop()
	token, rec, err := a.st.CreateToken(context.Background(), "acme", "okta", 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := do(t, "GET", base+"/scim/v2/Users?filter=userName%20eq%20%22secret-person%22", token, ""); code != 200 {
		t.Fatalf("GET: %d", code)
	}
	if code, _ := do(t, "POST", base+"/scim/v2/Users", token, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x@y","password":"hunter2-body-secret","active":"maybe"}`); code != 400 {
		t.Fatalf("bad POST: %d", code)
	}
	if code, _ := do(t, "GET", base+"/scim/v2/Groups", "wrong-token-value-1234", ""); code != 401 {
		t.Fatalf("bad token: %d", code)
	}

	type line struct {
		Message, Method, Path, Org, Detail string
		Status                             int
		LatencyMS                          *float64 `json:"latency_ms"`
		TokenID                            string   `json:"token_id"`
	}
	var got []line
	for _, l := range strings.Split(logs.String(), "\n") {
		var v line
		if json.Unmarshal([]byte(l), &v) == nil && v.Message == "scim request" {
			got = append(got, v)
		}
	}
	if len(got) != 3 {
		t.Fatalf("%d audit lines, want 3:\n%s", len(got), logs.String())
	}
	if g := got[0]; g.Method != "GET" || g.Path != "/scim/v2/Users" || g.Status != 200 || g.Org != "acme" || g.TokenID != rec.ID || g.LatencyMS == nil {
		t.Errorf("GET line: %+v", g)
	}
	if g := got[1]; g.Status != 400 || !strings.Contains(g.Detail, "active") || g.Org != "acme" {
		t.Errorf("400 line: %+v", g)
	}
	if g := got[2]; g.Status != 401 || g.Org != "" || g.Detail == "" {
		t.Errorf("401 line: %+v", g)
	}
	for _, secret := range []string{token, "wrong-token-value-1234", "hunter2-body-secret", "secret-person"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}

	_, metrics := do(t, "GET", base+"/metrics", "", "")
	for _, want := range []string{
		`orgsync_scim_requests_total{code="200",endpoint="Users",method="GET"} 1`,
		`orgsync_scim_requests_total{code="400",endpoint="Users",method="POST"} 1`,
		`orgsync_scim_requests_total{code="401",endpoint="Groups",method="GET"} 1`,
		`orgsync_scim_request_duration_seconds_count{endpoint="Users",method="GET"} 1`,
		`orgsync_scim_token_expiry_timestamp_seconds{description="okta",org="acme",token_id="` + rec.ID + `"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
