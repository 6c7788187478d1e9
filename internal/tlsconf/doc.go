// Package tlsconf holds the TLS settings the sources and targets share: today, reading
// a ca_file into the certificate pool a client trusts.
//
// Contract: CertPool reads one file of PEM certificates; it fails when the
// file cannot be read or holds no PEM certificate, and its error names the
// file but never its content. Callers prefix the error with their config
// key (ldap.ca_file, scim.ca_file, tls.ca_file). Standard library only.
package tlsconf
