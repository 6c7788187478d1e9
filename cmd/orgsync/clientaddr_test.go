package main

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	var trusted []netip.Prefix
	for _, s := range []string{"10.0.0.0/8", "192.0.2.7"} {
		p, err := parsePrefix(s)
		if err != nil {
			t.Fatal(err)
		}
		trusted = append(trusted, p)
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
		{"malformed hop is not the proxy", "10.1.2.3:5555", "203.0.113.9, not-an-ip", malformedForwarded, true},
		{"unknown hop", "10.1.2.3:5555", "unknown", malformedForwarded, true},
		{"malformed hop left of the client ignored", "10.1.2.3:5555", "junk, 203.0.113.9", "203.0.113.9", true},
		{"ipv4 hop with port", "10.1.2.3:5555", "203.0.113.9:4711", "203.0.113.9", true},
		{"ipv6 hop with port", "10.1.2.3:5555", "[2001:db8::5]:443", "2001:db8::5", true},
		{"bracketed ipv6 hop", "10.1.2.3:5555", "[2001:db8::5]", "2001:db8::5", true},
		{"quoted hop", "10.1.2.3:5555", `"[2001:db8::5]:443"`, "2001:db8::5", true},
		{"mapped ipv4 hop", "10.1.2.3:5555", "::ffff:203.0.113.9", "203.0.113.9", true},
		{"trusted proxy hop with port", "10.1.2.3:5555", "203.0.113.9, 10.9.9.9:80", "203.0.113.9", true},
		{"empty hops skipped", "10.1.2.3:5555", "203.0.113.9,, ", "203.0.113.9", true},
		{"every hop trusted", "10.1.2.3:5555", "10.7.7.7, 10.9.9.9", "10.7.7.7", true},
		{"no header", "10.1.2.3:5555", "", "10.1.2.3", true},
		{"mapped trusted peer", "[::ffff:10.1.2.3]:5555", "203.0.113.9", "203.0.113.9", true},
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
	if _, err := parsePrefix("10.0.0.0/33"); err == nil {
		t.Fatal("bad CIDR accepted")
	}
}
