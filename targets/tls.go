package targets

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/orgsync/orgsync/internal/tlsconf"
)

// TLSConfig is how a target's HTTPS server is verified: the `tls:` block
// of a target and of its setup_status. Certificates are verified against
// the system roots unless CAFile names the only CAs to trust;
// InsecureSkipVerify turns verification off (a warning at every open).
type TLSConfig struct {
	// CAFile is a PEM file of the CAs to trust instead of the system's.
	CAFile string `yaml:"ca_file"`
	// InsecureSkipVerify accepts any certificate: for tests only.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// ServerName is the name the certificate must hold, when it is not
	// the URL's host (a KMS reached by IP or through a tunnel).
	ServerName string `yaml:"server_name"`
}

// validate reports the problems of t under key ("tls", "setup_status.tls").
func (t TLSConfig) validate(key string) []error {
	var errs []error
	if t.CAFile != "" {
		if _, err := tlsconf.CertPool(t.CAFile); err != nil {
			errs = append(errs, fmt.Errorf("%s.ca_file: %v", key, err))
		}
	}
	if t.InsecureSkipVerify && (t.CAFile != "" || t.ServerName != "") {
		errs = append(errs, fmt.Errorf("%s.insecure_skip_verify: set together with ca_file or server_name, which it makes pointless", key))
	}
	return errs
}

// httpClient returns the client of one target URL verified as t says;
// certificate failures name key's settings in their error.
func (t TLSConfig) httpClient(key string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	if t.CAFile != "" {
		pool, err := tlsconf.CertPool(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%s.ca_file: %w", key, err)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{Timeout: 2 * time.Minute, Transport: hintTransport{rt: tr, key: key}, CheckRedirect: sameOriginOnly}, nil
}

// sameOriginOnly follows a redirect only within the origin (scheme, host
// and port) first asked. Go would carry the bearer token to another port
// or from https to http of one host, and re-send a login POST (the client
// secret in its body) on a 307 anywhere: a target API has no reason to
// send orgsync elsewhere.
func sameOriginOnly(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if a, b := req.URL, via[0].URL; !strings.EqualFold(a.Scheme, b.Scheme) || !strings.EqualFold(a.Host, b.Host) {
		return redirectError{fmt.Errorf("redirected to another origin (%s://%s), not followed: set url to where the target answers", req.URL.Scheme, req.URL.Host)}
	}
	return nil
}

// hintTransport adds the remedy to a certificate that failed verification:
// Go's message says what is wrong, not which setting to change.
type hintTransport struct {
	rt  http.RoundTripper
	key string
}

func (h hintTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := h.rt.RoundTrip(req)
	if err != nil {
		if hint := tlsHint(err, h.key); hint != "" {
			return nil, &CertError{err: err, hint: hint}
		}
	}
	return resp, err
}

// CertError is a server certificate orgsync did not trust, with the
// setting that would make it trusted. It is never worth a retry.
type CertError struct {
	err  error
	hint string
}

func (e *CertError) Error() string { return e.err.Error() + " (" + e.hint + ")" }
func (e *CertError) Unwrap() error { return e.err }

// Hint is the setting to change.
func (e *CertError) Hint() string { return e.hint }

// Permanent tells the SCIM client not to retry: the next attempt meets the
// same certificate.
func (e *CertError) Permanent() bool { return true }

// redirectError is a refused redirect: a retry would be refused too.
type redirectError struct{ error }

func (redirectError) Permanent() bool { return true }

func tlsHint(err error, key string) string {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		return fmt.Sprintf("the certificate is signed by a CA orgsync does not trust: set %s.ca_file to that CA's PEM file", key)
	case errors.As(err, &host):
		return fmt.Sprintf("the certificate does not hold the URL's host name: use a name it holds, or set %s.server_name", key)
	case errors.As(err, &invalid):
		return fmt.Sprintf("the certificate is not valid (expired, or not for a server): renew it on the target, or check %s.ca_file", key)
	}
	return ""
}
