package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/orgsync/orgsync"
)

// ldapError is an error of the server or the connection, described for an
// operator: the result code in words and number, the server's message, and
// the config keys that are the likely fix.
type ldapError struct {
	op   string // what we were doing, e.g. `bind as "cn=sync,…"`
	err  error  // the underlying error
	hint string // e.g. "check ldap.bind_dn / ldap.bind_password"
	kind error  // an orgsync error kind, or nil
}

func (e *ldapError) Error() string {
	msg := e.op + ": " + describe(e.err)
	if e.hint != "" {
		msg += ": " + e.hint
	}
	return msg
}

func (e *ldapError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.err}
	}
	return []error{e.err, e.kind}
}

// resultCode returns the LDAP result code of err, or -1.
func resultCode(err error) int {
	var le *goldap.Error
	if errors.As(err, &le) && le.ResultCode != goldap.ErrorNetwork {
		return int(le.ResultCode)
	}
	return -1
}

// describe renders err without go-ldap's packet-level noise.
func describe(err error) string {
	var le *goldap.Error
	if errors.As(err, &le) {
		if le.ResultCode >= goldap.ErrorNetwork { // client-side codes
			if le.Err != nil {
				return describe(le.Err)
			}
			return strings.ToLower(goldap.LDAPResultCodeMap[le.ResultCode])
		}
		name, ok := goldap.LDAPResultCodeMap[le.ResultCode]
		if !ok {
			name = "unknown result"
		}
		msg := fmt.Sprintf("%s (LDAP result %d)", strings.ToLower(name), le.ResultCode)
		if diag := diagnostic(le); diag != "" {
			msg += ": server says " + diag
		}
		if le.MatchedDN != "" {
			msg += fmt.Sprintf(" (matched DN %q)", le.MatchedDN)
		}
		return msg
	}
	var host x509.HostnameError
	if errors.As(err, &host) {
		return fmt.Sprintf("TLS certificate name mismatch: %v (connect by a name the certificate holds, or set ldap.insecure_skip_verify for tests only)", host)
	}
	var unknown x509.UnknownAuthorityError
	if errors.As(err, &unknown) {
		return fmt.Sprintf("TLS certificate signed by an unknown authority: %v (set ldap.ca_file to the directory's CA)", unknown)
	}
	var verify *tls.CertificateVerificationError
	if errors.As(err, &verify) {
		return fmt.Sprintf("TLS certificate not trusted: %v (check ldap.ca_file)", verify.Err)
	}
	// go-ldap's StartTLS flattens the handshake error into text.
	switch msg := err.Error(); {
	case strings.Contains(msg, "x509: certificate is valid for") || strings.Contains(msg, "x509: certificate is not valid for"):
		return fmt.Sprintf("TLS certificate name mismatch: %s (connect by a name the certificate holds, or set ldap.insecure_skip_verify for tests only)", msg)
	case strings.Contains(msg, "x509: certificate signed by unknown authority"):
		return fmt.Sprintf("TLS certificate signed by an unknown authority: %s (set ldap.ca_file to the directory's CA)", msg)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	if errors.Is(err, context.Canceled) {
		return "cancelled"
	}
	return err.Error()
}

// diagnostic extracts the server's diagnostic message from a go-ldap error,
// Go-quoted when it holds a control or format character: it is the
// server's text, and goes into reports and onto terminals.
func diagnostic(le *goldap.Error) string {
	if le.Err == nil {
		return ""
	}
	d := strings.TrimSpace(le.Err.Error())
	if strings.IndexFunc(d, func(r rune) bool { return r != ' ' && !unicode.IsPrint(r) }) >= 0 || !utf8.ValidString(d) {
		return strconv.Quote(d)
	}
	return d
}

// bindError explains a failed bind.
func bindError(dn string, err error) error {
	e := &ldapError{op: fmt.Sprintf("bind as %q", dn), err: err}
	if dn == "" {
		e.op = "anonymous bind"
	}
	switch resultCode(err) {
	case goldap.LDAPResultInvalidCredentials:
		e.hint, e.kind = "check ldap.bind_dn / ldap.bind_password", orgsync.ErrUnauthorized
	case goldap.LDAPResultStrongAuthRequired, goldap.LDAPResultConfidentialityRequired:
		e.hint = "the server wants an encrypted connection: use an ldaps:// ldap.url or ldap.start_tls"
	case goldap.LDAPResultInappropriateAuthentication:
		e.hint = "check ldap.bind_dn / ldap.bind_password (anonymous or empty-password binds are refused)"
	default:
		e.hint = "check ldap.bind_dn / ldap.bind_password"
	}
	return e
}

// searchError explains a failed search of base (config key key) after n
// entries of that search had arrived.
func searchError(key, base string, n int, err error) error {
	e := &ldapError{op: fmt.Sprintf("search ldap.%s %q", key, base), err: err}
	if n > 0 {
		e.op += fmt.Sprintf(" (after %d entries)", n)
	}
	switch resultCode(err) {
	case goldap.LDAPResultNoSuchObject:
		e.hint, e.kind = fmt.Sprintf("check ldap.%s: the base DN does not exist", key), orgsync.ErrNotFound
	case goldap.LDAPResultSizeLimitExceeded:
		e.hint = "the server caps the number of entries for this account: give ldap.bind_dn an unlimited size limit; nothing was synced"
	case goldap.LDAPResultTimeLimitExceeded:
		e.hint = "the server's time limit was hit: raise it for ldap.bind_dn or ldap.search_timeout, or narrow the filter; nothing was synced"
	case goldap.LDAPResultReferral:
		e.hint = fmt.Sprintf("the server refers this search to another server: point ldap.url at the server holding ldap.%s", key)
	case goldap.LDAPResultInsufficientAccessRights:
		e.hint = "ldap.bind_dn may not read this subtree"
	case goldap.LDAPResultUnavailableCriticalExtension:
		e.hint = "the server does not support the paged-results control"
	case goldap.LDAPResultFilterError:
		e.hint = "check the filters in ldap.user / ldap.group"
	default:
		if errors.Is(err, context.DeadlineExceeded) {
			e.hint = "raise ldap.search_timeout or narrow the filter"
		}
	}
	return e
}
