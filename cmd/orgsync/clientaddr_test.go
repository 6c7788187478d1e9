package main

import (
	"net/http"
	"testing"
)

func TestClientAddr(t *testing.T) {
	trusted, err := parsePrefixes([]string{"10.0.0.0/8", "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, remote, xff, want string
		trusted                 bool
	}{
		{"no proxies configured", "10.1.2.3:5555", "203.0.113.9", "10.1.2.3", false},
		{"untrusted peer's header ignored", "198.51.100.4:5555", "203.0.113.9", "198.51.100.4", true},
		{"trusted proxy", "10.1.2.3:5555", "203.0.113.9", "203.0.113.9", true},
		{"forged left-most entry ignored", "10.1.2.3:5555", "1.1.1.1, 203.0.113.9", "203.0.113.9", true},
		{"chain of trusted proxies", "10.1.2.3:5555", "203.0.113.9, 192.0.2.7, 10.9.9.9", "203.0.113.9", true},
		{"malformed chain", "10.1.2.3:5555", "203.0.113.9, not-an-ip", "10.1.2.3", true},
		{"no header", "10.1.2.3:5555", "", "10.1.2.3", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			list := trusted
			if !tt.trusted {
				list = nil
			}
			if got := clientAddr(list)(r); got != tt.want {
				t.Fatalf("clientAddr = %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := parsePrefixes([]string{"10.0.0.0/33"}); err == nil {
		t.Fatal("bad CIDR accepted")
	}
}
