package tlsconf

import (
	"crypto/x509"
	"fmt"
	"os"
)

// CertPool returns a pool holding the PEM certificates in file, for a
// tls.Config's RootCAs. Only these certificates are trusted then, not the
// system's: a ca_file names the one authority a directory or IdP uses.
func CertPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate found", file)
	}
	return pool, nil
}
