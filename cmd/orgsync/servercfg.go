package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/orgsync/orgsync"
)

// ServerConfig is the HTTP side of serve: SCIM, admin API, metrics.
type ServerConfig struct {
	Listen    string `yaml:"listen"`
	PublicURL string `yaml:"public_url"`
	// AdminToken guards /api/v1 (not SCIM, which takes per-org tokens).
	// Only serve reads it (see adminToken).
	AdminToken     orgsync.Secret `yaml:"admin_token"`
	AdminTokenFile string         `yaml:"admin_token_file"`
	// TrustedProxies are the reverse proxies (addresses or CIDRs) whose
	// X-Forwarded-For names the client, for the failed-auth limit. They
	// are parsed as the config is decoded.
	TrustedProxies []Prefix `yaml:"trusted_proxies"`
	TLSCertFile    string   `yaml:"tls_cert_file"`
	TLSKeyFile     string   `yaml:"tls_key_file"`
	// Timeouts and limits that keep slow or huge requests from tying the
	// server up.
	ReadHeaderTimeout orgsync.Duration `yaml:"read_header_timeout"`
	ReadTimeout       orgsync.Duration `yaml:"read_timeout"`
	WriteTimeout      orgsync.Duration `yaml:"write_timeout"`
	IdleTimeout       orgsync.Duration `yaml:"idle_timeout"`
	ShutdownTimeout   orgsync.Duration `yaml:"shutdown_timeout"`
	MaxBodyBytes      int64            `yaml:"max_body_bytes"`
	// MaxConnections bounds the connections held at once, and
	// MaxConnectionsPerClient those of one client address (IPv6: /64;
	// trusted_proxies are bound by the total only). Past them the oldest
	// idle connection is closed, or the new one when none is idle.
	MaxConnections          int `yaml:"max_connections"`
	MaxConnectionsPerClient int `yaml:"max_connections_per_client"`
}

// Prefix is one entry of server.trusted_proxies: a CIDR, or a single
// address (its /32 or /128).
type Prefix struct{ netip.Prefix }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Prefix) UnmarshalText(b []byte) error {
	v, err := parsePrefix(string(b))
	if err != nil {
		return err
	}
	p.Prefix = v
	return nil
}

// MarshalText prints the prefix as its CIDR.
func (p Prefix) MarshalText() ([]byte, error) { return []byte(p.Prefix.String()), nil }

// parsePrefix reads a CIDR or a single address.
func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR", s)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// trustedProxies are server.trusted_proxies as address ranges.
func (s *ServerConfig) trustedProxies() []netip.Prefix {
	out := make([]netip.Prefix, len(s.TrustedProxies))
	for i, p := range s.TrustedProxies {
		out[i] = p.Prefix
	}
	return out
}

func (s *ServerConfig) setDefaults() {
	if s.Listen == "" {
		s.Listen = "127.0.0.1:8080"
	}
	if s.PublicURL == "" {
		scheme := "http"
		if s.TLSCertFile != "" {
			scheme = "https"
		}
		s.PublicURL = scheme + "://" + s.Listen
	}
	s.PublicURL = strings.TrimRight(s.PublicURL, "/")
	setDuration(&s.ReadHeaderTimeout, 10*time.Second)
	setDuration(&s.ReadTimeout, 30*time.Second)
	setDuration(&s.WriteTimeout, 60*time.Second)
	setDuration(&s.IdleTimeout, 120*time.Second)
	setDuration(&s.ShutdownTimeout, 20*time.Second)
	if s.MaxBodyBytes == 0 {
		s.MaxBodyBytes = 1 << 20
	}
	if s.MaxConnections == 0 {
		s.MaxConnections = 4096
	}
	if s.MaxConnectionsPerClient == 0 {
		s.MaxConnectionsPerClient = min(128, s.MaxConnections)
	}
}

// setDuration sets an unset duration to v.
func setDuration(d *orgsync.Duration, v time.Duration) {
	if *d == 0 {
		*d = orgsync.Duration(v)
	}
}

// validate lists every problem but the admin token's (see adminToken).
func (s *ServerConfig) validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(s.Listen); err != nil {
		errs = append(errs, fmt.Errorf("server.listen: %q is not host:port", s.Listen))
	}
	if u, err := url.Parse(s.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("server.public_url: %q is not an absolute http(s) URL", s.PublicURL))
	}
	if s.AdminToken != "" && s.AdminTokenFile != "" {
		errs = append(errs, errors.New("server.admin_token: both a value and a file are set"))
	}
	if (s.TLSCertFile == "") != (s.TLSKeyFile == "") {
		errs = append(errs, errors.New("server.tls_cert_file and server.tls_key_file: set both or neither"))
	}
	for _, d := range []struct {
		name string
		v    orgsync.Duration
	}{{"read_header_timeout", s.ReadHeaderTimeout}, {"read_timeout", s.ReadTimeout}, {"write_timeout", s.WriteTimeout},
		{"idle_timeout", s.IdleTimeout}, {"shutdown_timeout", s.ShutdownTimeout}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("server.%s: must be positive", d.name))
		}
	}
	if s.MaxBodyBytes < 1024 {
		errs = append(errs, errors.New("server.max_body_bytes: must be at least 1024"))
	}
	if s.MaxConnections < 16 {
		errs = append(errs, errors.New("server.max_connections: must be at least 16"))
	}
	if s.MaxConnectionsPerClient < 1 || s.MaxConnectionsPerClient > s.MaxConnections {
		errs = append(errs, fmt.Errorf("server.max_connections_per_client: must be between 1 and server.max_connections (%d)", s.MaxConnections))
	}
	return errors.Join(errs...)
}

// adminToken reads the admin token (from its file) and checks it: "" when
// none is set.
func (s *ServerConfig) adminToken() (orgsync.Secret, error) {
	tok, err := orgsync.ResolveSecret(s.AdminToken, s.AdminTokenFile)
	switch {
	case s.AdminToken != "" && s.AdminTokenFile != "":
		return "", nil // validate says so
	case err != nil:
		return "", fmt.Errorf("server.admin_token: %v", err)
	case tok != "" && len(tok.Reveal()) < 16:
		return "", errors.New("server.admin_token: must be at least 16 characters")
	}
	return tok, nil
}
