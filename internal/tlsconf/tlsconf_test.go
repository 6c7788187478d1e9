package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned returns a PEM CA certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, cn string) (certPEM []byte, cert tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestCertPool(t *testing.T) {
	dir := t.TempDir()
	caA, _ := selfSigned(t, "a")
	caB, _ := selfSigned(t, "b")
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name    string
		file    string
		certs   int    // certificates in the pool
		wantErr string // empty: no error
	}{
		{"one certificate", write("one.pem", caA), 1, ""},
		{"two certificates", write("two.pem", append(append([]byte{}, caA...), caB...)), 2, ""},
		{"certificate after text", write("text.pem", append([]byte("issuer: a\n"), caA...)), 1, ""},
		{"empty file", write("empty.pem", nil), 0, "empty.pem: no PEM certificate found"},
		{"not PEM", write("ca.txt", []byte("not a certificate\n")), 0, "ca.txt: no PEM certificate found"},
		{"a key, no certificate", write("key.pem", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte("secret-bytes")})),
			0, "key.pem: no PEM certificate found"},
		{"missing file", filepath.Join(dir, "missing.pem"), 0, "missing.pem: no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool, err := CertPool(tc.file)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("CertPool = %v, want an error with %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "secret-bytes") || strings.Contains(err.Error(), "not a certificate") {
					t.Errorf("the error shows the file's content: %v", err)
				}
				if pool != nil {
					t.Errorf("a pool came back with the error")
				}
				return
			}
			if err != nil {
				t.Fatalf("CertPool: %v", err)
			}
			// Subjects is deprecated for system pools only; this one is ours.
			if n := len(pool.Subjects()); n != tc.certs {
				t.Errorf("pool holds %d certificates, want %d", n, tc.certs)
			}
		})
	}
}

// TestCertPoolTrustsOnlyTheFile: a client using the pool connects to a
// server whose certificate the file holds, and refuses one it does not.
func TestCertPoolTrustsOnlyTheFile(t *testing.T) {
	caPEM, cert := selfSigned(t, "trusted")
	_, other := selfSigned(t, "other")
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	pool, err := CertPool(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cert tls.Certificate
		ok   bool
	}{{"the file's certificate", cert, true}, {"another certificate", other, false}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{tc.cert}}
			srv.StartTLS()
			defer srv.Close()
			c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
			resp, err := c.Get(srv.URL)
			if resp != nil {
				resp.Body.Close()
			}
			if (err == nil) != tc.ok {
				t.Errorf("GET: %v, want success %v", err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "unknown authority") {
				t.Errorf("GET failed for another reason: %v", err)
			}
		})
	}
}
