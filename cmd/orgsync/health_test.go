package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
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
