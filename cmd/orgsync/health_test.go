package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestHealthcheckCommand(t *testing.T) {
	base, _, stop := startServe(t, writeConfig(t, ""))
	defer stop()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedURL := "http://" + closed.Addr().String() + "/healthz"
	closed.Close()

	tests := []struct {
		name, url string
		code      int
	}{
		{"serve answers", base + "/healthz", 0},
		{"server says 503", failing.URL + "/healthz", 1},
		{"nothing listens", closedURL, 1},
		{"not a URL", "::", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := cli(t, "", "healthcheck", "--url", tt.url, "--timeout", "2s")
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.code, errOut)
			}
			if tt.code != 0 && errOut == "" {
				t.Error("a failed check says nothing on stderr")
			}
		})
	}
}

// TestServeIgnoresSIGHUP: a hang-up (a closed terminal, systemctl reload)
// is logged, and serve keeps answering.
func TestServeIgnoresSIGHUP(t *testing.T) {
	cfg := writeConfig(t, "")
	body, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(body), "level: error", "level: warn", 1)), 0o600)
	base, _, logs, stop := startServeLogged(t, cfg)
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "SIGHUP ignored") {
		if time.Now().After(deadline) {
			t.Fatalf("no log line for SIGHUP:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, _ := do(t, "GET", base+"/healthz", "", ""); code != 200 {
		t.Fatalf("/healthz after SIGHUP: %d", code)
	}
}
