package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestReconcileNotifiesAWebhook runs a reconcile whose source cannot be
// read: the failed run reaches a local webhook receiver, in both formats,
// and neither the log nor the report shows the webhook's URL.
func TestReconcileNotifiesAWebhook(t *testing.T) {
	var mu sync.Mutex
	got := map[string][]byte{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got[r.URL.Path] = b
		mu.Unlock()
	}))
	defer srv.Close()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	ldapURL := "ldap://" + closed.Addr().String()
	closed.Close()
	urlFile := filepath.Join(t.TempDir(), "slack-url")
	os.WriteFile(urlFile, []byte(srv.URL+"/slack/T0/B0/hooksecret\n"), 0o600)

	cfg := ldapConfig(t, ldapURL, "{}")
	f, _ := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`notifications:
  - {name: ops, url: "` + srv.URL + `/json/jsonsecret", on: [failed, blocked]}
  - {name: chat, url_file: ` + urlFile + `, format: slack, orgs: [acme]}
  - {name: other-org, url: "` + srv.URL + `/beta", orgs: [beta]}
`)
	f.Close()

	code, out, errOut := cli(t, cfg, "reconcile", "--source", "corp-ldap")
	if code != 1 {
		t.Fatalf("reconcile of an unreachable source: exit %d\n%s\n%s", code, out, errOut)
	}
	mu.Lock()
	defer mu.Unlock()
	var body map[string]any
	if err := json.Unmarshal(got["/json/jsonsecret"], &body); err != nil {
		t.Fatalf("the JSON webhook got %q: %v\n%s", got["/json/jsonsecret"], err, errOut)
	}
	if body["event"] != "run.failed" || body["source"] != "corp-ldap" || body["org"] != "acme" ||
		body["result"] != "failed" || body["error"] == "" || body["run_id"] == float64(0) {
		t.Errorf("JSON body = %v", body)
	}
	var slack map[string]string
	json.Unmarshal(got["/slack/T0/B0/hooksecret"], &slack)
	if !strings.Contains(slack["text"], "of source corp-ldap (org acme) failed") {
		t.Errorf("Slack body = %q", got["/slack/T0/B0/hooksecret"])
	}
	if _, ok := got["/beta"]; ok {
		t.Error("a webhook of another org was told")
	}
	for _, s := range []string{"jsonsecret", "hooksecret"} {
		if strings.Contains(out+errOut, s) {
			t.Errorf("the output shows a webhook URL (%s):\n%s\n%s", s, out, errOut)
		}
	}
}

func TestNotificationsConfigErrors(t *testing.T) {
	cfg := writeConfig(t, `notifications:
  - {name: a, url: "ftp://hooks.example.org/topsecret", format: xml, on: [applied], orgs: [nope]}
  - {name: a, url: "https://hooks.example.org/x", url_file: /run/secrets/x}
`)
	code, _, errOut := cli(t, cfg, "config", "validate")
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"notifications[0] (a): url: not an absolute http or https URL", "notifications[0] (a): format",
		"notifications[0] (a): on", `notifications[0] (a): orgs: "nope"`,
		`notifications[1] (a): name: "a" is used twice`, "notifications[1] (a): url and url_file",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("errors lack %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "topsecret") {
		t.Errorf("an error shows the URL:\n%s", errOut)
	}
}
